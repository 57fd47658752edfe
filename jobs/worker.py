"""The RQ worker Portico runs: every job executes inside a Flask app context.

A worker here is built to outlive what goes wrong around it:

* its :class:`Ticker` thread beats every second (so a killed worker is known dead within
  seconds, not when its Redis key expires minutes later) and, on the worker that holds the
  ticker lock, runs the sweeper in place: the sweep never waits in a queue behind mail;
* :func:`serve` keeps it working through Redis and database outages, saying so once per
  outage, and a worker started under the name of a dead one takes the name over at once.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import typing as t

from flask import Flask
from redis import Redis, RedisError
from rq import SimpleWorker, Worker, worker_registration
from rq.exceptions import StopRequested
from rq.utils import now as rq_now
from rq.utils import utcformat

from app.queue import (
    JOB_MONITORING_INTERVAL,
    QUEUES,
    WORKER_DEAD_AFTER,
    WORKER_TTL,
    PendingJob,
    as_text,
    enqueue_now,
    get_queue,
    worker_alive,
)
from app.redis import worker_redis
from app.services.system import SWEPT_AT

log = logging.getLogger(__name__)

TICKER_LOCK = "portico:ticker"
SWEEP_JOB_ID = "portico-sweep"
#: Longest pause between two tries to reach Redis again.
MAX_RECONNECT_WAIT = 5.0

#: Held while the ticker's sweep writes to the database; a fork (the work horse of each job)
#: waits for it. A child forked while another thread of its parent holds an SQLite write lock
#: inherits SQLite's per-process record of that lock and can never write to the file ("database
#: is locked", job after job). The sweep queues jobs as it goes, so without this the work horse
#: was often forked mid-sweep. A sweep takes milliseconds; PostgreSQL does not need it.
NO_FORK_WHILE_SWEEPING = threading.Lock()
os.register_at_fork(
    before=NO_FORK_WHILE_SWEEPING.acquire,
    after_in_parent=NO_FORK_WHILE_SWEEPING.release,
    after_in_child=NO_FORK_WHILE_SWEEPING.release,
)


class QuietSweeps(logging.Filter):
    """The sweeper may run every second as a job: its routine lines would bury everything else
    a worker says. Its warnings and errors still show. RQ's own line for each failed try to
    reach Redis goes too: the ticker says once when Redis goes and once when it is back."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "could not connect to Redis" in message:
            return False
        if record.levelno >= logging.WARNING:
            return True
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

    def register_birth(self) -> None:
        """Starting again after an outage, the key under this name may be this very process's
        (kept by Redis, or put back by the ticker): RQ would take it for another worker."""
        worker = t.cast(Worker, self)
        pid = worker.connection.hget(worker.key, "pid")
        if pid is not None and int(pid) == worker.pid:
            worker.connection.delete(worker.key)
        super().register_birth()  # type: ignore[misc]


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
    worker = worker_class(
        queue_objects,
        connection=connection,
        name=name,
        worker_ttl=WORKER_TTL,
        job_monitoring_interval=JOB_MONITORING_INTERVAL,
    )
    worker.max_connection_wait_time = MAX_RECONNECT_WAIT
    worker.app = app
    _quiet_sweeps()
    return worker


def take_name(worker: Worker) -> bool:
    """Make ``worker.name`` free for this worker: False if a live worker holds it. A previous
    holder that died without a goodbye (SIGKILL, power cut) is cleaned up at once, so a
    supervisor restarting ``worker --name w2`` does not wait for its key to expire."""
    connection = worker.connection
    if not connection.exists(worker.key) or connection.hexists(worker.key, "death"):
        return True
    if worker_alive(connection, worker.name) and not _gone_from_this_host(connection, worker):
        return False
    log.warning("worker %s: its previous run died without stopping; taking over", worker.name)
    with connection.pipeline() as pipeline:
        worker_registration.unregister(worker, pipeline)
        pipeline.delete(worker.key, worker.executions_key)
        pipeline.execute()
    return True


def _gone_from_this_host(connection: Redis, worker: Worker) -> bool:
    """The previous holder ran on this host and its process is gone: no need to wait for its
    heartbeat to grow old (a supervisor restarts a killed worker within seconds)."""
    host, pid = connection.hmget(worker.key, "hostname", "pid")
    if host is None or pid is None or as_text(host) != socket.gethostname():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


