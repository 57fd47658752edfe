"""Benchmark: due -> done for workflow actions while portal users keep the mail queue busy.

L actions (default 1,000) fall due over S seconds (default 60) while U simulated portal users
(default 60) save their details, each about every 12 s (about 5 saves a second, as an agency's
busy hour): each save is logged as ``portal.profile.updated`` and queues a confirmation email,
delivered to a real SMTP server (aiosmtpd). W real ``flask worker`` processes (default 1, as
``make run`` starts) do all of it. Prints p50 and p99 of due -> done (target: p99 <= 2 s, as
without load) and how the mail kept up.

A scratch database (SQLite in a temporary folder, or a schema of its own in the PostgreSQL
database at BENCH_DATABASE_URL: SQLite's single writer does not keep up with sixty portal users
and a worker) and a scratch Redis (embedded, or BENCH_REDIS_URL). Not part of ``make test``:

    BENCH_LATENCY_ACTIONS=1000 BENCH_LATENCY_SECONDS=60 BENCH_USERS=60 BENCH_WORKERS=1 \\
    python -m bench.due_under_load
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import ExitStack
from datetime import timedelta
from pathlib import Path

from bench.serving import scratch_schema
from bench.workflows import due_to_done, make_clients, percentile, workflow
from tests.faults.run import Smtp

ROOT = Path(__file__).resolve().parent.parent
ACTIONS = int(os.environ.get("BENCH_LATENCY_ACTIONS", "1000"))
SECONDS = float(os.environ.get("BENCH_LATENCY_SECONDS", "60"))
USERS = int(os.environ.get("BENCH_USERS", "60"))
WORKERS = int(os.environ.get("BENCH_WORKERS", "1"))
SAVE_EVERY = 12.0


def portal_user(app, record_id: int, stop: threading.Event, saves: list[float]) -> None:  # type: ignore[no-untyped-def]
    """A client saving their details again and again, as the portal does it: the change,
    the event, and an email (committed once, like the request)."""
    from app.services import events, outbox
    from models import Channel, Record, db

    rng = random.Random(record_id)
    stop.wait(rng.uniform(0, SAVE_EVERY))
    n = 0
    while not stop.is_set():
        with app.app_context():
            record = db.session.get(Record, record_id)
            n += 1
            record.phone = f"+1202555{n % 10000:04d}"
            actor = events.Actor(events.CLIENT, record.full_name)
            events.emit(
                "portal.profile.updated",
                actor=actor,
                record=record,
                details={"changed": ["phone"]},
            )
            outbox.put(
                key=f"bench-save-{record_id}-{n}",
                channel=Channel.EMAIL,
                to=record.email,
                subject="Your details were updated",
                text="We have your new phone number.",
                record_id=record_id,
            )
            db.session.commit()
        saves.append(time.time())
        stop.wait(rng.uniform(0.5, 1.5) * SAVE_EVERY)


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="pt-bench-") as scratch:
        smtp = Smtp()
        smtp.start()
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PORTICO_", "TEST_"))}
        env.update(
            PORTICO_INSTANCE_PATH=str(Path(scratch) / "instance"),
            PORTICO_LOG_LEVEL="WARNING",
            MAIL_SERVER="127.0.0.1",
            MAIL_PORT=str(smtp.port),
            MAIL_USE_TLS="false",
            MAIL_USE_SSL="false",
            MAIL_DEFAULT_SENDER="Agency <office@example.com>",
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
        workers: list[subprocess.Popen[bytes]] = []
        stop = threading.Event()
        try:
            flask = [sys.executable, "-m", "flask", "--app", "wsgi"]
            subprocess.run([*flask, "db", "upgrade"], cwd=ROOT, env=env, check=True)
            subprocess.run([*flask, "seed", "defaults"], cwd=ROOT, env=env, check=True)
            from sqlalchemy import select, update

            from app import create_app
            from app.services import tags as tag_service
            from models import ActionStatus, ScheduledAction, db, utcnow

            app = create_app()
            database = app.config["SQLALCHEMY_DATABASE_URI"].split(":")[0]
            with app.app_context():
                ids = make_clients(ACTIONS, "Due")
                users = make_clients(USERS, "Portal")
                flow, tag = workflow("Bench due", [(1, "years", "add_tag")])
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
            for n in range(WORKERS):
                workers.append(
                    subprocess.Popen(
                        [*flask, "worker", "--name", f"bench-{n}"],
                        cwd=ROOT,
                        env=env,
                        stdout=subprocess.DEVNULL,
                    )
                )
            saves: list[float] = []
            threads = [
                threading.Thread(target=portal_user, args=(app, rid, stop, saves), daemon=True)
                for rid in users
            ]
            for thread in threads:
                thread.start()
            time.sleep(5)  # workers up, the portal busy
            with app.app_context():
                start = utcnow() + timedelta(seconds=2)
                step = SECONDS / len(rows)
                for n, action_id in enumerate(rows):
                    db.session.execute(
                        update(ScheduledAction)
                        .where(ScheduledAction.id == action_id)
                        .values(due_at=start + timedelta(seconds=n * step))
                    )
                db.session.commit()
            began = time.time()
            deadline = time.monotonic() + SECONDS + 120
            while time.monotonic() < deadline:
                with app.app_context():
                    pending = db.session.scalar(
                        select(ScheduledAction.id)
                        .where(
                            ScheduledAction.workflow_id == flow_id,
                            ScheduledAction.status.in_(
                                (ActionStatus.PENDING, ActionStatus.CLAIMED)
                            ),
                        )
                        .limit(1)
                    )
                if pending is None:
                    break
                time.sleep(1)
            else:
                raise SystemExit("bench: the workers did not finish the actions")
            stop.set()
            for thread in threads:
                thread.join(timeout=30)
            time.sleep(3)  # the last confirmation emails go out
            lags = due_to_done(app, flow_id)
            during = [t for t in saves if began <= t <= began + SECONDS]
            delivered = sum(1 for to, _, _ in smtp.recorder.received if to.startswith("portal"))
            print(
                f"database: {database}; {WORKERS} worker(s); {USERS} portal users saving "
                f"({len(during) / SECONDS:.1f} saves/s while actions fell due, "
                f"{len(saves)} saves in all, {delivered} confirmation emails delivered)"
            )
            print(
                f"due -> done, {len(lags):,} actions over {SECONDS:.0f}s under that load: "
                f"p50 {percentile(lags, 0.5):.2f}s, p99 {percentile(lags, 0.99):.2f}s, "
                f"max {max(lags):.2f}s (target p99 <= 2s)"
            )
        finally:
            stop.set()
            for worker in workers:
                worker.terminate()
            for worker in workers:
                try:
                    worker.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    worker.kill()
                    worker.wait()
            smtp.stop()
            if embedded is not None:
                embedded.stop()
            schemas.close()


if __name__ == "__main__":
    main()
