"""Command line: ``flask --app wsgi <command>``.

Every command exits non-zero with one line saying what to fix when its input is wrong.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, cast

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext
from rq import Worker
from sqlalchemy import func, select

from app.services.errors import ValidationError

seed_cli = AppGroup("seed", help="Load the default configuration or demo data.")
users_cli = AppGroup("users", help="Manage staff users.")
activity_cli = AppGroup("activity", help="The activity log.")
pdf_cli = AppGroup("pdf", help="PDFs the office seals.")


def init_cli(app: Flask) -> None:
    app.cli.add_command(seed_cli)
    app.cli.add_command(users_cli)
    app.cli.add_command(activity_cli)
    app.cli.add_command(pdf_cli)
    app.cli.add_command(worker_command)
    app.cli.add_command(serve_command)
    app.cli.add_command(config_command)


@seed_cli.command("defaults")
@with_appcontext
def seed_defaults_command() -> None:
    """Create what is missing of the default configuration: roles, coverage types, tags,
    templates, notification rules, portal fields and settings (safe to run again)."""
    from models import db
    from seeds.defaults import seed_defaults

    added = seed_defaults()
    db.session.commit()
    click.echo(
        "Defaults in place: "
        + ", ".join(f"{n} {k.replace('_', ' ')} added" for k, n in added.items())
    )


@seed_cli.command("demo")
@click.option(
    "--records",
    type=click.IntRange(0, 1_000_000),
    default=40,
    show_default=True,
    help="How many demo leads and clients to add.",
)
@click.option(
    "--seed",
    "random_seed",
    type=int,
    default=None,
    help="Random seed, for the same data every time.",
)
@with_appcontext
def seed_demo_command(records: int, random_seed: int | None) -> None:
    """Add demo staff users and demo records with products, contacts, tags and tasks."""
    from seeds.demo import DEMO_LOGINS, seed_demo

    if current_app.config["PORTICO_ENV"] == "production":
        raise click.ClickException("refusing to load demo data with PORTICO_ENV=production")
    started = time.perf_counter()
    with click.progressbar(
        length=records, label="Seeding demo records", show_eta=True, show_pos=True
    ) as bar:
        totals = seed_demo(records=records, seed=random_seed, progress=bar.update)
    elapsed = time.perf_counter() - started
    click.echo(
        f"Added {totals['records']} records, {totals['products']} products, "
        f"{totals['contacts']} contacts, {totals['tags']} tags, {totals['tasks']} tasks and "
        f"{totals['documents']} documents in {elapsed:.1f}s."
    )
    for login in DEMO_LOGINS:
        click.echo(f"  {login.role:<6} {login.email} / {login.password}")


@users_cli.command("create")
@click.argument("email")
@click.option("--role", type=click.Choice(["admin", "agent"]), required=True)
@click.option("--password", default=None, help="Prompted for (hidden) when left out.")
@click.option("--first-name", default="")
@click.option("--last-name", default="")
@with_appcontext
def users_create_command(
    email: str, role: str, password: str | None, first_name: str, last_name: str
) -> None:
    """Create a staff user who can sign in at /admin/."""
    from app.services.users import create_staff_user
    from models import db

    if password is None:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        user = create_staff_user(email, password, role, first_name, last_name)
    except ValidationError as exc:
        raise click.ClickException(exc.message) from None
    db.session.commit()
    click.echo(f"Created {role} {user.email}.")


@activity_cli.command("verify")
@with_appcontext
def activity_verify_command() -> None:
    """Check the activity log's hash chain: exit 1 if any entry was changed or removed."""
    from app.services import activity

    result = activity.verify()
    if not result.ok:
        raise click.ClickException(
            f"the activity log was tampered with at entry {result.bad_entry_id}: "
            f"{result.problem} ({result.checked} entries checked before it)"
        )
    click.echo(f"The activity log is intact: {result.checked} entries checked.")


@click.command("worker")
@click.option(
    "--queues",
    "-q",
    multiple=True,
    help="Queue to serve (repeat for more). Default: all, by priority.",
)
@click.option("--burst", is_flag=True, help="Quit when the queues are empty.")
@click.option(
    "--scheduler/--no-scheduler",
    default=True,
    show_default=True,
    help="Also sweep: queue what is due in the database, every second (one worker at a time).",
)
@click.option("--simple", is_flag=True, help="Run jobs in this process instead of forking.")
@click.option("--name", default=None, help="Worker name (unique per host).")
@with_appcontext
def worker_command(
    queues: tuple[str, ...], burst: bool, scheduler: bool, simple: bool, name: str | None
) -> None:
    """Run an RQ worker inside the app (with the scheduler by default). It rides out Redis
    and database outages; a supervisor restarts it if it dies (see deploy/systemd/)."""
    from app.queue import QUEUES
    from jobs.worker import Ticker, make_worker, serve, take_name

    unknown = [queue for queue in queues if queue not in QUEUES]
    if unknown:
        raise click.BadParameter(
            f"unknown queue(s) {', '.join(unknown)}; choose from {', '.join(QUEUES)}",
            param_hint="--queues",
        )
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    # RQ's SimpleWorker is not a subclass of its Worker (both share BaseWorker and everything
    # the helpers below use), while those helpers are annotated with Worker.
    worker = cast(Worker, make_worker(app, queues or None, simple=simple, name=name))
    if not take_name(worker):
        worker.connection.close()  # the worker's own connection: nobody else will close it
        raise click.ClickException(
            f"a worker named {worker.name!r} is running already; choose another --name."
        )
    click.echo(
        f"Worker {worker.name} serving {', '.join(q.name for q in worker.queues)}"
        f"{' with scheduler' if scheduler else ''}."
    )
    ticker = None
    if not burst:
        # Beats for the worker every second; with the scheduler on, it also sweeps.
        ticker = Ticker(worker.connection, owner=worker.name, app=app, worker=worker)
        ticker.sweeps = scheduler
        ticker.start()
    try:
        serve(
            worker,
            burst=burst,
            with_scheduler=scheduler,
            logging_level=current_app.config["PORTICO_LOG_LEVEL"],
            ticker=ticker,
        )
    finally:
        if ticker is not None:
            ticker.stop()


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


@click.command("config")
def config_command() -> None:
    """Print every environment variable Portico reads, as a Markdown table."""
    from app.settings import SETTINGS

    click.echo("| Variable | Default | Meaning |")
    click.echo("|---|---|---|")
    for setting in SETTINGS:
        click.echo(f"| `{setting.name}` | {setting.default} | {setting.meaning} |")


@pdf_cli.command("verify")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@with_appcontext
def pdf_verify_command(file: Path) -> None:
    """Check that FILE was sealed with this office's key and has not changed since."""
    from app.pdf import SealError, verify

    try:
        verdict = verify(file.read_bytes())
    except SealError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(verdict.message)
    if not verdict.ok:
        sys.exit(1)
