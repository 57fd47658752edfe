"""Changes a client proposed to fields that need approval, waiting for staff."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import LabelledEnum, UTCDateTime, db, str_enum, utcnow
from models.record import Record


class ChangeStatus(LabelledEnum):
    PENDING = "pending", "Waiting for approval"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Not approved"
    SUPERSEDED = "superseded", "Replaced by a newer change"


class PendingChange(db.Model):
    __tablename__ = "pending_changes"
    __table_args__ = (Index("ix_pending_changes_open", "status", "record_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    record_id: Mapped[int] = mapped_column(
        ForeignKey("records.id", ondelete="CASCADE"), nullable=False
    )
    record: Mapped[Record] = relationship()
    field_key: Mapped[str] = mapped_column(String(80), nullable=False)
    field_label: Mapped[str] = mapped_column(String(120), nullable=False)
    #: What the field showed when the client proposed the change (display text).
    old_display: Mapped[str] = mapped_column(Text, default="", nullable=False)
    #: The proposed value, stored in the field type's canonical text form.
    new_value: Mapped[str | None] = mapped_column(Text)
    new_display: Mapped[str] = mapped_column(Text, default="", nullable=False)
    proposed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    proposed_by_account_id: Mapped[int | None] = mapped_column(Integer)
    proposed_by_label: Mapped[str] = mapped_column(String(200), nullable=False)
    status: Mapped[ChangeStatus] = mapped_column(
        str_enum(ChangeStatus, 16), default=ChangeStatus.PENDING, nullable=False
    )
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    #: Told to the client when a change is not approved.
    reason: Mapped[str | None] = mapped_column(Text)
    #: The client has seen the decision in the portal.
    acknowledged: Mapped[bool] = mapped_column(default=False, nullable=False)
