"""Signed-in browsers: one row per sign-in, to the portal or to the staff panel.

The browser's cookie carries a random session id; the table keeps only its SHA-256, so a copy of
the table signs no one in. Every request looks the row up by that hash: signing out, a password
reset or switching self service off ends the row, and a copied cookie stops working with it.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import UTCDateTime, db

if TYPE_CHECKING:
    from models.portal_account import PortalAccount


class SignInSession(db.Model):
    __tablename__ = "sign_in_sessions"
    __table_args__ = (
        CheckConstraint("(portal_account_id IS NULL) <> (user_id IS NULL)", name="one_owner"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: SHA-256 of the id in the browser's (signed) session cookie.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    #: Exactly one owner: a client's portal account or a staff user.
    portal_account_id: Mapped[int | None] = mapped_column(
        ForeignKey("portal_accounts.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    #: Refreshed at most once a minute, so a busy page does not write on every request.
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    ip: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(255))
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Why it ended: signed out, idle, expired, password changed, access ended, replaced.
    end_reason: Mapped[str | None] = mapped_column(String(32))

    #: The portal account it signs in, read with the session's row in one query on every
    #: portal request (``sessions.check(..., options=...)``); never written through here.
    portal_account: Mapped[PortalAccount | None] = relationship(viewonly=True)

    @property
    def active(self) -> bool:
        return self.ended_at is None
