"""Workflows from the admin panel: built with real forms, copied, started, watched, stopped."""

import re
from datetime import time, timedelta

from sqlalchemy import func, select

from app.services import workflows
from models import (
    ActionKind,
    ActionStatus,
    ActivityEntry,
    DelayUnit,
    Product,
    ProductStatus,
    RunStatus,
    ScheduledAction,
    Tag,
    Workflow,
    WorkflowAction,
    WorkflowRun,
    db,
)
from tests import factories


def _workflow_form(coverage_id, **extra):
    """The workflow form as a person fills it in: triggers, window, and two inline actions."""
    form = {
        "name": "  Quote   follow-up MA ",
        "active": "y",
        "for_leads": "y",
        "for_clients": "y",
        "product_status": "quoted",
        "coverage_type": str(coverage_id),
        "stop_when_unmatched": "y",
        "window_days": ["0", "1", "2", "3", "4"],
        "window_start": "08:00",
        "window_end": "20:00",
        "actions-0-position": "0",
        "actions-0-delay_amount": "1",
        "actions-0-delay_unit": "minutes",
        "actions-0-kind": "enable_self_service",
        "actions-0-target": "record",
        "actions-1-position": "1",
        "actions-1-delay_amount": "5",
        "actions-1-delay_unit": "days",
        "actions-1-kind": "create_call",
        "actions-1-target": "agent",
        "actions-1-task_title": "Call {{ record.full_name }} about the quote",
    }
    form.update(extra)
    return form


def _quoted_workflow(app, active=True, name="Quote follow-up MA"):
    with app.app_context():
        coverage = factories.coverage("Medicare Advantage")
        flow = Workflow(
            name=name,
            active=active,
            product_status=ProductStatus.QUOTED,
            coverage_type_id=coverage.id,
            stop_when_unmatched=True,
        )
        flow.actions = [
            WorkflowAction(
                position=0,
                delay_amount=2,
                delay_unit=DelayUnit.DAYS,
                kind=ActionKind.CREATE_TASK,
                task_title="Follow up",
            ),
            WorkflowAction(
                position=1,
                delay_amount=5,
                delay_unit=DelayUnit.DAYS,
                kind=ActionKind.CREATE_CALL,
            ),
        ]
        db.session.add(flow)
        db.session.commit()
        return flow.id, coverage.id


