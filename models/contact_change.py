"""A change of an address or number someone signs in with, waiting for its one-time code.

The email address and the mobile number a portal account receives sign-in codes at are keys to
the account. A client who changes one in the portal proves the new one is theirs first: the
change waits here, with a code sent to the new address or number, and only a correct code
applies it (or hands it to staff, for fields that need approval)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import UTCDateTime, db, str_enum
from models.template import Channel

if TYPE_CHECKING:
    from models.portal_account import PortalAccount


class ContactChange(db.Model):
    __tablename__ = "portal_contact_changes"
    __table_args__ = (Index("ix_portal_contact_changes_open", "account_id", "confirmed_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The account that asked, and the only one that may confirm.
    account_id: Mapped[int] = mapped_column(
        ForeignKey("portal_accounts.id", ondelete="CASCADE"), nullable=False
    )
    account: Mapped[PortalAccount] = relationship()
    record_id: Mapped[int] = mapped_column(
        ForeignKey("records.id", ondelete="CASCADE"), index=True, nullable=False
    )
    #: The portal field's key (``email``, ``mobile``, ``co_applicant_phone``).
    field_key: Mapped[str] = mapped_column(String(80), nullable=False)
    field_label: Mapped[str] = mapped_column(String(120), nullable=False)
    section: Mapped[str] = mapped_column(String(40), nullable=False)
    #: Where the code went: the new address (email) or number (SMS).
    channel: Mapped[Channel] = mapped_column(str_enum(Channel, 8), nullable=False)
    new_value: Mapped[str] = mapped_column(String(255), nullable=False)
    new_display: Mapped[str] = mapped_column(Text, default="", nullable=False)
    code_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    attempts: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    max_attempts: Mapped[int] = mapped_column(Integer, nullable=False)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Replaced by a newer change of the same field, cancelled, or out of attempts.
    superseded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
