"""The sweeper: runs every second or so (the worker's ticker enqueues it) and puts back on the
queue whatever is due in the database, so work that Redis lost is still done."""

from __future__ import annotations

from datetime import datetime

from app.queue import enqueue_after_commit
from app.services import outbox, tasks, workflows
from models import db, utcnow

RUN_DUE_JOB_ID = "portico-run-due"


def sweep(now: datetime | None = None) -> dict[str, int]:
    now = now or utcnow()
    result = {
        "stale_claims_failed": outbox.fail_stale_claims(now),
        "messages_requeued": outbox.requeue_due(now),
        "workflow_claims_released": workflows.release_stale_claims(now),
        "reminders_sent": tasks.send_due_reminders(now),
    }
    if workflows.has_due(now):
        # One batch job at a time (fixed id); it loops while rows are due.
        enqueue_after_commit("jobs.workflows.run_due", queue="workflow", job_id=RUN_DUE_JOB_ID)
        result["workflow_batches_queued"] = 1
    db.session.commit()
    return result
