"""Fields admins add to records without code, and their values."""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import LabelledEnum, TimestampMixin, db, str_enum


class CustomFieldType(LabelledEnum):
    TEXT = "text", "Text"
    LONG_TEXT = "long_text", "Long text"
    NUMBER = "number", "Number"
    DATE = "date", "Date"
    YES_NO = "yes_no", "Yes / no"
    CHOICE = "choice", "Choice"
    EMAIL = "email", "Email address"
    PHONE = "phone", "Phone number"


class CustomField(TimestampMixin, db.Model):
    __tablename__ = "custom_fields"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Stable identifier (lower-case, digits, underscores); never changes after creation.
    key: Mapped[str] = mapped_column(String(60), unique=True, nullable=False)
    label: Mapped[str] = mapped_column(String(120), nullable=False)
    field_type: Mapped[CustomFieldType] = mapped_column(
        str_enum(CustomFieldType, 16), nullable=False
    )
    #: Must be filled on the record (staff forms) and when shown in the portal.
    required: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    #: Type settings: min, max, max_length, pattern, pattern_message, options.
    settings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, nullable=False)
    help_text: Mapped[str] = mapped_column(Text, default="", nullable=False)
    #: Archived fields keep their values but show nowhere.
    archived: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)

    def __str__(self) -> str:
        return self.label


class CustomFieldValue(db.Model):
    """A record's value for a custom field, stored as text in the type's canonical form."""

    __tablename__ = "custom_field_values"
    __table_args__ = (UniqueConstraint("record_id", "custom_field_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    record_id: Mapped[int] = mapped_column(
        ForeignKey("records.id", ondelete="CASCADE"), index=True, nullable=False
    )
    custom_field_id: Mapped[int] = mapped_column(
        ForeignKey("custom_fields.id", ondelete="RESTRICT"), index=True, nullable=False
    )
    custom_field: Mapped[CustomField] = relationship()
    value: Mapped[str] = mapped_column(Text, nullable=False)
