"""Deliver outbox messages: claim one (committed), send it, record the outcome (committed,
with retries: a database that fails just after the send must not leave a delivered message
looking undelivered); then the next due one of the channel, until none is left."""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime

from rq import get_current_job
from sqlalchemy.exc import SQLAlchemyError

from app.queue import current_worker_name, get_queue
from app.services import mail, outbox
from models import Channel, db, utcnow

log = logging.getLogger(__name__)

#: Pauses between tries to record an outcome (about a minute in all). If every try fails the
#: row stays "sending" and the sweeper marks it of unknown outcome: it is sent again.
RECORD_RETRIES = (0.2, 0.5, 1, 2, 4, 8, 15, 30)
#: A delivery job stops taking new messages after this long (the next sweep queues it again).
TIME_BUDGET = 10.0
#: Queues whose jobs a delivery job makes way for (they come first on every worker).
MAKES_WAY_FOR = ("workflow",)
#: ...once their job has waited this long (seconds): another worker would have taken it.
MAKE_WAY_AFTER = 0.5


def deliver_due(channel: str, budget: float = TIME_BUDGET) -> dict[str, int]:
    """Send every due message of ``channel``, one after another. It makes way (returns) when
    workflow work is waiting, so a long stream of mail never holds up due actions; the next
    sweep queues it again for what is left."""
    started = time.monotonic()
    counts: dict[str, int] = {}
    with mail.one_connection():
        while time.monotonic() - started < budget and not _more_urgent_work():
            message_id = outbox.next_due(Channel(channel))
            if message_id is None:
                db.session.rollback()
                break
            status = deliver(message_id)
            key = status if not status.startswith("skipped") else "skipped"
            counts[key] = counts.get(key, 0) + 1
    return counts


def _more_urgent_work() -> bool:
    """Workflow work has waited a second: no other worker is free to take it."""
    job = get_current_job()
    if job is None:
        return False
    for name in MAKES_WAY_FOR:
        waiting = get_queue(name, job.connection).get_jobs(0, 1)
        since = waiting[0].enqueued_at if waiting else None
        if since is not None and (utcnow() - _aware(since)).total_seconds() > MAKE_WAY_AFTER:
            return True
    return False


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def deliver(message_id: int) -> str:
    message = outbox.claim(message_id, worker=current_worker_name())
    if message is None:
        db.session.rollback()
        return "skipped: already sent, being sent, or not due yet"
    claimed_at = message.claimed_at
    # What is sent is the row as claimed: detached, the commit cannot expire it, so the send
    # reads nothing from the database. (A reload mid-send that met a failing database was
    # counted as a failed send: a try used up and a backoff that could outlast the outage.)
    db.session.expunge(message)
    db.session.commit()  # the claim is durable before anything leaves
    outcome = outbox.transmit(message)
    for pause in (*RECORD_RETRIES, None):
        try:
            settled = outbox.settle(message_id, claimed_at, outcome)
            db.session.commit()
        except SQLAlchemyError as exc:
            db.session.rollback()
            if pause is None:
                raise
            log.warning("outbox message %s: recording the outcome failed (%s)", message_id, exc)
            time.sleep(pause)
            continue
        return settled.status.value if settled is not None else "sent elsewhere meanwhile"
    raise AssertionError("unreachable")
