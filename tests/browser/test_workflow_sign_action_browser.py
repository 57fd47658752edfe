"""An admin in Chromium adds the action "Send sign request" to a campaign and picks the saved
layout it sends: the action shows only the layout to choose."""

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from app.services.actors import Actor
from app.services.signing import saved_layouts
from models import ActionKind, Workflow, db
from tests import factories, sign_factories
from tests.browser.test_admin_browser import blocked_scripts, watch_console
from tests.browser.test_workflows_browser import choose

pytestmark = pytest.mark.browser


@pytest.fixture
def office(app):
    with app.app_context():
        admin = factories.staff(
            role="admin", email="owner@example.com", first_name="Olga", last_name="Owner"
        )
        factories.tag("Disclosure 2027")
        record = factories.record(email="source@example.com")
        request = sign_factories.sign_request(record, title="Annual disclosure")
        template = saved_layouts.save_from_request(
            request, "Annual disclosure", actor=Actor.system("test")
        )
        db.session.commit()
        return {"email": admin.email, "template_id": template.id}


def test_a_campaign_sends_a_saved_sign_request(page: Page, base_url, office, app):
    problems = watch_console(page)
    page.goto(f"{base_url}/staff/login")
    page.get_by_label("Email Address").fill(office["email"])
    page.get_by_label("Password").fill(factories.PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text("Good to see you, Olga")).to_be_visible()

    page.goto(f"{base_url}/admin/workflow/new/")
    page.wait_for_load_state("load")  # the inline "Add Action" button needs its script
    page.get_by_label("Name").fill("Annual disclosure campaign")
    page.get_by_label("Active").check()
    choose(page, "tag", "Disclosure 2027")
    page.get_by_role("button", name="Add Action").click()
    page.locator("#actions-0-delay_amount").fill("0")
    choose(page, "actions-0-kind", "Send sign request")
    expect(page.locator("#s2id_actions-0-sign_template")).to_be_visible()
    for unused in ("template_key", "task_title", "tag", "target"):
        expect(page.locator(f"#actions-0-{unused}").locator("xpath=..")).to_be_hidden()
    choose(page, "actions-0-sign_template", "Annual disclosure")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_text("Workflow created.")).to_be_visible()
    with app.app_context():
        flow = db.session.scalar(
            select(Workflow).where(Workflow.name == "Annual disclosure campaign")
        )
        [action] = flow.actions
        assert action.kind == ActionKind.SEND_SIGN_REQUEST
        assert action.sign_template_id == office["template_id"]
    assert blocked_scripts(problems) == []
