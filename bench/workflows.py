"""Benchmark: workflows at campaign scale, measured against plain RQ in the same run.

1. Bulk-tag N clients (default 10,000) into a 4-action workflow as a staff member does it
   (each record's change logged): records per second, and the rows it scheduled (target:
   2,000 records/s or more).
2. Fire M due actions (default 20,000) that each only write their activity entry and their
   status (a text message to clients who have not agreed to texts: skipped, after the match is
   re-checked), one worker: actions per second, next to plain RQ running one no-op job per
   action on the same Redis (target: 4x or more).
3. Due -> done latency for L actions (default 1,000) spread over S seconds (default 60), fired
   by a real `flask worker` process with its scheduler: p50 and p99 (target: p99 <= 2 s).

A scratch database (SQLite in a temporary folder, or BENCH_DATABASE_URL) and a scratch Redis
(embedded, or BENCH_REDIS_URL). Run with `make bench`; not part of `make test`.

    BENCH_TAG_RECORDS=10000 BENCH_ACTIONS=20000 BENCH_LATENCY_ACTIONS=1000 \
    BENCH_LATENCY_SECONDS=60 python -m bench.workflows
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from datetime import timedelta
from pathlib import Path

from bench.serving import scratch_schema

ROOT = Path(__file__).resolve().parent.parent
TAG_RECORDS = int(os.environ.get("BENCH_TAG_RECORDS", "10000"))
ACTIONS = int(os.environ.get("BENCH_ACTIONS", "20000"))
LATENCY_ACTIONS = int(os.environ.get("BENCH_LATENCY_ACTIONS", "1000"))
LATENCY_SECONDS = float(os.environ.get("BENCH_LATENCY_SECONDS", "60"))


def noop() -> None:
    """The plain-RQ baseline's job: nothing at all."""


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


def make_clients(count: int, prefix: str) -> list[int]:
    from sqlalchemy import insert, select

    from models import Record, RecordKind, db

    rows = [
        {
            "kind": RecordKind.CLIENT,
            "first_name": f"{prefix}{n}",
            "last_name": "Bench",
            "email": f"{prefix.lower()}{n}@example.com",
        }
        for n in range(count)
    ]
    for start in range(0, count, 5000):
        db.session.execute(insert(Record), rows[start : start + 5000])
    db.session.commit()
    return list(db.session.scalars(select(Record.id).where(Record.first_name.like(f"{prefix}%"))))


def workflow(name: str, steps: list[tuple[int, str, str]], **options: object):  # type: ignore[no-untyped-def]
    """A tag-triggered client workflow; steps are (amount, unit, kind)."""
    from app.services import tags as tag_service
    from models import ActionKind, DelayUnit, Workflow, WorkflowAction, db

    tag = tag_service.create_tag(name, "#336699")
    db.session.flush()
    flow = Workflow(name=name, active=True, for_leads=False, tag_id=tag.id, **options)
    flow.actions = [
        WorkflowAction(
            position=n,
            delay_amount=amount,
            delay_unit=DelayUnit(unit),
            kind=ActionKind(kind),
            tag_id=tag.id if kind == "add_tag" else None,
        )
        for n, (amount, unit, kind) in enumerate(steps)
    ]
    db.session.add(flow)
    db.session.commit()
    return flow, tag


def bulk_tag(app) -> tuple[float, int]:  # type: ignore[no-untyped-def]
    from sqlalchemy import func, select

    from app.services import tags as tag_service
    from models import ScheduledAction, db

    with app.app_context():
        ids = make_clients(TAG_RECORDS, "Tagme")
        flow, tag = workflow(
            "Bench annual review",
            [
                (1, "days", "create_task"),
                (2, "days", "create_task"),
                (3, "days", "create_call"),
                (5, "days", "create_call"),
            ],
        )
        from app.services.events import STAFF, Actor

        started = time.perf_counter()
        tag_service.add_tag(ids, tag, actor=Actor(STAFF, "Bench Staff"))
        db.session.commit()
        elapsed = time.perf_counter() - started
        scheduled = db.session.scalar(
            select(func.count()).where(ScheduledAction.workflow_id == flow.id)
        )
        return TAG_RECORDS / elapsed, int(scheduled or 0)


