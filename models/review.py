"""Reviews: a client's rating of the service (1 to 5) with an optional comment, and the
requests staff send asking for one (one answer each)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, ForeignKey, Integer, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import UTCDateTime, db, utcnow

if TYPE_CHECKING:
    from models.portal_account import PortalAccount
    from models.record import Record
    from models.user import User


class ReviewRequest(db.Model):
    """Staff asked the client for a review; open until one of the record's people answers."""

    __tablename__ = "review_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    record_id: Mapped[int] = mapped_column(
        ForeignKey("records.id", ondelete="CASCADE"), index=True, nullable=False
    )
    record: Mapped[Record] = relationship()
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    requested_by: Mapped[User | None] = relationship()
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Review(db.Model):
    __tablename__ = "reviews"
    __table_args__ = (CheckConstraint("rating BETWEEN 1 AND 5", name="rating_1_to_5"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    record_id: Mapped[int] = mapped_column(
        ForeignKey("records.id", ondelete="CASCADE"), index=True, nullable=False
    )
    record: Mapped[Record] = relationship()
    #: Who answered (the primary applicant or a contact with an account of their own).
    account_id: Mapped[int | None] = mapped_column(
        ForeignKey("portal_accounts.id", ondelete="SET NULL")
    )
    account: Mapped[PortalAccount | None] = relationship()
    rating: Mapped[int] = mapped_column(Integer, nullable=False)
    #: Plain text, as the client typed it.
    comment: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=utcnow, index=True, nullable=False
    )
    #: The request it answers (unique: one answer per request); None when unasked.
    review_request_id: Mapped[int | None] = mapped_column(
        ForeignKey("review_requests.id", ondelete="SET NULL"), unique=True
    )
    review_request: Mapped[ReviewRequest | None] = relationship()

    def __str__(self) -> str:
        return f"{self.rating}/5"
