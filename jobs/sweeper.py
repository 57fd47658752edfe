"""The sweeper: runs every second or so (the worker's ticker enqueues it) and puts back on the
queue whatever is due in the database, so work that Redis lost is still done."""

from __future__ import annotations

from datetime import datetime

from app.services import outbox
from models import db, utcnow


def sweep(now: datetime | None = None) -> dict[str, int]:
    now = now or utcnow()
    result = {
        "stale_claims_failed": outbox.fail_stale_claims(now),
        "messages_requeued": outbox.requeue_due(now),
    }
    db.session.commit()
    return result
