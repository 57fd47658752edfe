"""Housekeeping jobs."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import text

from app.services import contact_changes, one_time_codes, sessions
from app.services.certificates import masters as certificate_masters
from models import db, utcnow

#: How long ended sessions, expired codes and settled sign-in contact changes are kept.
KEEP_FOR = timedelta(days=30)
#: The sweeper queues housekeeping at most this often (one worker of all, by a Redis key).
HOUSEKEEPING_EVERY_SECONDS = 3600


def ping(value: str = "pong") -> dict[str, str]:
    """Round trip through a worker and the database; used by tests and by operators."""
    db.session.execute(text("SELECT 1"))
    return {"value": value}


def housekeeping(now: datetime | None = None) -> dict[str, int]:
    """Forget what nobody needs any more, so these tables do not grow for ever: sessions ended
    or unused for :data:`KEEP_FOR`, and sign-in codes and contact changes expired that long
    ago. What happened stays in the activity log."""
    cutoff = (now or utcnow()) - KEEP_FOR
    result = {
        "sessions_pruned": sessions.prune(cutoff),
        "codes_pruned": one_time_codes.prune(cutoff) + contact_changes.prune(cutoff),
    }
    db.session.commit()
    return result


def daily(day: str | None = None) -> dict[str, int]:
    """Once an office day (the sweeper queues it under a key per day, ``day`` as an ISO
    date): end the share of certificate masters whose last policy left force, logged per
    master. A client request ends such a share on the spot too; this catches the masters
    nobody opens."""
    today = date.fromisoformat(day) if day else None
    result = {"certificate_shares_ended": certificate_masters.end_lapsed_shares(today)}
    db.session.commit()
    return result