def fire_due(app) -> tuple[float, int]:  # type: ignore[no-untyped-def]
    """Portico's side: the sweeper and one burst worker until nothing is due."""
    from sqlalchemy import func, select

    from app.services import tags as tag_service
    from app.services import workflows
    from jobs.sweeper import sweep
    from jobs.worker import make_worker
    from models import ActionStatus, ScheduledAction, db, utcnow

    with app.app_context():
        per_record = 2
        ids = make_clients(ACTIONS // per_record, "Fire")
        flow, tag = workflow(
            "Bench activity only",
            [(0, "minutes", "send_sms")] * per_record,
            stop_when_unmatched=True,
        )
        tag_service.add_tag(ids, tag)  # starts the runs: every action is due now
        db.session.commit()
        flow_id = flow.id
    started = time.perf_counter()
    while True:
        with app.app_context():
            sweep()
            if not workflows.has_due(utcnow()):
                break
        make_worker(app, ["workflow"], simple=True).work(burst=True)
    elapsed = time.perf_counter() - started
    with app.app_context():
        done = db.session.scalar(
            select(func.count()).where(
                ScheduledAction.workflow_id == flow_id,
                ScheduledAction.status == ActionStatus.SKIPPED,
            )
        )
    return int(done or 0) / elapsed, int(done or 0)


def plain_rq(app) -> float:  # type: ignore[no-untyped-def]
    """Plain RQ: one no-op job per action, one SimpleWorker, the same Redis."""
    from rq import Queue, SimpleWorker

    from app.redis import worker_redis

    with app.app_context():
        connection = worker_redis(app)
    queue = Queue("bench-plain", connection=connection)
    for start in range(0, ACTIONS, 1000):
        queue.enqueue_many(
            [Queue.prepare_data(noop, result_ttl=0) for _ in range(min(1000, ACTIONS - start))]
        )
    worker = SimpleWorker([queue], connection=connection)
    started = time.perf_counter()
    worker.work(burst=True, logging_level="WARNING")
    elapsed = time.perf_counter() - started
    return ACTIONS / elapsed


def latency(app, env: dict[str, str]) -> list[float]:  # type: ignore[no-untyped-def]
    """A real `flask worker` (scheduler on) fires actions whose due times are spread out."""
    from sqlalchemy import select, update

    from app.services import tags as tag_service
    from models import ActionStatus, ScheduledAction, db, utcnow

    with app.app_context():
        ids = make_clients(LATENCY_ACTIONS, "Late")
        flow, tag = workflow("Bench latency", [(1, "years", "add_tag")], stop_when_unmatched=True)
        tag_service.add_tag(ids, tag)
        db.session.commit()
        flow_id = flow.id
        rows = list(
            db.session.scalars(
                select(ScheduledAction.id)
                .where(ScheduledAction.workflow_id == flow_id)
                .order_by(ScheduledAction.id)
            )
        )
    worker = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "wsgi", "worker"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
    )
    try:
        time.sleep(3)  # the worker is up and its ticker sweeping
        with app.app_context():
            start = utcnow() + timedelta(seconds=2)
            step = LATENCY_SECONDS / len(rows)
            for n, action_id in enumerate(rows):
                db.session.execute(
                    update(ScheduledAction)
                    .where(ScheduledAction.id == action_id)
                    .values(due_at=start + timedelta(seconds=n * step))
                )
            db.session.commit()
        deadline = time.monotonic() + LATENCY_SECONDS + 60
        while time.monotonic() < deadline:
            with app.app_context():
                pending = db.session.scalar(
                    select(ScheduledAction.id)
                    .where(
                        ScheduledAction.workflow_id == flow_id,
                        ScheduledAction.status.in_((ActionStatus.PENDING, ActionStatus.CLAIMED)),
                    )
                    .limit(1)
                )
            if pending is None:
                break
            time.sleep(1)
        else:
            raise SystemExit("bench: the worker did not finish the latency actions")
    finally:
        worker.terminate()
        worker.wait(timeout=30)
    return due_to_done(app, flow_id)


