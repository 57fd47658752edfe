"""Deliver one outbox message: claim (committed), send, record the outcome (committed, with
retries: a database that fails just after the send must not leave a delivered message looking
undelivered)."""

from __future__ import annotations

import logging
import time

from sqlalchemy.exc import SQLAlchemyError

from app.queue import current_worker_name
from app.services import outbox
from models import db

log = logging.getLogger(__name__)

#: Pauses between tries to record an outcome (about a minute in all). If every try fails the
#: row stays "sending" and the sweeper marks it of unknown outcome: it is sent again.
RECORD_RETRIES = (0.2, 0.5, 1, 2, 4, 8, 15, 30)


def deliver(message_id: int) -> str:
    message = outbox.claim(message_id, worker=current_worker_name())
    if message is None:
        db.session.rollback()
        return "skipped: already sent, being sent, or not due yet"
    claimed_at = message.claimed_at
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
            log.warning(
                "outbox message %s: recording its outcome failed (%s); again", message_id, exc
            )
            time.sleep(pause)
            continue
        return settled.status.value if settled is not None else "sent elsewhere meanwhile"
    raise AssertionError("unreachable")
