"""The RQ worker Portico runs: every job executes inside a Flask app context."""

from __future__ import annotations

import typing as t

from flask import Flask
from rq import SimpleWorker, Worker

from app.queue import QUEUES, get_queue
from app.redis import worker_redis


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
    return worker