class Ticker(threading.Thread):
    """Beats for its worker every ``interval`` seconds and, on the one worker holding a short
    Redis lock, runs the sweeper right here: not as a queued job that would wait behind
    whatever mail is queued. The lock makes it one sweep at a time across all hosts."""

    def __init__(
        self,
        connection: Redis,
        owner: str,
        interval: float = 1.0,
        *,
        app: Flask | None = None,
        worker: Worker | None = None,
        sweeps: bool = True,
    ) -> None:
        super().__init__(name="portico-ticker", daemon=True)
        self.connection = connection
        self.owner = owner
        self.interval = interval
        self.app = app
        self.worker = worker
        self.sweeps = sweeps
        self.stopped = threading.Event()
        #: Since when Redis has answered without a break (None: it does not answer now).
        self.redis_since: float | None = time.monotonic()
        self.redis_lost_at: float | None = None
        self.database_failing = False

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

    def beat(self) -> None:
        """The worker's heartbeat, every tick whatever its main loop is doing (RQ's own comes
        only between jobs). After Redis came back empty the worker registers again."""
        worker = self.worker
        if worker is None or worker.birth_date is None:
            return
        stamp = utcformat(rq_now())
        ttl = WORKER_TTL + 60
        with self.connection.pipeline() as pipeline:
            pipeline.hset(worker.key, "last_heartbeat", stamp)
            pipeline.hexists(worker.key, "birth")
            pipeline.expire(worker.key, ttl)
            _, registered, _ = pipeline.execute()
        if not registered:
            worker.last_heartbeat = rq_now()
            with self.connection.pipeline() as pipeline:
                pipeline.hset(worker.key, mapping=worker.serialize())
                worker_registration.register(worker, pipeline)
                pipeline.expire(worker.key, ttl)
                pipeline.execute()

    def tick(self) -> bool:
        """One beat; True if this ticker swept."""
        self.beat()
        if not self.sweeps or not self._hold_lock():
            return False
        if self.app is None:  # no app to sweep with: queue the sweep instead
            enqueue_now(
                PendingJob("jobs.sweeper.sweep", queue="default", job_id=SWEEP_JOB_ID),
                self.connection,
            )
            return True
        self.sweep()
        return True

    def sweep(self) -> None:
        from jobs.sweeper import sweep

        # Right after an outage of Redis every heartbeat is old: judge no worker dead until
        # they have had the time to beat again.
        steady = (
            self.redis_since is not None
            and time.monotonic() - self.redis_since > WORKER_DEAD_AFTER.total_seconds()
        )
        assert self.app is not None
        with NO_FORK_WHILE_SWEEPING, self.app.app_context():
            try:
                sweep(judge_workers=steady)
            except RedisError:
                raise
            except Exception as exc:
                if not self.database_failing:
                    log.warning("sweeper: the database fails (%s); trying every second", exc)
                self.database_failing = True
                return
        if self.database_failing:
            log.warning("sweeper: the database answers again")
            self.database_failing = False
        self.connection.set(SWEPT_AT, utcformat(rq_now()), ex=3600)

    def run(self) -> None:
        while not self.stopped.wait(self.interval):
            try:
                self.tick()
            except RedisError as exc:
                if self.redis_since is not None:
                    log.warning("Redis unreachable (%s); the worker waits for it", exc)
                    self.redis_since = None
                    self.redis_lost_at = time.monotonic()
                continue
            except Exception:
                log.exception("ticker: unexpected error")
                continue
            if self.redis_since is None:
                lost = time.monotonic() - (self.redis_lost_at or time.monotonic())
                log.warning("Redis is back after %.0fs; working again", lost)
                self.redis_since = time.monotonic()

    def stop(self) -> None:
        self.stopped.set()
        try:
            if self._holder() == self.owner:
                self.connection.delete(TICKER_LOCK)
        except RedisError:
            pass


def serve(
    worker: Worker,
    *,
    burst: bool = False,
    with_scheduler: bool = False,
    logging_level: str = "INFO",
    ticker: Ticker | None = None,
) -> None:
    """Run ``worker`` until it is asked to stop. RQ's loop quits when Redis goes away in the
    middle of a job; here it starts again as soon as Redis answers."""
    while True:
        try:
            worker.work(burst=burst, with_scheduler=with_scheduler, logging_level=logging_level)
        except RedisError:
            pass  # its goodbye could not reach Redis
        except StopRequested:
            return
        if burst or worker._stop_requested or worker._shutdown_requested_date is not None:
            return
        if not _wait_for_redis(worker, ticker):
            return


def _wait_for_redis(worker: Worker, ticker: Ticker | None) -> bool:
    """Back off until Redis answers; False if the worker was asked to stop meanwhile."""
    wait = 0.5
    said = ticker is not None  # the ticker tells of the outage itself
    started = time.monotonic()
    try:
        while True:
            try:
                worker.connection.ping()
                if not said:
                    log.info("worker %s: Redis answers again", worker.name)
                return True
            except RedisError as exc:
                if not said:
                    log.warning("worker %s: Redis unreachable (%s); waiting", worker.name, exc)
                    said = True
            if worker._shutdown_requested_date is not None:
                return False
            time.sleep(wait)
            wait = min(wait * 2, MAX_RECONNECT_WAIT)
            if time.monotonic() - started > 24 * 3600:
                return True
    except StopRequested:
        return False
