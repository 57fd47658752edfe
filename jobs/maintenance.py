"""Housekeeping jobs."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import text

from app.services import contact_changes, one_time_codes, sessions
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
