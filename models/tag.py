"""Tags: an admin-managed list of labels that staff put on records."""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, Index, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import TimestampMixin, db

record_tags = Table(
    "record_tags",
    db.metadata,
    Column("record_id", ForeignKey("records.id", ondelete="CASCADE"), primary_key=True),
    Column("tag_id", ForeignKey("tags.id", ondelete="CASCADE"), primary_key=True),
    Index("ix_record_tags_tag_id", "tag_id"),
)


class Tag(TimestampMixin, db.Model):
    __tablename__ = "tags"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    #: A CSS colour (``#rrggbb``) for the tag's badge.
    colour: Mapped[str] = mapped_column(String(7), default="#6c757d", nullable=False)
    description: Mapped[str | None] = mapped_column(Text)

    def __str__(self) -> str:
        return self.name
