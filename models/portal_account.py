"""Client access to the portal: one account per record (the primary applicant) or per contact
person, and the one-time sign-in codes sent by email or text."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import LabelledEnum, TimestampMixin, UTCDateTime, db, str_enum
from models.template import Channel

if TYPE_CHECKING:
    from models.contact import Contact
    from models.record import Record


class AccountStatus(LabelledEnum):
    INVITED = "invited", "Invited"
    ENABLED = "enabled", "Enabled"
    DISABLED = "disabled", "Disabled"


class PortalAccount(TimestampMixin, db.Model):
    """Secrets are stored hashed: the link token as SHA-256 (it has 256 bits of entropy), the
    password with argon2. ``generation`` goes up whenever access is re-issued or taken away;
    a portal session remembers the generation it started in and dies when it changes."""

    __tablename__ = "portal_accounts"
    __table_args__ = (
        Index(
            "uq_portal_accounts_primary",
            "record_id",
            unique=True,
            sqlite_where=text("contact_id IS NULL"),
            postgresql_where=text("contact_id IS NULL"),
        ),
        Index("ix_portal_accounts_email", "email"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    record_id: Mapped[int] = mapped_column(
        ForeignKey("records.id", ondelete="CASCADE"), index=True, nullable=False
    )
    record: Mapped[Record] = relationship()
    #: Set when the account belongs to a contact person rather than the primary applicant.
    contact_id: Mapped[int | None] = mapped_column(
        ForeignKey("contacts.id", ondelete="CASCADE"), unique=True
    )
    contact: Mapped[Contact | None] = relationship()
    status: Mapped[AccountStatus] = mapped_column(str_enum(AccountStatus, 16), nullable=False)
    #: Sign-in address, stored lower-case.
    email: Mapped[str | None] = mapped_column(String(255))
    generation: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    link_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    password_set_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    invitation_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    invitation_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    invited_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    enabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    failed_attempts: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def is_primary(self) -> bool:
        return self.contact_id is None

    @property
    def person_name(self) -> str:
        if self.contact is not None:
            return self.contact.full_name
        return self.record.full_name

    def __str__(self) -> str:
        return f"{self.person_name} ({self.status.label})"


class LoginCode(db.Model):
    """A 6-digit sign-in code for an email address or mobile number. Kept as an HMAC with the
    app's secret; single use; a newer code for the same address supersedes it."""

    __tablename__ = "portal_login_codes"
    __table_args__ = (Index("ix_portal_login_codes_lookup", "channel", "identifier", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[Channel] = mapped_column(str_enum(Channel, 8), nullable=False)
    #: Lower-case email address or E.164 phone number.
    identifier: Mapped[str] = mapped_column(String(255), nullable=False)
    code_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    attempts: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    max_attempts: Mapped[int] = mapped_column(Integer, nullable=False)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    superseded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
