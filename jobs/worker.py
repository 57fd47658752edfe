"""The RQ worker Portico runs: every job executes inside a Flask app context."""

from __future__ import annotations

import logging
import threading
import typing as t

from flask import Flask
from redis import Redis, RedisError
from rq import SimpleWorker, Worker

from app.queue import QUEUES, PendingJob, enqueue_now, get_queue
from app.redis import worker_redis

log = logging.getLogger(__name__)

TICKER_LOCK = "portico:ticker"
SWEEP_JOB_ID = "portico-sweep"


class QuietSweeps(logging.Filter):
    """The sweeper runs every second: its routine lines would bury everything else a worker
    says. Its warnings and errors still show."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno >= logging.WARNING:
            return True
        message = record.getMessage()
        return SWEEP_JOB_ID not in message and "jobs.sweeper.sweep" not in message


def _quiet_sweeps() -> None:
    rq_log = logging.getLogger("rq.worker")
    if not any(isinstance(f, QuietSweeps) for f in rq_log.filters):
        rq_log.addFilter(QuietSweeps())


class _AppContextMixin:
    """Runs each job in a fresh app context, so each job gets its own database session."""

    app: Flask

    def perform_job(self, *args: t.Any, **kwargs: t.Any) -> bool:
        with self.app.app_context():
            return super().perform_job(*args, **kwargs)  # type: ignore[misc]


class AppWorker(_AppContextMixin, Worker):
    """Forks a work horse per job: a job that leaks or crashes cannot take the worker down."""


class AppSimpleWorker(_AppContextMixin, SimpleWorker):
    """Runs jobs in the worker process itself: faster, used by tests and benchmarks."""


def make_worker(
    app: Flask,
    queues: t.Sequence[str] | None = None,
    *,
    simple: bool = False,
    name: str | None = None,
) -> AppWorker | AppSimpleWorker:
    """A worker for ``queues`` (default: every queue, by priority) bound to ``app``."""
    names = list(queues or app.config.get("PORTICO_WORKER_QUEUES") or QUEUES)
    with app.app_context():
        connection = worker_redis(app)
        queue_objects = [get_queue(queue_name, connection) for queue_name in names]
    worker_class = AppSimpleWorker if simple else AppWorker
    worker = worker_class(queue_objects, connection=connection, name=name)
    worker.app = app
    _quiet_sweeps()
    return worker


class Ticker(threading.Thread):
    """Enqueues the sweeper every ``interval`` seconds. Every worker started with the
    scheduler runs one, but only the holder of a short Redis lock enqueues, and the sweep job
    has a fixed id: one sweep at a time across all hosts."""

    def __init__(self, connection: Redis, owner: str, interval: float = 1.0) -> None:
        super().__init__(name="portico-ticker", daemon=True)
        self.connection = connection
        self.owner = owner
        self.interval = interval
        self.stopped = threading.Event()

    def _hold_lock(self) -> bool:
        ttl_ms = int(self.interval * 3000)
        if self.connection.set(TICKER_LOCK, self.owner, nx=True, px=ttl_ms):
            return True
        if self._holder() == self.owner:
            self.connection.pexpire(TICKER_LOCK, ttl_ms)
            return True
        return False

    def _holder(self) -> str | None:
        holder = self.connection.get(TICKER_LOCK)
        return holder.decode() if isinstance(holder, bytes) else holder

    def tick(self) -> bool:
        """One beat; True if this ticker enqueued the sweeper."""
        if not self._hold_lock():
            return False
        enqueue_now(
            PendingJob("jobs.sweeper.sweep", queue="default", job_id=SWEEP_JOB_ID), self.connection
        )
        return True

    def run(self) -> None:
        while not self.stopped.wait(self.interval):
            try:
                self.tick()
            except RedisError as exc:
                log.warning("ticker could not reach Redis: %s", exc)

    def stop(self) -> None:
        self.stopped.set()
        try:
            if self._holder() == self.owner:
                self.connection.delete(TICKER_LOCK)
        except RedisError:
            pass
