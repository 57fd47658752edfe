from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

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


def test_the_due_picker_writes_the_format_the_server_reads(app, agent_client, agent_user):
    """The picker is told the field's own format, and what pickers and people send besides
    (seconds, an ISO "T", stray spaces) is read in the office's time zone."""
    html = agent_client.get("/admin/task/new/").get_data(as_text=True)
    assert 'data-date-format="YYYY-MM-DD HH:mm"' in html
    with app.app_context():
        record = factories.record().id
    for n, typed in enumerate(
        ["2027-09-01 08:00:00", "2027-09-01T08:00", " 2027-09-01  08:00 ", "2027-09-01 08:00"]
    ):
        response = agent_client.submit(
            "/admin/task/new/",
            {
                "title": f"Bulk-tag AEP clients {n}",
                "kind": "reminder",
                "due_at": typed,
                "assignee": str(agent_user.id),
                "record": str(record),
            },
        )
        assert response.status_code == 302, (typed, response.get_data(as_text=True)[-800:])
    with app.app_context():
        dues = set(db.session.scalars(select(Task.due_at)))
        # 08:00 in New York on September 1 is 12:00 UTC (summer time).
        assert dues == {datetime(2027, 9, 1, 12, 0, tzinfo=UTC)}


def test_a_due_time_that_is_not_one_says_so(app, agent_client, agent_user):
    response = agent_client.submit(
        "/admin/task/new/",
        {"title": "T", "kind": "todo", "due_at": "2027-13-45 08:00", "assignee": agent_user.id},
    )
    assert response.status_code == 200
    assert "Not a valid datetime value." in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(Task)) is None


def test_the_due_filter_reads_times_on_the_office_clock(app, agent_client, agent_user):
    with app.app_context():
        # 08:00 and 23:00 on September 1 in New York; 01:00 on September 2.
        for title, due in (
            ("Morning", datetime(2027, 9, 1, 12, 0, tzinfo=UTC)),
            ("Late", datetime(2027, 9, 2, 3, 0, tzinfo=UTC)),
            ("Next day", datetime(2027, 9, 2, 5, 0, tzinfo=UTC)),
        ):
            factories.task(title, agent_user, due_at=due)
    between = "2027-09-01 00:00:00 to 2027-09-01 23:59:59"
    response = agent_client.get("/admin/task/", query_string={"flt0_due_between": between})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Morning" in html and "Late" in html and "Next day" not in html


def test_every_date_filter_of_the_panel_answers(app, admin_client):
    """Timestamps are kept in UTC; each date filter of every list (found on the Admin object,
    so a new one is covered too) works in office days or times."""
    from flask_admin.contrib.sqla import ModelView

    with app.app_context():
        factories.record(first_name="Fresh", last_name="Today")
    today = datetime.now(ZoneInfo("America/New_York")).date()  # the test office's day
    values = {
        "daterangepicker": f"{today} to {today}",
        "datetimerangepicker": f"{today} 00:00:00 to {today} 23:59:59",
    }
    tried = []
    with app.test_request_context():
        views = [v for v in app.extensions["admin"][0]._views if isinstance(v, ModelView)]
        lists = [
            (v.get_url(f"{v.endpoint}.index_view"), f"flt0_{v.get_filter_arg(n, f)}", f.data_type)
            for v in views
            for n, f in enumerate(v._filters or ())
            if f.data_type in values
        ]
    for url, name, kind in lists:
        response = admin_client.get(url, query_string={name: values[kind]})
        assert response.status_code == 200, (url, name)
        tried.append(name)
    assert {"flt0_created_between", "flt0_date_between", "flt0_due_between"} <= set(tried)
    listed = admin_client.get(
        "/admin/record/", query_string={"flt0_created_between": values["daterangepicker"]}
    ).get_data(as_text=True)
    assert "Fresh Today" in listed
    yesterday = today - timedelta(days=1)
    earlier = admin_client.get(
        "/admin/record/", query_string={"flt0_created_between": f"{yesterday} to {yesterday}"}
    ).get_data(as_text=True)
    assert "Fresh Today" not in earlier


def test_a_form_that_fails_says_what_could_not_be_saved_in_our_words(agent_client):
    html = agent_client.submit("/admin/task/new/", {"title": "", "kind": "todo"}).get_data(
        as_text=True
    )
    assert "The task could not be created." in html
    assert "Failed to create record." not in html