def test_an_admin_builds_a_workflow_with_its_actions_and_window(app, admin_client):
    with app.app_context():
        coverage_id = factories.coverage("Medicare Advantage").id
    response = admin_client.submit(
        "/admin/workflow/new/", _workflow_form(coverage_id), page="/admin/workflow/new/"
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    with app.app_context():
        flow = db.session.scalar(select(Workflow))
        assert flow.name == "Quote follow-up MA"
        assert flow.window_days == "01234"
        assert (flow.window_start, flow.window_end) == (time(8), time(20))
        assert [(a.position, a.delay_amount, a.delay_unit, a.kind) for a in flow.actions] == [
            (0, 1, DelayUnit.MINUTES, ActionKind.ENABLE_SELF_SERVICE),
            (1, 5, DelayUnit.DAYS, ActionKind.CREATE_CALL),
        ]
        flow_id = flow.id

    listing = admin_client.get("/admin/workflow/").get_data(as_text=True)
    assert "Quote follow-up MA" in listing
    assert "Leads and clients, with a Medicare Advantage product that is Quoted" in listing
    page = admin_client.get(f"/admin/workflow/details/?id={flow_id}").get_data(as_text=True)
    assert "Enable self service" in page and "Create call task" in page
    assert "Sends Mon\N{EN DASH}Fri 08:00 to 20:00." in page  # the window, in words

    # The edit form shows the window as it was saved.
    edit = admin_client.get(f"/admin/workflow/edit/?id={flow_id}").get_data(as_text=True)
    assert re.search(r'value="0"[^>]*checked|checked[^>]*value="0"', edit)
    assert 'value="08:00"' in edit


def test_bad_workflows_are_refused_with_a_message(app, admin_client):
    with app.app_context():
        coverage_id = factories.coverage("Medicare Advantage").id
    cases = [
        ({"product_status": "__None", "coverage_type": "__None"}, "Choose at least one trigger"),
        ({"window_end": "07:00"}, "The window must end after it starts"),
        ({"window_days": []}, "A sending window needs days, a start and an end."),
        ({"for_leads": "", "for_clients": ""}, "Choose leads, clients or both."),
        ({"actions-1-kind": "send_email"}, "Action 2: Send email: choose an email template."),
        ({"actions-1-kind": "add_tag"}, "Action 2: Add tag: choose the tag."),
        ({"actions-1-target": "staff"}, "Action 2: Choose the staff member the action is for."),
        (
            {"actions-1-task_title": "Call {{ 'x' * 10**9 }}"},
            "Action 2: Create call task: The text could not be filled in: That repeats too much",
        ),
        # Actions are kept in the order they fire: a negative delay would come first.
        ({"actions-1-delay_amount": "-3"}, "Action 1: A delay cannot be negative."),
        (
            {"actions-1-delay_amount": "9000", "actions-1-delay_unit": "years"},
            "Action 2: A delay can be at most 10 years.",
        ),
    ]
    for changes, message in cases:
        form = _workflow_form(coverage_id, **changes)
        form = {k: v for k, v in form.items() if v not in ("", [])}
        response = admin_client.submit("/admin/workflow/new/", form, page="/admin/workflow/new/")
        html = response.get_data(as_text=True)
        assert response.status_code == 200, (changes, response.status_code)
        assert message in html, (
            changes,
            re.findall(r'class="[^"]*(?:invalid-feedback|alert)[^"]*"[^>]*>([^<]+)', html),
        )
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Workflow)) == 0


def test_agents_cannot_reach_workflows(agent_client):
    assert agent_client.get("/admin/workflow/").status_code == 403
    assert agent_client.get("/admin/workflow/new/").status_code == 403


def test_copy_from_the_workflow_page_opens_an_inactive_duplicate(app, admin_client):
    flow_id, _ = _quoted_workflow(app)
    page = f"/admin/workflow/details/?id={flow_id}"
    response = admin_client.submit(f"/admin/workflow/{flow_id}/copy/", page=page)
    assert response.status_code == 302 and "/admin/workflow/edit/" in response.location
    with app.app_context():
        copy = db.session.scalar(select(Workflow).where(Workflow.id != flow_id))
        assert copy.name == "Copy of Quote follow-up MA" and not copy.active
        assert [a.kind for a in copy.actions] == [ActionKind.CREATE_TASK, ActionKind.CREATE_CALL]
    assert "inactive" in admin_client.get(response.location).get_data(as_text=True)


def test_starting_a_workflow_for_records_that_already_match(app, admin_client):
    flow_id, coverage_id = _quoted_workflow(app, active=False)
    with app.app_context():
        for _ in range(3):
            record = factories.record()
            db.session.add(
                Product(
                    record_id=record.id,
                    carrier="Humana",
                    coverage_type_id=coverage_id,
                    status=ProductStatus.QUOTED,
                )
            )
        db.session.commit()
        flow = db.session.get(Workflow, flow_id)
        flow.active = True
        db.session.commit()
    page = f"/admin/workflow/details/?id={flow_id}"
    html = admin_client.get(page).get_data(as_text=True)
    assert "Start for the matching records without a run" in html
    response = admin_client.submit(
        f"/admin/workflow/{flow_id}/start-matching/", page=page, follow_redirects=True
    )
    html = response.get_data(as_text=True)
    assert "Started 3 runs, 6 actions scheduled." in html
    assert "Start for the matching records without a run" not in html
    assert "Next: Create task at" in html
    listing = admin_client.get("/admin/workflow/").get_data(as_text=True)
    assert "3 running" in listing

    # Again: nothing doubles.
    admin_client.submit(f"/admin/workflow/{flow_id}/start-matching/", page=page)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(WorkflowRun)) == 3


