"""How each record field and custom field appears in the portal: the admin's configuration."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import LabelledEnum, TimestampMixin, db, str_enum

if TYPE_CHECKING:
    from models.custom_field import CustomField


class FieldMode(LabelledEnum):
    OPTIONAL = "optional", "Optional"
    MANDATORY = "mandatory", "Mandatory"
    READ_ONLY = "read_only", "Read-only"
    HIDDEN = "hidden", "Hidden"
    APPROVAL = "approval", "Needs approval"


class PortalField(TimestampMixin, db.Model):
    """One row per built-in field (``key`` from the registry in app/services/portal_fields)
    and per custom field (``key`` = ``custom_<key>``)."""

    __tablename__ = "portal_fields"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(80), unique=True, nullable=False)
    section: Mapped[str] = mapped_column(String(40), nullable=False)
    label: Mapped[str] = mapped_column(String(120), nullable=False)
    help_text: Mapped[str] = mapped_column(Text, default="", nullable=False)
    mode: Mapped[FieldMode] = mapped_column(str_enum(FieldMode, 16), nullable=False)
    position: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    custom_field_id: Mapped[int | None] = mapped_column(
        ForeignKey("custom_fields.id", ondelete="CASCADE"), unique=True
    )
    custom_field: Mapped[CustomField | None] = relationship()

    def __str__(self) -> str:
        return f"{self.label} ({self.mode.label})"
