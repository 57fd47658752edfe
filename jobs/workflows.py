"""Fire due workflow actions: claim a batch (committed), execute each, commit, repeat."""

from __future__ import annotations

import time
from datetime import datetime

from rq.timeouts import JobTimeoutException

from app.services import events, workflows
from models import db, utcnow

BATCH = 200
#: Stop after this long and let the next sweep carry on (keeps jobs short and fair).
TIME_BUDGET = 20.0


def run_due(
    batch: int = BATCH, budget: float = TIME_BUDGET, now: datetime | None = None
) -> dict[str, int]:
    started = time.monotonic()
    counts: dict[str, int] = {}
    with events.cached_rules():
        while time.monotonic() - started < budget:
            moment = now or utcnow()
            claimed = workflows.claim_due(moment, batch)
            db.session.commit()  # the claim is durable before anything happens
            if not claimed:
                break
            # The queue's time limit ends the job; its claims are handed back later.
            outcome = workflows.execute_batch(claimed, moment, stop_on=(JobTimeoutException,))
            for status, count in outcome.items():
                counts[status] = counts.get(status, 0) + count
            db.session.commit()
    return counts