def test_scheduled_actions_filter_and_cancel(app, admin_client, agent_client):
    flow_id, coverage_id = _quoted_workflow(app)
    with app.app_context():
        names = []
        for first in ("Ann", "Bo"):
            record = factories.record(first_name=first, last_name="Quoted")
            factories.product(record, coverage_type_id=coverage_id)
            workflows.evaluate([record.id])
            names.append(record.id)
        db.session.commit()
        ann_actions = db.session.scalars(
            select(ScheduledAction.id).where(ScheduledAction.record_id == names[0])
        ).all()

    listing = agent_client.get(
        f"/admin/scheduled/?flt0_workflow_is={flow_id}&flt1_status_is=pending"
    ).get_data(as_text=True)
    # Two rows each, and the call task's title is filled in for the record.
    assert listing.count("Ann Quoted") == 3 and listing.count("Bo Quoted") == 3
    assert "Call Ann Quoted" in listing and "{{" not in listing
    only_ann = agent_client.get(f"/admin/scheduled/?flt0_record_is={names[0]}").get_data(
        as_text=True
    )
    assert "Bo Quoted" not in only_ann

    response = agent_client.submit(
        "/admin/scheduled/action/",
        {"action": "cancel", "rowid": [str(ann_actions[0])]},
        page="/admin/scheduled/",
        follow_redirects=True,
    )
    assert "Cancelled 1 action" in response.get_data(as_text=True)
    with app.app_context():
        first = db.session.get(ScheduledAction, ann_actions[0])
        assert first.status == ActionStatus.CANCELLED
        assert db.session.get(ScheduledAction, ann_actions[1]).status == ActionStatus.PENDING
    # Cancelling twice is harmless and says so.
    response = agent_client.submit(
        "/admin/scheduled/action/",
        {"action": "cancel", "rowid": [str(ann_actions[0])]},
        page="/admin/scheduled/",
        follow_redirects=True,
    )
    assert "Cancelled 0 actions; only pending ones can be cancelled." in response.get_data(
        as_text=True
    )


def test_a_record_page_shows_its_runs_and_stops_them(app, agent_client):
    _, coverage_id = _quoted_workflow(app)
    with app.app_context():
        record = factories.record(first_name="Tess", last_name="Timeline")
        factories.product(record, coverage_type_id=coverage_id)
        workflows.evaluate([record.id])
        db.session.commit()
        record_id = record.id
        run = db.session.scalar(select(WorkflowRun))
        first, _ = run.actions
        run_id, first_id = run.id, first.id

    page = f"/admin/record/details/?id={record_id}"
    html = agent_client.get(page).get_data(as_text=True)
    assert "Quote follow-up MA" in html and "Stop this run" in html
    assert html.count(">Cancel</button>") == 2
    assert "Create call task: Call Tess Timeline" in html

    agent_client.submit(
        f"/admin/scheduled/{first_id}/cancel/", {"url": page + "#workflows"}, page=page
    )
    html = agent_client.get(page).get_data(as_text=True)
    assert html.count(">Cancel</button>") == 1

    response = agent_client.submit(
        f"/admin/scheduled/runs/{run_id}/cancel/", {"url": page}, page=page
    )
    assert response.status_code == 302 and response.location.endswith(page)
    html = agent_client.get(page).get_data(as_text=True)
    assert "Run stopped: 1 action cancelled." in html
    assert "Stop this run" not in html and "stopped by staff" in html
    with app.app_context():
        assert db.session.get(WorkflowRun, run_id).status == RunStatus.CANCELLED


