"""The one way services hand work to jobs: by reference, on a named queue, after commit.

Services call :func:`enqueue_after_commit` with a job's dotted path (``"jobs.email.deliver"``)
rather than importing the job, so jobs may import services without an import circle; the job
is pushed to Redis only once the transaction that produced its data has committed, and is
dropped if it rolls back. Queues are named by workload; :func:`get_queue` sets connection,
timeouts and failure TTL in one place.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask import current_app
from flask_sqlalchemy.session import Session
from rq import Queue, Retry, Worker
from rq.job import Job
from sqlalchemy import event

from app.redis import get_redis

log = logging.getLogger(__name__)

#: Queues by workload, in the order a worker serves them.
QUEUES = ("workflow", "email", "sms", "default")

DEFAULT_TIMEOUT = 300
FAILURE_TTL = 7 * 24 * 3600
RESULT_TTL = 24 * 3600
#: Retries with backoff for jobs that talk to the outside world.
DEFAULT_RETRY = Retry(max=5, interval=[10, 30, 120, 600, 1800])

_PENDING_KEY = "portico_pending_jobs"


@dataclass
class PendingJob:
    func: str
    args: tuple[Any, ...] = ()
    kwargs: dict[str, Any] = field(default_factory=dict)
    queue: str = "default"
    job_id: str | None = None
    at: datetime | None = None
    retry: Retry | None = None


def get_queue(name: str = "default", connection: Any = None) -> Queue:
    if name not in QUEUES:
        raise ValueError(f"unknown queue {name!r}; queues are {', '.join(QUEUES)}")
    return Queue(name, connection=connection or get_redis(), default_timeout=DEFAULT_TIMEOUT)


def enqueue_now(job: PendingJob, connection: Any = None) -> None:
    queue = get_queue(job.queue, connection)
    options: dict[str, Any] = {
        "job_id": job.job_id,
        "failure_ttl": FAILURE_TTL,
        "result_ttl": RESULT_TTL,
        "retry": job.retry,
    }
    if job.job_id is not None:
        # The job id is the row's key: a job already waiting under that id is not doubled.
        existing = queue.fetch_job(job.job_id)
        if existing is not None:
            status = existing.get_status(refresh=True)
            if status in ("queued", "scheduled", "deferred"):
                return
            if status == "started" and not _abandoned(existing, queue.connection):
                return
    if job.at is not None:
        queue.enqueue_at(job.at, job.func, *job.args, **job.kwargs, **_rq_options(options))
    else:
        queue.enqueue(job.func, *job.args, **job.kwargs, **_rq_options(options))


def _abandoned(job: Job, connection: Any) -> bool:
    """A job marked started whose worker is gone: killed without a goodbye, its heartbeat
    key lapses about a minute and a half later. The job would otherwise block its id until
    RQ's own clean-up, minutes away, and nothing due would fire meanwhile."""
    if not job.worker_name:
        return False
    return not connection.exists(Worker.redis_worker_namespace_prefix + job.worker_name)


def _rq_options(options: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in options.items() if value is not None}


def enqueue_after_commit(
    func: str,
    *args: Any,
    queue: str = "default",
    job_id: str | None = None,
    at: datetime | None = None,
    retry: Retry | None = None,
    **kwargs: Any,
) -> None:
    """Queue ``func(*args, **kwargs)`` once the current transaction commits."""
    from models import db

    if queue not in QUEUES:
        raise ValueError(f"unknown queue {queue!r}")
    session = db.session()
    session.connection()  # begin the transaction now, so that a rollback reaches the hook
    pending = session.info.setdefault(_PENDING_KEY, [])
    pending.append(PendingJob(func, args, kwargs, queue, job_id, at, retry))


@event.listens_for(Session, "after_commit")
def _flush_pending(session: Session) -> None:
    pending: list[PendingJob] = session.info.pop(_PENDING_KEY, [])
    if not pending:
        return
    connection = get_redis(current_app._get_current_object())  # type: ignore[attr-defined]
    for job in pending:
        try:
            enqueue_now(job, connection)
        except Exception:
            log.exception("could not enqueue %s (it stays due in the database)", job.func)


@event.listens_for(Session, "after_soft_rollback")
def _drop_pending(session: Session, previous_transaction: Any) -> None:
    if previous_transaction.parent is None:
        session.info.pop(_PENDING_KEY, None)
