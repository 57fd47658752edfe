"""An admin changes who is told about an event, in Chromium."""

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from models import NotificationRule, db
from tests import factories
from tests.browser.test_admin_browser import blocked_scripts, sign_in, watch_console

pytestmark = pytest.mark.browser


def test_admin_turns_on_an_agent_email_and_previews_it(app, page: Page, base_url):
    with app.app_context():
        factories.staff(role="admin", email="ada.admin@example.com", first_name="Ada")
        record = factories.record(first_name="Penny", email="penny@example.com").id
    problems = watch_console(page)
    sign_in(page, base_url, "ada.admin@example.com")
    page.goto(f"{base_url}/admin/notifications/", wait_until="load")
    box = page.get_by_label("Agent email for Feedback")
    expect(box).to_be_checked()
    box.uncheck()
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_text("Notification rules saved")).to_be_visible()
    expect(page.get_by_label("Agent email for Feedback")).not_to_be_checked()
    with app.app_context():
        rule = db.session.scalar(
            select(NotificationRule).where(NotificationRule.event_key == "portal.feedback")
        )
        assert rule.agent_email is False

    page.get_by_role("link", name="Preview what an event produces").click()
    page.get_by_label("Event").select_option("portal.contact_us")
    page.get_by_label("Record id").fill(str(record))
    page.get_by_role("button", name="Preview").click()
    expect(page.get_by_text("Customer · Email to penny@example.com")).to_be_visible()
    assert blocked_scripts(problems) == []