def test_the_return_address_of_a_cancel_stays_on_this_site(app, agent_client):
    _, coverage_id = _quoted_workflow(app)
    with app.app_context():
        record = factories.record()
        factories.product(record, coverage_type_id=coverage_id)
        workflows.evaluate([record.id])
        db.session.commit()
        action_id = db.session.scalar(select(ScheduledAction.id))
    response = agent_client.submit(
        f"/admin/scheduled/{action_id}/cancel/",
        {"url": "https://evil.example.com/"},
        page="/admin/scheduled/",
    )
    assert response.status_code == 302
    assert "evil.example.com" not in response.location


def _aep_workflow(app):
    with app.app_context():
        aep = db.session.scalar(select(Tag).where(Tag.name == "AEP Review Needed"))  # seeded
        flow = Workflow(name="Annual review", active=True, for_leads=False, tag_id=aep.id)
        flow.actions = [
            WorkflowAction(
                position=0,
                delay_amount=1,
                delay_unit=DelayUnit.MINUTES,
                kind=ActionKind.CREATE_TASK,
                task_title="Prepare review",
            ),
            WorkflowAction(
                position=1, delay_amount=7, delay_unit=DelayUnit.DAYS, kind=ActionKind.CREATE_CALL
            ),
        ]
        db.session.add(flow)
        db.session.commit()
        return aep.id


def test_bulk_tag_shows_a_dry_run_before_anything_changes(app, agent_client):
    aep = _aep_workflow(app)
    with app.app_context():
        ids = [str(factories.record().id) for _ in range(4)]
        lead = str(factories.record(kind="lead").id)
    form = {"operation": "add", "tag_id": aep, "record_id": [*ids, lead], "url": "/admin/record/"}
    response = agent_client.submit("/admin/record/bulk-tag/", form, page="/admin/record/")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Before you go ahead" in html and "Annual review" in html
    assert "4 runs start." in html
    assert re.search(r"Create task</td><td[^>]*>4<", html)
    with app.app_context():  # nothing yet
        assert db.session.scalar(select(func.count()).select_from(WorkflowRun)) == 0

    token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    confirm = dict(
        re.findall(
            r'<input type="hidden" name="(operation|tag_id|confirm)" '
            r'value="([^"]*)"',
            html,
        )
    )
    response = agent_client.post(
        "/admin/record/bulk-tag/",
        data={
            **confirm,
            "csrf_token": token,
            "record_id": [*ids, lead],
            "scope": "selected",
            "url": "/admin/record/",
        },
    )
    assert response.status_code == 302
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(WorkflowRun)) == 4
        assert db.session.scalar(select(func.count()).select_from(ScheduledAction)) == 8


def test_tag_everyone_in_the_filtered_list(app, agent_client):
    aep = _aep_workflow(app)
    with app.app_context():
        for n in range(5):
            factories.record(last_name=f"Kind{n}")
        for n in range(3):
            factories.record(last_name=f"Lead{n}", kind="lead")
    listing = agent_client.get("/admin/record/?flt0_kind_is=client").get_data(as_text=True)
    link = re.search(r'href="([^"]*bulk-tag/[^"]*)">Tag or untag all (\d+) in this list', listing)
    assert link and link.group(2) == "5", "the list offers to tag everyone it shows"
    url = link.group(1).replace("&amp;", "&")
    html = agent_client.get(url).get_data(as_text=True)
    assert "Tag or untag 5 records in the filtered list" in html
    form_action = re.search(
        r'<form method="post" action="([^"]+)" id="pt-bulk-tag-form"', html
    ).group(1)
    form_action = form_action.replace("&amp;", "&")
    response = agent_client.submit(
        form_action, {"scope": "filter", "operation": "add", "tag_id": aep}, page=url
    )
    assert "5 runs start." in response.get_data(as_text=True)
    response = agent_client.submit(
        form_action,
        {"scope": "filter", "operation": "add", "tag_id": aep, "confirm": "1"},
        page=url,
        follow_redirects=True,
    )
    assert "Tagged 5 records with AEP Review Needed" in response.get_data(as_text=True)
    with app.app_context():
        runs = db.session.scalars(select(WorkflowRun)).all()
        assert len(runs) == 5 and {r.record.kind.value for r in runs} == {"client"}

    # Taking the tag off the same list stops them, after saying so.
    response = agent_client.submit(
        form_action, {"scope": "filter", "operation": "remove", "tag_id": aep}, page=url
    )
    assert "5 runs stop" in response.get_data(as_text=True)
    agent_client.submit(
        form_action,
        {"scope": "filter", "operation": "remove", "tag_id": aep, "confirm": "1"},
        page=url,
    )
    with app.app_context():
        assert {r.status for r in db.session.scalars(select(WorkflowRun))} == {RunStatus.CANCELLED}


