"""Command line: ``flask --app wsgi <command>``.

Every command exits non-zero with one line saying what to fix when its input is wrong.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import cast

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext
from rq import Worker

from app.cli_serve import serve_command
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
