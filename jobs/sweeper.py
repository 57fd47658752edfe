"""The sweeper: runs every second (in the ticker thread of whichever worker holds the ticker
lock, see :mod:`jobs.worker`) and puts back on the queue whatever is due in the database, so
work that Redis lost, or that a killed worker held, is still done.

Schedules live in SQL, so nothing here depends on RQ's scheduler: a retry whose time has
come is queued by the next sweep, even when no scheduler is alive anywhere.
"""

from __future__ import annotations

from datetime import datetime

from app.queue import enqueue_after_commit
from app.redis import get_redis
from app.services import documents, outbox, tasks, workflows
from app.services.journeys import abandoning as journeys_abandoning
from app.services.signing import reminders as sign_reminders
from jobs.maintenance import HOUSEKEEPING_EVERY_SECONDS
from models import db, utcnow

RUN_DUE_JOB_ID = "portico-run-due"
#: Set for an hour when housekeeping is queued: one worker of all queues it, once an hour.
HOUSEKEEPING_KEY = "portico-housekeeping"
#: Set (for two days) when the day's daily job is queued: one sweep of all, per office day.
DAILY_KEY = "portico-daily:{day}"


def sweep(now: datetime | None = None, *, judge_workers: bool = True) -> dict[str, int]:
    """``judge_workers``: also take back what dead workers held (judged by their heartbeat);
    off right after Redis came back, while every heartbeat is old."""
    now = now or utcnow()
    result = {
        "workflow_claims_released": workflows.release_stale_claims(now, judge_workers=judge_workers)
    }
    if workflows.has_due(now):
        # One batch job at a time (fixed id); it loops while rows are due.
        enqueue_after_commit("jobs.workflows.run_due", queue="workflow", job_id=RUN_DUE_JOB_ID)
        result["workflow_batches_queued"] = 1
    db.session.commit()  # the batch is on its way before the rest of the sweep
    result["unknown_outcomes"] = outbox.mark_unknown_outcomes(now, judge_workers=judge_workers)
    result["messages_resumed"] = outbox.resume_after_outage(now)
    result["messages_requeued"] = outbox.requeue_due(now)
    result["reminders_sent"] = tasks.send_due_reminders(now)
    result["sign_reminders_sent"] = sign_reminders.send_due(now)
    result["sign_requests_expired"] = sign_reminders.expire_due(now)
    result["journeys_abandoned"] = journeys_abandoning.sweep(now)
    if get_redis().set(HOUSEKEEPING_KEY, "1", nx=True, ex=HOUSEKEEPING_EVERY_SECONDS):
        enqueue_after_commit("jobs.maintenance.housekeeping", queue="default")
        result["housekeeping_queued"] = 1
    today = documents.office_today()
    if get_redis().set(DAILY_KEY.format(day=today.isoformat()), "1", nx=True, ex=2 * 86400):
        enqueue_after_commit("jobs.maintenance.daily", today.isoformat(), queue="default")
        result["daily_queued"] = 1
    db.session.commit()
    return result
