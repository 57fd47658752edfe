"""``flask --app wsgi serve``: what ``make run`` starts. Migrates, seeds demo data on the first
run, starts the web server and a worker with its scheduler, and prints where everything is."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import func, select

__all__ = ["links_base_url", "serve_command", "startup_summary"]


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option(
    "--worker/--no-worker",
    default=True,
    show_default=True,
    help="Also start one RQ worker with the scheduler.",
)
@click.option(
    "--demo-records",
    default=40,
    show_default=True,
    type=int,
    help="Demo records to seed on the first run.",
)
@with_appcontext
def serve_command(host: str, port: int, worker: bool, demo_records: int) -> None:
    """Migrate, seed on first run, and run the web server and a worker until Ctrl-C.

    This is what ``make run`` calls. It owns everything it starts, the embedded Redis
    included, and stops all of it on Ctrl-C or SIGTERM.
    """
    from flask_migrate import upgrade

    from app.redis import app_redis
    from models import Journey, User, db
    from seeds.defaults import seed_defaults
    from seeds.demo import DEMO_LOGINS, seed_demo

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    timings: list[tuple[str, float]] = []
    phase = time.perf_counter()

    def lap(label: str) -> None:
        nonlocal phase
        now = time.perf_counter()
        timings.append((label, now - phase))
        phase = now

    click.echo("Applying database migrations…")
    upgrade()
    lap("migrations")
    first_run = (db.session.scalar(select(func.count()).select_from(User)) or 0) == 0
    seed_defaults()
    db.session.commit()
    lap("default configuration")
    if first_run and app.config["PORTICO_ENV"] != "production":
        click.echo(f"First run: seeding demo data ({demo_records} records)…")
        seed_demo(records=demo_records, seed=2026)
        lap("demo data")
    db.session.remove()

    store = app_redis(app)
    store.ensure()
    env = dict(os.environ)
    env["REDIS_URL"] = store.url  # children share this process's Redis
    links_base, links_source = links_base_url(host, port, os.environ.get("PORTICO_BASE_URL"))
    env["PORTICO_BASE_URL"] = links_base  # the web server and the worker write the same links
    env.setdefault("FLASK_APP", "wsgi")
    flask_cmd = [sys.executable, "-m", "flask", "--app", "wsgi"]
    children: list[subprocess.Popen[Any]] = []

    def stop_all(*_: Any) -> None:
        raise KeyboardInterrupt

    # Ctrl-C and SIGTERM both stop everything, even if SIGINT came in ignored (as it does for
    # background jobs of a non-interactive shell).
    signal.signal(signal.SIGTERM, stop_all)
    signal.signal(signal.SIGINT, stop_all)
    try:
        children.append(
            subprocess.Popen(  # noqa: S603 - our own interpreter and fixed arguments
                [
                    *flask_cmd,
                    "run",
                    "--host",
                    host,
                    "--port",
                    str(port),
                    "--no-reload",
                    "--no-debugger",
                ],
                env=env,
            )
        )
        if worker:
            children.append(subprocess.Popen([*flask_cmd, "worker"], env=env))  # noqa: S603
        base = f"http://{_browsable(host)}:{port}"
        _wait_for_http(f"{base}/healthz", children, timeout=30)
        lap("web server and worker")
        demo = db.session.scalar(select(User).where(User.email == DEMO_LOGINS[0].email))
        click.echo("")
        click.secho(f"Portico is running. {startup_summary(timings)}", bold=True)
        click.echo(f"  Staff panel:    {base}/admin/")
        click.echo(f"  Client portal:  {base}/portal/")
        click.echo(f"  Health:         {base}/healthz")
        click.echo(f"  Links in mail:  {links_base} ({links_source})")
        journey = db.session.scalar(
            select(Journey.slug).where(Journey.active.is_(True)).order_by(Journey.id).limit(1)
        )
        if journey is not None:
            click.echo(f"  A journey:      {base}/f/{journey}")
        if demo is not None:
            click.echo("  Demo logins:")
            for login in DEMO_LOGINS:
                click.echo(f"    {login.role:<6} {login.email} / {login.password}")
        click.echo(f"  Worker:         {'running with scheduler' if worker else 'not started'}")
        if not app.config.get("MAIL_SERVER"):
            mail_dir = Path(app.config["PORTICO_INSTANCE_PATH"]) / "mail"
            click.echo(f"  Email:          written as .eml files to {mail_dir} (no MAIL_SERVER)")
        if app.config["PORTICO_SMS_PROVIDER"] == "log":
            sms_dir = Path(app.config["PORTICO_INSTANCE_PATH"]) / "sms"
            click.echo(f"  Text messages:  written to {sms_dir} (PORTICO_SMS_PROVIDER=log)")
        click.echo("Press Ctrl-C to stop.")
        while all(child.poll() is None for child in children):
            time.sleep(0.5)
        failed = [child for child in children if child.poll() not in (None, 0)]
        if failed:
            click.echo("A process stopped unexpectedly; shutting down.", err=True)
    except KeyboardInterrupt:
        click.echo("\nStopping…")
    finally:
        _stop_children(children)
        if store.embedded is not None:
            store.embedded.stop()
        click.echo("Stopped.")


def _browsable(host: str) -> str:
    """The address a browser on this machine opens for a server bound to ``host``."""
    return "127.0.0.1" if host in ("0.0.0.0", "::", "") else host  # noqa: S104 - a comparison


def links_base_url(host: str, port: int, configured: str | None) -> tuple[str, str]:
    """Where emailed and texted links point, and why: PORTICO_BASE_URL when it is set,
    otherwise this server's own address, so `make run PORT=5101` mails links to port 5101."""
    if configured and configured.strip():
        return configured.strip().rstrip("/"), "from PORTICO_BASE_URL"
    return f"http://{_browsable(host)}:{port}", "this server; set PORTICO_BASE_URL to change"


def startup_summary(timings: list[tuple[str, float]]) -> str:
    """ "Started in 7.2 s: migrations 1.0 s, demo data 4.1 s, …" — the time since the command
    began, by phase. Installing dependencies happens before it (make prints that time)."""
    total = sum(seconds for _, seconds in timings)
    parts = ", ".join(f"{label} {seconds:.1f} s" for label, seconds in timings if seconds >= 0.05)
    return f"Started in {total:.1f} s ({parts})." if parts else f"Started in {total:.1f} s."


def _stop_children(children: list[subprocess.Popen[Any]]) -> None:
    """Ctrl-C in a terminal already reached the children: give them a moment to finish
    their current request or job, then ask again (SIGTERM), then insist."""
    for grace, action in ((3.0, "terminate"), (12.0, "kill")):
        deadline = time.monotonic() + grace
        for child in children:
            try:
                child.wait(timeout=max(0.05, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                getattr(child, action)()
    for child in children:
        child.wait()


def _wait_for_http(url: str, children: list[subprocess.Popen[Any]], timeout: float) -> None:
    import urllib.error
    import urllib.request

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if children[0].poll() is not None:
            raise click.ClickException(
                f"the web server exited before answering on {url}; is the port already in "
                "use? Try another one: make run PORT=5001"
            )
        try:
            with urllib.request.urlopen(url, timeout=2):  # noqa: S310 - our own local URL
                return
        except urllib.error.HTTPError:
            return  # it answers, even if not healthy yet
        except OSError:
            time.sleep(0.2)
    raise click.ClickException(f"the web server did not answer on {url} within {timeout:.0f}s")