def test_editing_actions_reschedules_runs_only_when_asked(app, admin_client):
    flow_id, coverage_id = _quoted_workflow(app)
    with app.app_context():
        record = factories.record()
        factories.product(record, coverage_type_id=coverage_id)
        workflows.evaluate([record.id])
        db.session.commit()
        flow = db.session.get(Workflow, flow_id)
        first, second = flow.actions
        started = db.session.scalar(select(WorkflowRun.started_at))
        before = db.session.scalars(
            select(ScheduledAction.due_at).order_by(ScheduledAction.position)
        ).all()
    edit = f"/admin/workflow/edit/?id={flow_id}"

    def post(delay, apply):
        form = {
            "name": "Quote follow-up MA",
            "active": "y",
            "for_leads": "y",
            "for_clients": "y",
            "product_status": "quoted",
            "coverage_type": str(coverage_id),
            "stop_when_unmatched": "y",
            "actions-0-id": str(first.id),
            "actions-0-position": "0",
            "actions-0-delay_amount": str(delay),
            "actions-0-delay_unit": "days",
            "actions-0-kind": "create_task",
            "actions-0-target": "record",
            "actions-0-task_title": "Follow up",
            "actions-1-id": str(second.id),
            "actions-1-position": "1",
            "actions-1-delay_amount": "5",
            "actions-1-delay_unit": "days",
            "actions-1-kind": "create_call",
            "actions-1-target": "record",
        }
        if apply:
            form["apply_to_running"] = "y"
        response = admin_client.submit(edit, form, page=edit, follow_redirects=True)
        assert response.status_code == 200
        return response.get_data(as_text=True)

    post(3, apply=False)
    with app.app_context():
        assert (
            db.session.scalars(
                select(ScheduledAction.due_at).order_by(ScheduledAction.position)
            ).all()
            == before
        )
        assert db.session.get(Workflow, flow_id).version == 2

    html = post(4, apply=True)
    assert "The changed actions now apply to 1 run under way." in html
    with app.app_context():
        dues = db.session.scalars(
            select(ScheduledAction.due_at).order_by(ScheduledAction.position)
        ).all()
        assert [d.replace(tzinfo=None) for d in dues] == [
            (started + timedelta(days=4)).replace(tzinfo=None),
            before[1].replace(tzinfo=None),
        ]


def test_choices_made_in_the_form_count_before_they_are_saved(app, admin_client):
    """Tag trigger, a tag to add and a chosen staff member come from select boxes: the
    checks see them although nothing is written yet."""
    with app.app_context():
        aep = db.session.scalar(select(Tag).where(Tag.name == "AEP Review Needed"))
        done = factories.tag("Review booked")
        helper = factories.staff(first_name="Hal", last_name="Helper")
        aep_id, done_id, helper_id = aep.id, done.id, helper.id
    form = {
        "name": "Annual review",
        "for_clients": "y",
        "tag": str(aep_id),
        "actions-0-delay_amount": "1",
        "actions-0-delay_unit": "days",
        "actions-0-kind": "add_tag",
        "actions-0-target": "record",
        "actions-0-tag": str(done_id),
        "actions-1-delay_amount": "2",
        "actions-1-delay_unit": "days",
        "actions-1-kind": "create_task",
        "actions-1-target": "staff",
        "actions-1-staff_user": str(helper_id),
        "actions-1-task_title": "Check on {{ record.full_name }}",
    }
    response = admin_client.submit("/admin/workflow/new/", form, page="/admin/workflow/new/")
    assert response.status_code == 302, response.get_data(as_text=True)[-3000:]
    with app.app_context():
        flow = db.session.scalar(select(Workflow))
        assert flow.tag_id == aep_id and not flow.for_leads
        assert [(a.tag_id, a.staff_user_id) for a in flow.actions] == [
            (done_id, None),
            (None, helper_id),
        ]


