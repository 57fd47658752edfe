"""Fire due workflow actions: claim a batch (committed), execute each, commit, repeat."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from datetime import datetime

from rq.timeouts import JobTimeoutException

from app.queue import current_worker_name
from app.services import notification_rules, workflows
from models import db, utcnow

log = logging.getLogger(__name__)

BATCH = 200
#: Stop after this long and let the next sweep carry on (keeps jobs short and fair).
TIME_BUDGET = 20.0
#: Pauses between tries to hand claims back while the database is failing.
HAND_BACK_RETRIES = (0.1, 0.5, 1, 2, 4)


def run_due(
    batch: int = BATCH, budget: float = TIME_BUDGET, now: datetime | None = None
) -> dict[str, int]:
    started = time.monotonic()
    counts: dict[str, int] = {}
    worker = current_worker_name()
    with notification_rules.cached_rules():
        while time.monotonic() - started < budget:
            moment = now or utcnow()
            claimed = workflows.claim_due(moment, batch, worker=worker)
            db.session.commit()  # the claim is durable before anything happens
            if not claimed:
                break
            try:
                # The queue's time limit ends the job; its claims are handed back too.
                outcome = workflows.execute_batch(claimed, moment, stop_on=(JobTimeoutException,))
                db.session.commit()
            except workflows.DATABASE_DOWN:
                _hand_back(claimed, moment, counted=False)
                raise
            except BaseException:
                _hand_back(claimed, moment, counted=True)
                raise
            for status, count in outcome.items():
                counts[status] = counts.get(status, 0) + count
    return counts


def _hand_back(claimed: Sequence[int], claimed_at: datetime, *, counted: bool) -> None:
    """The batch failed under us (the database, the time limit): give its claims back now,
    in a short transaction of their own, rather than after the stale-claim timeout."""
    db.session.rollback()
    for pause in (*HAND_BACK_RETRIES, None):
        try:
            released = workflows.hand_back(claimed, claimed_at, counted=counted)
            db.session.commit()
        except Exception as exc:
            db.session.rollback()
            if pause is None:
                log.warning("could not hand back %s claimed actions: %s", len(claimed), exc)
                return
            time.sleep(pause)
            continue
        log.warning("a batch failed; %s claimed actions handed back", released)
        return
