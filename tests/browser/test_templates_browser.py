"""An admin in Chromium: a template a workflow sends stays, and once the workflows are gone,
every sample campaign template can be deleted and added back from the templates list."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from app.services.campaign_templates import CAMPAIGN_TEMPLATES
from models import MessageTemplate, Workflow, db
from tests import factories
from tests.browser.test_admin_browser import blocked_scripts, watch_console

pytestmark = pytest.mark.browser


@pytest.fixture
def office(app):
    with app.app_context():
        from seeds.campaigns import seed_campaigns

        admin = factories.staff(
            role="admin", email="owner@example.com", first_name="Olga", last_name="Owner"
        )
        seed_campaigns()
        db.session.commit()
        return {"email": admin.email}


def row(page: Page, text: str):
    """The list row whose key or name is exactly ``text``."""
    exact = re.compile(rf"^\s*{re.escape(text)}\s*$")
    return page.locator("tr").filter(has=page.locator("td code, td", has_text=exact)).first


def delete_row(page: Page, base_url: str, view: str, text: str) -> None:
    page.goto(f"{base_url}/admin/{view}/?search={text}", wait_until="load")
    row(page, text).locator("button[type=submit]").click()  # "Delete ...?" is accepted


def test_every_sample_template_deleted_is_added_back_from_the_list(
    page: Page, base_url, office, app
):
    problems = watch_console(page)
    page.goto(f"{base_url}/staff/login")
    page.get_by_label("Email Address").fill(office["email"])
    page.get_by_label("Password").fill(factories.PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text("Good to see you, Olga")).to_be_visible()
    page.on("dialog", lambda dialog: dialog.accept())

    delete_row(page, base_url, "template", "campaign.aep.sms")
    expect(page.locator(".alert-danger")).to_contain_text(
        "is sent by the workflow “Annual review (AEP)”"
    )
    for name in ("Annual review (AEP)", "Quote follow-up: Medicare Advantage"):
        delete_row(page, base_url, "workflow", name)
        expect(page.locator(".alert-success")).to_contain_text("Workflow deleted.")
    for key in CAMPAIGN_TEMPLATES:
        delete_row(page, base_url, "template", key)
        expect(page.locator(".alert-success")).to_contain_text("Template deleted.")
    with app.app_context():
        assert not db.session.scalars(
            select(MessageTemplate).where(MessageTemplate.key.in_(CAMPAIGN_TEMPLATES))
        ).all()
        assert not db.session.scalars(select(Workflow)).all()

    page.goto(f"{base_url}/admin/template/", wait_until="load")
    page.get_by_role("button", name="Restore missing defaults").click()
    expect(page.locator(".alert-success")).to_contain_text(
        "Every system template is there. 5 sample campaign templates are not in your list: "
        "you can add them under Sample campaign templates."
    )
    page.get_by_role("link", name="Sample campaign templates").click()
    expect(page.get_by_role("heading", name="Sample campaign templates")).to_be_visible()
    page.get_by_role("button", name="Add Annual review (text)").click()
    expect(page.locator(".alert-success")).to_contain_text(
        "Added 1 sample campaign template: Annual review (text)."
    )
    page.get_by_role("button", name="Add all 4 missing").click()
    expect(page.locator(".alert-success")).to_contain_text(
        "Added 4 sample campaign templates: Quote follow-up, Quote follow-up (text), "
        "Annual review: it is that time, Annual review: book a time."
    )
    expect(page.get_by_text("Every sample campaign template is in your list.")).to_be_visible()

    page.get_by_role("link", name="Back to the templates").click()
    for key in CAMPAIGN_TEMPLATES:
        expect(row(page, key)).to_be_visible()
    with app.app_context():
        stored = db.session.scalar(
            select(MessageTemplate).where(MessageTemplate.key == "campaign.aep.book")
        )
        assert stored.body == CAMPAIGN_TEMPLATES["campaign.aep.book"].body
    assert blocked_scripts(problems) == []