def test_actions_are_kept_in_the_order_they_fire(app, admin_client):
    with app.app_context():
        coverage_id = factories.coverage("Medicare Advantage").id
    form = _workflow_form(
        coverage_id,
        **{"actions-0-delay_amount": "3", "actions-0-delay_unit": "weeks"},  # after the call
    )
    assert (
        admin_client.submit("/admin/workflow/new/", form, page="/admin/workflow/new/").status_code
        == 302
    )
    with app.app_context():
        flow = db.session.scalar(select(Workflow))
        assert [(a.position, a.kind) for a in flow.actions] == [
            (0, ActionKind.CREATE_CALL),
            (1, ActionKind.ENABLE_SELF_SERVICE),
        ]


def test_bulk_tag_refuses_a_filter_it_cannot_read(app, agent_client):
    aep = _aep_workflow(app)
    with app.app_context():
        for _ in range(3):
            factories.record()
    page = "/admin/record/bulk-tag/?scope=filter&flt0_kind_is=bogus"
    response = agent_client.get(page, follow_redirects=True)
    assert "A filter in the address is not valid" in response.get_data(as_text=True)
    response = agent_client.submit(
        page,
        {"scope": "filter", "operation": "add", "tag_id": aep, "confirm": "1"},
        page="/admin/record/",
        follow_redirects=True,
    )
    assert "A filter in the address is not valid" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(WorkflowRun)) == 0


def test_bulk_tag_goes_by_the_form_and_rechecks_the_list(app, agent_client):
    aep = _aep_workflow(app)
    with app.app_context():
        for n in range(2):
            factories.record(last_name=f"Early{n}", tags=[db.session.get(Tag, aep)])
    url = "/admin/record/bulk-tag/?scope=filter&operation=add&flt0_kind_is=client"
    # The form says remove: the address does not get to say add.
    response = agent_client.submit(
        url,
        {"scope": "filter", "operation": "remove", "tag_id": aep, "expected": "2", "confirm": "1"},
        page="/admin/record/",
        follow_redirects=True,
    )
    assert "Removed AEP Review Needed from 2 records." in response.get_data(as_text=True)
    with app.app_context():
        factories.record(last_name="Late")
    # A record joined the list after the preview: it is shown again, not applied.
    response = agent_client.submit(
        url,
        {"scope": "filter", "operation": "add", "tag_id": aep, "expected": "2", "confirm": "1"},
        page="/admin/record/",
    )
    html = response.get_data(as_text=True)
    assert "it now holds 3 records, not 2" in html
    with app.app_context():  # nothing applied: no record is in the workflow
        running = select(func.count()).where(WorkflowRun.status == RunStatus.RUNNING)
        assert db.session.scalar(running) == 0


