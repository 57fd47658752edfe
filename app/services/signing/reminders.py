"""What the sweeper does for signing, as pure functions of ``now``: remind the signers of
requests whose reminder is due, and expire requests past their last day. Each is one indexed
query when nothing is due (status with next_reminder_at, status with expires_at)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update

from app.services import events
from app.services.actors import Actor
from app.services.signing import sending
from models import OPEN_STATUSES, SignerStatus, SignRequest, SignRequestStatus, db

#: Requests handled per sweep; the rest wait for the next sweep (a second later).
BATCH = 100


def send_due(now: datetime) -> int:
    """Remind the signers whose turn it is on open requests whose reminder is due (and that
    have not expired); returns the number of emails."""
    due = db.session.scalars(
        select(SignRequest)
        .where(
            SignRequest.status.in_(OPEN_STATUSES),
            SignRequest.next_reminder_at <= now,
            SignRequest.expires_at > now,
        )
        .order_by(SignRequest.next_reminder_at)
        .limit(BATCH)
    ).all()
    emails = 0
    for request in due:
        # Claimed by moving its reminder on: a second sweeper at the same moment finds no row.
        claimed = db.session.execute(
            update(SignRequest)
            .where(
                SignRequest.id == request.id,
                SignRequest.next_reminder_at == request.next_reminder_at,
            )
            .values(next_reminder_at=sending.next_reminder(request, now))
            .execution_options(synchronize_session=False)
        )
        if claimed.rowcount == 1:  # type: ignore[attr-defined]
            emails += sending.remind(request, now)
    db.session.flush()
    return emails


def expire_due(now: datetime) -> int:
    """Open requests past their last day become EXPIRED: their open signers too, every link
    stops working, and the office hears (``sign_request.expired``). Returns how many."""
    due = db.session.scalars(
        select(SignRequest)
        .where(SignRequest.status.in_(OPEN_STATUSES), SignRequest.expires_at <= now)
        .order_by(SignRequest.expires_at)
        .limit(BATCH)
    ).all()
    expired = 0
    for request in due:
        claimed = db.session.execute(
            update(SignRequest)
            .where(SignRequest.id == request.id, SignRequest.status.in_(OPEN_STATUSES))
            .values(status=SignRequestStatus.EXPIRED)
            .execution_options(synchronize_session=False)
        )
        if claimed.rowcount != 1:  # type: ignore[attr-defined]
            continue
        request.status = SignRequestStatus.EXPIRED
        sending.close_signers(request, SignerStatus.EXPIRED)
        events.emit(
            "sign_request.expired",
            actor=Actor.system(),
            record=request.record,
            details={"document": request.title, "sign_request": request.id},
        )
        expired += 1
    db.session.flush()
    return expired
