"""Email and SMS templates, addressed by a stable system key."""

from __future__ import annotations

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import LabelledEnum, TimestampMixin, db, str_enum


class Channel(LabelledEnum):
    EMAIL = "email", "Email"
    SMS = "sms", "Text message"


class MessageTemplate(TimestampMixin, db.Model):
    """A template's ``key`` never changes: code and rules find it by key, people by name."""

    __tablename__ = "message_templates"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Stable address, e.g. ``portal.link``; system keys are in app/services/system_templates.
    key: Mapped[str] = mapped_column(String(80), unique=True, nullable=False)
    channel: Mapped[Channel] = mapped_column(str_enum(Channel, 8), nullable=False)
    name: Mapped[str] = mapped_column(String(120), nullable=False)
    #: Email subject (sandboxed Jinja); empty for SMS.
    subject: Mapped[str] = mapped_column(String(255), default="", nullable=False)
    #: Plain-text body (sandboxed Jinja); the HTML part of an email is made from it.
    body: Mapped[str] = mapped_column(Text, nullable=False)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    def __str__(self) -> str:
        return f"{self.name} ({self.key})"