def test_odd_addresses_and_ids_get_a_clear_answer(app, admin_client):
    flow_id, _ = _quoted_workflow(app)
    assert admin_client.get("/admin/record/?scope=x").status_code == 200
    response = admin_client.get("/admin/record/?endpoint=x&_method=POST")
    assert response.status_code == 400
    assert "argument Portico does not use: _method" in response.get_data(as_text=True)
    response = admin_client.submit(
        "/admin/workflow/action/",
        {"action": "copy", "rowid": ["abc", str(flow_id), "99999999999999999999999"]},
        page="/admin/workflow/",
        follow_redirects=True,
    )
    assert response.status_code == 200
    assert "Copy of Quote follow-up MA" in response.get_data(as_text=True)
    response = admin_client.submit(
        "/admin/scheduled/99999999999999999999999/cancel/", page="/admin/scheduled/"
    )
    assert response.status_code in (302, 400, 404)
    assert admin_client.get("/admin/workflow/details/?id=99999999999999999999999").status_code in (
        302,
        400,
        404,
    )


def test_agents_see_workflow_names_without_links_they_cannot_open(app, agent_client):
    flow_id, coverage_id = _quoted_workflow(app)
    with app.app_context():
        record = factories.record()
        factories.product(record, coverage_type_id=coverage_id)
        workflows.evaluate([record.id])
        db.session.commit()
        record_id = record.id
    for page in ("/admin/scheduled/", f"/admin/record/details/?id={record_id}"):
        html = agent_client.get(page).get_data(as_text=True)
        assert "Quote follow-up MA" in html
        assert f"/admin/workflow/details/?id={flow_id}" not in html


def test_staff_changes_to_workflows_and_tags_are_in_the_activity_log(app, admin_client):
    aep = _aep_workflow(app)
    with app.app_context():
        ids = [str(factories.record(first_name=f"Log{n}").id) for n in range(2)]
    admin_client.submit(
        "/admin/record/bulk-tag/",
        {"operation": "add", "tag_id": aep, "record_id": ids, "confirm": "1"},
        page="/admin/record/",
    )
    with app.app_context():
        run = db.session.scalar(select(WorkflowRun).where(WorkflowRun.record_id == int(ids[0])))
        run_id = run.id
    page = f"/admin/record/details/?id={ids[0]}"
    admin_client.submit(f"/admin/scheduled/runs/{run_id}/cancel/", {"url": page}, page=page)
    flow_id = _quoted_workflow(app, name="To copy")[0]
    admin_client.submit(
        f"/admin/workflow/{flow_id}/copy/", page=f"/admin/workflow/details/?id={flow_id}"
    )
    with app.app_context():
        entries = db.session.execute(
            select(ActivityEntry.event_key, ActivityEntry.record_id, ActivityEntry.summary)
            .where(ActivityEntry.event_key.like("staff.%"))
            .order_by(ActivityEntry.id)
        ).all()
    assert [(key, str(rid) if rid else None) for key, rid, _ in entries] == [
        ("staff.tags.changed", ids[0]),
        ("staff.tags.changed", ids[1]),
        ("staff.workflow.stopped", ids[0]),
        ("staff.workflow.changed", None),
    ]
    assert entries[0].summary == "Bea Boss changed the record's tags: added AEP Review Needed."
    assert "Annual review: the run (2 actions cancelled)" in entries[2].summary
    assert entries[3].summary.endswith("Copy of To copy: copied from To copy.")


def _tag_workflow(app, name="AEP review"):
    with app.app_context():
        tag = factories.tag(name)
        flow = Workflow(name=name, active=True, tag_id=tag.id, stop_when_unmatched=True)
        flow.actions = [
            WorkflowAction(
                position=0, delay_amount=1, delay_unit=DelayUnit.DAYS, kind=ActionKind.CREATE_TASK
            )
        ]
        db.session.add(flow)
        db.session.commit()
        return flow.id, tag.id


