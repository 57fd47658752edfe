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
from datetime import UTC, datetime, timedelta
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

#: Workers beat every second (see :class:`jobs.worker.Ticker`); one silent this long is dead.
WORKER_DEAD_AFTER = timedelta(seconds=15)
#: RQ's own heartbeat settings for our workers: an idle worker beats at least every
#: ``WORKER_TTL - 15`` seconds, a busy one every ``JOB_MONITORING_INTERVAL``.
WORKER_TTL = 30
JOB_MONITORING_INTERVAL = 5


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
            if status in ("queued", "deferred"):
                return
            if status == "scheduled":
                if job.at is not None:
                    return
                # Wanted now, but waiting for RQ's scheduler, which may be gone with its
                # worker or with Redis: take it out of the schedule and queue it.
                queue.scheduled_job_registry.remove(existing)
            elif status == "started" and not _abandoned(existing, queue.connection):
                return
    if job.at is not None:
        queue.enqueue_at(job.at, job.func, *job.args, **job.kwargs, **_rq_options(options))
    else:
        queue.enqueue(job.func, *job.args, **job.kwargs, **_rq_options(options))


def _abandoned(job: Job, connection: Any) -> bool:
    """A job marked started whose worker is gone: killed without a goodbye. RQ notices only
    when the worker's key expires, minutes later; the job would block its id meanwhile, and
    nothing due would fire."""
    if not job.worker_name:
        return False
    return not worker_alive(connection, job.worker_name, since=job.started_at)


def worker_alive(
    connection: Any, name: str, since: datetime | None = None, now: datetime | None = None
) -> bool:
    """Is the worker called ``name`` alive, and the same one that was there at ``since``?

    Judged by its heartbeat (a worker beats every second), not by its key expiring: a killed
    worker is known dead within :data:`WORKER_DEAD_AFTER`. A worker restarted under the same
    name is a new life (its birth is later), so what the old one held is abandoned."""
    key = Worker.redis_worker_namespace_prefix + name
    beat, birth, death = connection.hmget(key, "last_heartbeat", "birth", "death")
    return _alive(beat, birth, death, since=since, now=now or datetime.now(UTC))


def _alive(beat: Any, birth: Any, death: Any, *, since: datetime | None, now: datetime) -> bool:
    from rq.utils import utcparse

    if beat is None or death is not None:
        return False
    if utcparse(as_text(beat)) < now - WORKER_DEAD_AFTER:
        return False
    # A worker restarted under the same name is a new life: what the old one held is abandoned.
    return not (
        since is not None and birth is not None and utcparse(as_text(birth)) > _aware(since)
    )


def as_text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


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
    owner = session.get_nested_transaction() or session.get_transaction()
    _tagged(session).append((owner, PendingJob(func, args, kwargs, queue, job_id, at, retry)))


def _not_waiting(pending: list[PendingJob], connection: Any) -> list[PendingJob]:
    """Leave out, in one round trip, jobs already waiting in their queue under their id (the
    sweeper offers every due row each second; nearly all of them are)."""
    keyed = [job for job in pending if job.job_id is not None]
    if len(keyed) < 2:
        return pending
    with connection.pipeline(transaction=False) as pipeline:
        for job in keyed:
            pipeline.hget(Job.key_for(job.job_id), "status")
        statuses = dict(zip((job.job_id for job in keyed), pipeline.execute(), strict=True))
    waiting = {b"queued", b"deferred", "queued", "deferred"}
    return [job for job in pending if job.job_id is None or statuses[job.job_id] not in waiting]


def _tagged(session: Session) -> list[tuple[Any, PendingJob]]:
    return session.info.setdefault(_PENDING_KEY, [])  # type: ignore[no-any-return]


@event.listens_for(Session, "after_commit")
def _flush_pending(session: Session) -> None:
    """A released SAVEPOINT fires ``after_commit`` too: its jobs then belong to the enclosing
    transaction and wait for it. Only the outermost commit sends them to Redis."""
    if session.in_nested_transaction():
        savepoint = session.get_nested_transaction()
        parent = savepoint.parent if savepoint is not None else None
        session.info[_PENDING_KEY] = [
            (parent if owner is savepoint else owner, job) for owner, job in _tagged(session)
        ]
        return
    pending = [job for _, job in session.info.pop(_PENDING_KEY, [])]
    if not pending:
        return
    connection = get_redis(current_app._get_current_object())  # type: ignore[attr-defined]
    try:
        pending = _not_waiting(pending, connection)
    except Exception:
        log.exception("could not reach Redis to enqueue %s jobs (they stay due)", len(pending))
        return
    for job in pending:
        try:
            enqueue_now(job, connection)
        except Exception:
            log.exception("could not enqueue %s (it stays due in the database)", job.func)


@event.listens_for(Session, "after_soft_rollback")
def _drop_pending(session: Session, previous_transaction: Any) -> None:
    """A rollback drops the jobs of what it undid: everything, or one savepoint's own."""
    if previous_transaction.parent is None:
        session.info.pop(_PENDING_KEY, None)
        return
    if _PENDING_KEY in session.info:
        session.info[_PENDING_KEY] = [
            (owner, job)
            for owner, job in _tagged(session)
            if not _within(owner, previous_transaction)
        ]


def _within(transaction: Any, ancestor: Any) -> bool:
    while transaction is not None:
        if transaction is ancestor:
            return True
        transaction = transaction.parent
    return False


def current_worker_name() -> str | None:
    """The name of the worker running the current job (None outside a job)."""
    from rq import get_current_job

    job = get_current_job()
    return job.worker_name if job is not None else None


class WorkerJudge:
    """Tells, for rows a worker claimed, whether that worker has died since (one Redis read
    per worker name). When Redis cannot be asked, no one is judged dead."""

    def __init__(self, connection: Any = None) -> None:
        self.connection = connection
        self._seen: dict[str, tuple[Any, Any, Any] | None] = {}

    def gone(self, name: str | None, since: datetime | None) -> bool:
        if not name:
            return False
        if name not in self._seen:
            try:
                connection = self.connection or get_redis()
                key = Worker.redis_worker_namespace_prefix + name
                self._seen[name] = tuple(connection.hmget(key, "last_heartbeat", "birth", "death"))
            except Exception:  # Redis is down: judge no one
                self._seen[name] = None
        fields = self._seen[name]
        if fields is None:
            return False
        return not _alive(*fields, since=since, now=datetime.now(UTC))
