"""An admin in Chromium builds the annual-review workflow, bulk-tags clients after reading the
dry run, and stops one client's run from the record page."""

import re

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from models import ActionKind, ScheduledAction, Workflow, WorkflowRun, db
from tests import factories
from tests.browser.test_admin_browser import blocked_scripts, watch_console

pytestmark = pytest.mark.browser


def choose(page: Page, field_id: str, label: str) -> None:
    """Pick an option of a Select2 box the way a person does: open it, click the option."""
    page.locator(f"#s2id_{field_id}").click()
    page.locator(".select2-drop-active .select2-result-label", has_text=label).first.click()
    expect(page.locator(f"#s2id_{field_id}")).to_contain_text(label)


@pytest.fixture
def office(app):
    with app.app_context():
        admin = factories.staff(
            role="admin", email="owner@example.com", first_name="Olga", last_name="Owner"
        )
        for name in ("Ada", "Bob", "Cyd"):
            factories.record(first_name=name, last_name="Client", assigned_agent_id=admin.id)
        return {"email": admin.email}


def test_build_a_workflow_then_bulk_tag_with_a_dry_run(page: Page, base_url, office, app):
    problems = watch_console(page)
    page.goto(f"{base_url}/staff/login")
    page.get_by_label("Email Address").fill(office["email"])
    page.get_by_label("Password").fill(factories.PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text("Good to see you, Olga")).to_be_visible()

    page.goto(f"{base_url}/admin/workflow/new/")
    page.wait_for_load_state("load")  # the inline "Add Action" button needs its script
    page.get_by_label("Name").fill("Annual review")
    page.get_by_label("Active").check()
    page.get_by_label("Leads").uncheck()
    choose(page, "tag", "AEP Review Needed")
    for n, (amount, unit, kind, title) in enumerate(
        [("1", "minutes", "Create task", "Prepare the review"), ("7", "days", "Create call", "")]
    ):
        page.get_by_role("button", name="Add Action").click()
        page.locator(f"#actions-{n}-delay_amount").fill(amount)
        choose(page, f"actions-{n}-delay_unit", unit)
        choose(page, f"actions-{n}-kind", kind)
        # Each action shows only what its kind uses: a task has a title, not a template.
        expect(page.locator(f"#actions-{n}-task_title")).to_be_visible()
        expect(page.locator(f"#actions-{n}-template_key")).to_be_hidden()
        expect(page.locator(f"#actions-{n}-staff_user")).to_be_hidden()
        if title:
            page.locator(f"#actions-{n}-task_title").fill(title)
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_text("Workflow created.")).to_be_visible()
    with app.app_context():
        flow = db.session.scalar(select(Workflow).where(Workflow.name == "Annual review"))
        assert [a.kind for a in flow.actions] == [ActionKind.CREATE_TASK, ActionKind.CREATE_CALL]

    page.goto(f"{base_url}/admin/record/")
    page.wait_for_load_state("load")
    page.locator("input.action-checkbox").nth(0).check()
    page.locator("input.action-checkbox").nth(1).check()
    page.get_by_role("button", name="With selected").click()
    page.get_by_role("link", name="Add tag").click()
    expect(page.get_by_role("heading", name="Add a tag to 2 records")).to_be_visible()
    page.get_by_label("Tag").select_option(label="AEP Review Needed")
    page.get_by_role("button", name="Add tag").click()

    expect(page.get_by_text("Before you go ahead")).to_be_visible()
    expect(page.get_by_text("2 runs start.")).to_be_visible()
    with app.app_context():
        assert db.session.scalar(select(WorkflowRun.id)) is None  # only a preview so far
    page.get_by_role("button", name=re.compile("Add the tag to go ahead")).click()
    expect(page.get_by_text(re.compile(r"Tagged 2 records with AEP Review Needed"))).to_be_visible()

    with app.app_context():
        run = db.session.scalar(select(WorkflowRun))
        record_id, pending = run.record_id, len(run.actions)
    assert pending == 2
    page.goto(f"{base_url}/admin/record/details/?id={record_id}")
    page.wait_for_load_state("load")
    page.get_by_role("tab", name=re.compile("Workflows")).click()
    expect(page.get_by_text("Annual review").first).to_be_visible()
    page.once("dialog", lambda dialog: dialog.accept())  # it asks first
    page.get_by_role("button", name="Stop this run").click()
    expect(page.get_by_text("Run stopped: 2 actions cancelled.")).to_be_visible()
    with app.app_context():
        statuses = set(
            db.session.scalars(
                select(ScheduledAction.status).where(ScheduledAction.record_id == record_id)
            )
        )
    assert {s.value for s in statuses} == {"cancelled"}
    assert blocked_scripts(problems) == []