def test_tags_chosen_in_the_record_form_start_and_stop_workflows(app, agent_client):
    from tests.views.test_admin_records import record_form

    flow_id, tag_id = _tag_workflow(app)
    with app.app_context():
        record = factories.record(first_name="Ada", last_name="Form", email="ada@example.com")
    url = f"/admin/record/edit/?id={record.id}"
    form = record_form(kind="client", first_name="Ada", last_name="Form", email="ada@example.com")

    response = agent_client.submit(url, {**form, "tags": [str(tag_id)]}, follow_redirects=True)
    assert "Workflows started: 1" in response.get_data(as_text=True)
    with app.app_context():
        [run] = db.session.scalars(select(WorkflowRun)).all()
        assert (run.workflow_id, run.status) == (flow_id, RunStatus.RUNNING)
        entry = db.session.scalar(
            select(ActivityEntry).where(ActivityEntry.event_key == "staff.tags.changed")
        )
        assert entry.record_id == record.id and entry.details["change"] == "added"

    response = agent_client.submit(url, form, follow_redirects=True)
    assert "Workflows stopped: 1" in response.get_data(as_text=True)
    with app.app_context():
        run = db.session.scalar(select(WorkflowRun))
        assert run.status == RunStatus.CANCELLED
        assert db.session.scalar(select(ScheduledAction.status)) == ActionStatus.CANCELLED


def test_a_product_moved_to_another_record_stops_the_old_records_run(app, agent_client):
    from tests.views.test_admin_products import product_form

    _, coverage_id = _quoted_workflow(app)
    with app.app_context():
        first, second = factories.record(), factories.record()
        product = factories.product(first, coverage_type_id=coverage_id)
        workflows.evaluate([first.id], products=True)
        db.session.commit()
        ids = first.id, second.id, product.id
    url = f"/admin/product/edit/?id={ids[2]}"
    assert agent_client.submit(url, product_form(ids[1], coverage_id)).status_code == 302
    with app.app_context():
        runs = {r.record_id: r.status for r in db.session.scalars(select(WorkflowRun))}
        assert runs == {ids[0]: RunStatus.CANCELLED, ids[1]: RunStatus.RUNNING}


def test_switching_a_workflow_off_in_its_form_stops_its_runs(app, admin_client):
    flow_id, tag_id = _tag_workflow(app)
    with app.app_context():
        ids = [factories.record(tags=[db.session.get(Tag, tag_id)]).id for _ in range(2)]
        workflows.evaluate(ids, tag_ids={tag_id})
        db.session.commit()
    edit = f"/admin/workflow/edit/?id={flow_id}"
    form = {
        "name": "AEP review",
        "for_leads": "y",
        "for_clients": "y",
        "tag": str(tag_id),
        "stop_when_unmatched": "y",
        "actions-0-position": "0",
        "actions-0-delay_amount": "1",
        "actions-0-delay_unit": "days",
        "actions-0-kind": "create_task",
        "actions-0-target": "record",
    }
    with app.app_context():
        form["actions-0-id"] = str(db.session.scalar(select(WorkflowAction.id)))
    html = admin_client.submit(edit, form, page=edit, follow_redirects=True).get_data(as_text=True)
    assert "Switched off: 2 runs under way stopped." in html
    with app.app_context():
        assert set(db.session.scalars(select(WorkflowRun.status))) == {RunStatus.CANCELLED}
        assert set(db.session.scalars(select(ScheduledAction.status))) == {ActionStatus.CANCELLED}
        change = db.session.scalar(
            select(ActivityEntry).where(ActivityEntry.event_key == "staff.workflow.changed")
        )
        assert "switched off, 2 runs under way stopped" in change.summary + str(change.details)


def test_the_schedule_pages_in_few_queries_whatever_its_length(app, agent_client, count_queries):
    _, coverage_id = _quoted_workflow(app)

    def queries_for(n):
        with app.app_context():
            for _ in range(n):
                record = factories.record(assigned_agent=factories.staff())
                factories.product(record, coverage_type_id=coverage_id)
                workflows.evaluate([record.id])
            db.session.commit()
        with count_queries() as counter:
            page = agent_client.get("/admin/scheduled/?page_size=100").get_data(as_text=True)
        assert "{{" not in page
        return len(counter.statements)

    assert queries_for(5) == queries_for(40)
