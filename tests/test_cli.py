from sqlalchemy import func, select

from app.queue import get_queue
from models import (
    CoverageType,
    Document,
    Product,
    Record,
    RecordKind,
    Tag,
    Task,
    User,
    Workflow,
    db,
)


def run(app, *args, input=None):
    return app.test_cli_runner().invoke(args=list(args), input=input)


def count(model):
    return db.session.scalar(select(func.count()).select_from(model))


def test_seed_defaults_is_idempotent(app):
    result = run(app, "seed", "defaults")
    assert result.exit_code == 0
    assert "0 roles added, 0 coverage types added, 0 tags added" in result.output
    with app.app_context():
        assert count(CoverageType) == 11 and count(Tag) == 5


def test_seed_demo_adds_records_and_demo_logins(app):
    result = run(app, "seed", "demo", "--records", "30", "--seed", "7")
    assert result.exit_code == 0, result.output
    assert "Added 30 records" in result.output
    assert "admin@example.com / portico-admin-demo" in result.output
    with app.app_context():
        assert count(Record) == 30
        assert count(Product) > 0 and count(Task) > 0
        shared = db.session.scalars(select(Document).where(Document.shared.is_(True))).all()
        assert shared and {d.record.kind for d in shared} == {RecordKind.CLIENT}
        assert any(d.category and d.category.is_id_card for d in shared)
        assert {u.email for u in db.session.scalars(select(User))} == {
            "admin@example.com",
            "agent@example.com",
        }
        names = sorted(db.session.scalars(select(Workflow.name)))
        assert names == ["Annual review (AEP)", "Quote follow-up: Medicare Advantage"]
        from app.services.portal_settings import get_settings

        office = get_settings()  # the demo mail reads as a real agency's
        assert (office.portal_name, office.office_email) == (
            "Harbor Point Insurance",
            "office@example.com",
        )
    assert run(app, "seed", "demo", "--records", "5").exit_code == 0  # adds, no duplicates
    with app.app_context():
        assert count(Record) == 35 and count(User) == 2 and count(Workflow) == 2


def test_seed_demo_refuses_nonsense(app):
    result = run(app, "seed", "demo", "--records", "-3")
    assert result.exit_code == 2 and "--records" in result.output


def test_users_create_with_prompted_password(app):
    result = run(
        app,
        "users",
        "create",
        "new.admin@example.com",
        "--role",
        "admin",
        input="a long password\na long password\n",
    )
    assert result.exit_code == 0, result.output
    assert "Created admin new.admin@example.com." in result.output
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == "new.admin@example.com"))
        assert user.password.startswith("$argon2") and user.has_role("admin")


def test_users_create_says_what_to_fix(app):
    cases = [
        (["bad-email", "--role", "agent", "--password", "long enough pw"], "valid email"),
        (["ok@example.com", "--role", "agent", "--password", "short"], "at least 10"),
        (
            ["ok@example.com", "--role", "boss", "--password", "long enough pw"],
            "'boss' is not one of",
        ),
    ]
    for args, message in cases:
        result = run(app, "users", "create", *args)
        assert result.exit_code in (1, 2), result.output
        assert message in result.output
    with app.app_context():
        assert count(User) == 0


def test_worker_runs_queued_jobs_inside_the_app(app):
    with app.app_context():
        job = get_queue("default").enqueue("jobs.maintenance.ping", "hello")
    result = run(app, "worker", "--burst", "--no-scheduler")
    assert result.exit_code == 0, result.output
    with app.app_context():
        job.refresh()
        assert job.get_status() == "finished"
        assert job.return_value() == {"value": "hello"}


def test_worker_refuses_unknown_queues(app):
    result = run(app, "worker", "--burst", "--queues", "nope")
    assert result.exit_code == 2 and "unknown queue" in result.output


def test_a_second_worker_with_a_name_in_use_is_told_to_pick_another(app):
    from jobs.worker import make_worker

    running = make_worker(app, simple=True, name="front-desk")
    running.register_birth()  # as a live worker does when it starts
    try:
        result = run(app, "worker", "--burst", "--name", "front-desk")
        assert result.exit_code == 1
        assert "a worker named 'front-desk' is running already" in result.output
    finally:
        running.register_death()


def test_seed_demo_puts_the_declarations_signature_on_its_signature_page(app):
    """The demo journey's saved layout: its fields sit on the "Signatures" page after the
    declaration, over the lines drawn for them, not off the declaration's foot."""
    from models import SignTemplate

    assert run(app, "seed", "demo", "--records", "1").exit_code == 0
    with app.app_context():
        layout = db.session.scalars(select(SignTemplate)).one()
        assert len(layout.pages) == 2
        assert {field["page"] for field in layout.fields} == {1}
