from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from models import Task, TaskKind, db
from tests import factories


def test_my_open_tasks_shows_only_mine_and_open(app, agent_client, agent_user):
    with app.app_context():
        other = factories.staff()
        factories.task("Mine and open", agent_user)
        factories.task("Mine but done", agent_user, done=True)
        factories.task("Not mine", other)
    html = agent_client.get("/admin/my_tasks/").get_data(as_text=True)
    assert "Mine and open" in html
    assert "Mine but done" not in html and "Not mine" not in html


def test_create_a_call_task_in_the_office_time_zone(app, agent_client, agent_user):
    with app.app_context():
        record = factories.record().id
    page = f"/admin/task/new/?record_id={record}&kind=call"
    html = agent_client.get(page).get_data(as_text=True)
    assert 'value="call" selected' in html or 'selected value="call"' in html
    response = agent_client.submit(
        "/admin/task/new/",
        {
            "title": "Call about the quote",
            "kind": "call",
            "due_at": "2026-12-01 09:30",
            "assignee": str(agent_user.id),
            "record": str(record),
            "notes": "",
        },
        page=page,
    )
    assert response.status_code == 302
    with app.app_context():
        task = db.session.scalar(select(Task))
        # 09:30 in New York (the test office) is 14:30 UTC in December.
        assert task.due_at == datetime(2026, 12, 1, 14, 30, tzinfo=UTC)
        assert task.kind == TaskKind.CALL and task.created_by_id == agent_user.id
    html = agent_client.get("/admin/task/").get_data(as_text=True)
    assert "2026-12-01 09:30" in html


def test_a_task_without_a_title_is_a_field_error(agent_client):
    response = agent_client.submit("/admin/task/new/", {"title": "", "kind": "todo"})
    assert response.status_code == 200
    assert "This field is required." in response.get_data(as_text=True)


def test_mark_done_from_the_dashboard(app, agent_client, agent_user):
    with app.app_context():
        task = factories.task(
            "Send comparison", agent_user, due_at=datetime.now(UTC) - timedelta(hours=1)
        ).id
    html = agent_client.get("/admin/").get_data(as_text=True)
    assert "Send comparison" in html and "text-danger" in html  # overdue shows
    response = agent_client.submit(f"/admin/task/{task}/done/", {"url": "/admin/"}, page="/admin/")
    assert response.headers["Location"] == "/admin/"
    assert "Send comparison" not in agent_client.get("/admin/").get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Task, task).done


def test_bulk_mark_done(app, agent_client, agent_user):
    with app.app_context():
        ids = [factories.task(f"T{n}", agent_user).id for n in range(3)]
    agent_client.submit(
        "/admin/task/action/",
        {"action": "complete", "rowid": [str(i) for i in ids]},
        page="/admin/task/",
    )
    with app.app_context():
        assert all(db.session.get(Task, i).done for i in ids)


def test_a_reminder_moved_to_a_later_time_reminds_again(app, agent_client, agent_user):
    from zoneinfo import ZoneInfo

    from jobs.sweeper import sweep
    from models import OutboxMessage, utcnow

    now = utcnow().replace(second=0, microsecond=0)
    with app.app_context():
        task_id = factories.task(
            "Bulk-tag AEP clients", agent_user, kind=TaskKind.REMINDER, due_at=now
        ).id
        assert sweep(now)["reminders_sent"] == 1
    later = now + timedelta(days=1)
    form = {
        "title": "Bulk-tag AEP clients",
        "kind": "reminder",
        "due_at": f"{later.astimezone(ZoneInfo('America/New_York')):%Y-%m-%d %H:%M}",
        "assignee": str(agent_user.id),
        "record": "",
        "notes": "",
    }
    url = f"/admin/task/edit/?id={task_id}"
    assert agent_client.submit(url, form).status_code == 302
    with app.app_context():
        assert sweep(now + timedelta(hours=1))["reminders_sent"] == 0  # not due at its new time
        assert sweep(later)["reminders_sent"] == 1
        assert sweep(later)["reminders_sent"] == 0
        assert len(db.session.scalars(select(OutboxMessage)).all()) == 2

    # Saving it unchanged does not remind a second time for the same due time.
    assert agent_client.submit(url, form).status_code == 302
    with app.app_context():
        assert sweep(later)["reminders_sent"] == 0
