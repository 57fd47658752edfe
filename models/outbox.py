"""Every email and text message is a row here before a worker delivers it."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import LabelledEnum, UTCDateTime, db, str_enum, utcnow
from models.template import Channel

if TYPE_CHECKING:
    from models.document import Document


class OutboxStatus(LabelledEnum):
    QUEUED = "queued", "Queued"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"
    #: The worker died mid-send: it may or may not have arrived. Sent again on its own, with
    #: the same Message-ID, so the recipient's mail program can tell it is the same message.
    UNKNOWN = "unknown", "May or may not have arrived"


class OutboxMessage(db.Model):
    """``idempotency_key`` is unique: asking twice to send the same thing adds nothing, and a
    delivery job that runs twice finds the row already claimed or sent."""

    __tablename__ = "outbox_messages"
    __table_args__ = (Index("ix_outbox_messages_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True, nullable=False)
    channel: Mapped[Channel] = mapped_column(str_enum(Channel, 8), nullable=False)
    recipient: Mapped[str] = mapped_column(String(255), nullable=False)
    recipient_name: Mapped[str | None] = mapped_column(String(160))
    reply_to: Mapped[str | None] = mapped_column(String(255))
    subject: Mapped[str] = mapped_column(String(255), default="", nullable=False)
    body_text: Mapped[str] = mapped_column(Text, nullable=False)
    body_html: Mapped[str | None] = mapped_column(Text)
    #: Carries a password, link or code: shown redacted to staff, and blanked once delivered.
    sensitive: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    record_id: Mapped[int | None] = mapped_column(
        ForeignKey("records.id", ondelete="SET NULL"), index=True
    )
    template_key: Mapped[str | None] = mapped_column(String(80))
    #: A document whose file goes with the email (a signed PDF). Sent without it, saying the
    #: file is in the portal, when the document or its file is gone or too large to attach.
    attachment_document_id: Mapped[int | None] = mapped_column(
        ForeignKey("documents.id", ondelete="SET NULL")
    )
    attachment_document: Mapped[Document | None] = relationship()
    #: The attached document's title when queued: still known once the document is deleted.
    attachment_title: Mapped[str | None] = mapped_column(String(200))
    event_key: Mapped[str | None] = mapped_column(String(80))
    status: Mapped[OutboxStatus] = mapped_column(
        str_enum(OutboxStatus, 16), default=OutboxStatus.QUEUED, nullable=False
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: The worker sending it: when that worker dies mid-send the outcome is unknown.
    claimed_by: Mapped[str | None] = mapped_column(String(120))
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: The provider's id for the message (SMTP Message-ID, Twilio SID, file name).
    provider_id: Mapped[str | None] = mapped_column(String(255))

    def __str__(self) -> str:
        return f"{self.channel.label} to {self.recipient}"