def due_to_done(app, flow_id: int) -> list[float]:  # type: ignore[no-untyped-def]
    """Seconds from each fired action's due time to its activity entry, for one workflow."""
    from sqlalchemy import select

    from models import ActivityEntry, ScheduledAction, db

    with app.app_context():
        due = dict(
            db.session.execute(
                select(ScheduledAction.record_id, ScheduledAction.due_at).where(
                    ScheduledAction.workflow_id == flow_id
                )
            ).all()
        )
        fired = db.session.execute(
            select(ActivityEntry.record_id, ActivityEntry.occurred_at).where(
                ActivityEntry.event_key == "workflow.action.fired",
                ActivityEntry.record_id.in_(due),
            )
        ).all()
    return [(at - due[record_id]).total_seconds() for record_id, at in fired]


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="pt-bench-") as scratch:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PORTICO_", "TEST_"))}
        env.update(
            PORTICO_INSTANCE_PATH=str(Path(scratch) / "instance"), PORTICO_LOG_LEVEL="WARNING"
        )
        env.pop("DATABASE_URL", None)
        env.pop("REDIS_URL", None)
        schemas = ExitStack()  # PostgreSQL: a schema of its own, dropped at the end
        if os.environ.get("BENCH_DATABASE_URL"):
            env["DATABASE_URL"] = schemas.enter_context(
                scratch_schema(os.environ["BENCH_DATABASE_URL"])
            )
        from app.redis import EmbeddedRedis

        embedded = None
        if os.environ.get("BENCH_REDIS_URL"):
            env["REDIS_URL"] = os.environ["BENCH_REDIS_URL"]
        else:
            embedded = EmbeddedRedis(Path(scratch) / "redis")
            embedded.ensure_running()
            env["REDIS_URL"] = embedded.url
        os.environ.update(env)
        try:
            flask = [sys.executable, "-m", "flask", "--app", "wsgi"]
            subprocess.run([*flask, "db", "upgrade"], cwd=ROOT, env=env, check=True)
            subprocess.run([*flask, "seed", "defaults"], cwd=ROOT, env=env, check=True)
            from app import create_app

            app = create_app()
            print(f"database: {app.config['SQLALCHEMY_DATABASE_URI'].split(':')[0]}", flush=True)

            tag_rate, scheduled = bulk_tag(app)
            print(
                f"1. bulk tag: {TAG_RECORDS:,} clients into a 4-action workflow: "
                f"{tag_rate:,.0f} records/s ({scheduled:,} actions scheduled; target >= 2,000/s)",
                flush=True,
            )
            fire_rate, fired = fire_due(app)
            rq_rate = plain_rq(app)
            print(
                f"2. firing {fired:,} due actions (activity entry only), one worker: "
                f"{fire_rate:,.0f} actions/s; plain RQ, one no-op job each: {rq_rate:,.0f} jobs/s; "
                f"ratio {fire_rate / rq_rate:.1f}x (target >= 4x)",
                flush=True,
            )
            lags = latency(app, env)
            print(
                f"3. due -> done, {len(lags):,} actions over {LATENCY_SECONDS:.0f}s, "
                f"`flask worker` with its scheduler: p50 {percentile(lags, 0.5):.2f}s, "
                f"p99 {percentile(lags, 0.99):.2f}s, max {max(lags):.2f}s (target p99 <= 2s)"
            )
        finally:
            if embedded is not None:
                embedded.stop()
            schemas.close()


if __name__ == "__main__":
    main()
