"""An admin changes who is told about an event, in Chromium; security events stay logged."""

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from models import NotificationRule, db
from tests import factories
from tests.browser.test_admin_browser import blocked_scripts, sign_in, watch_console

pytestmark = pytest.mark.browser


def _rule(app, key):
    with app.app_context():
        return db.session.scalar(select(NotificationRule).where(NotificationRule.event_key == key))


def test_admin_turns_on_an_agent_email_and_previews_it(app, page: Page, base_url):
    with app.app_context():
        factories.staff(role="admin", email="ada.admin@example.com", first_name="Ada")
        record = factories.record(first_name="Penny", email="penny@example.com").id
    problems = watch_console(page)
    sign_in(page, base_url, "ada.admin@example.com")
    page.goto(f"{base_url}/admin/notifications/", wait_until="load")
    box = page.get_by_label("Agent email for Prescriptions updated")
    expect(box).to_be_checked()
    box.uncheck()
    page.get_by_label("Client email for Password changed").check()  # stays the default: on
    page.get_by_label("Agent email for Password changed").check()
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_text("Notification rules saved")).to_be_visible()
    expect(page.get_by_label("Agent email for Prescriptions updated")).not_to_be_checked()
    assert _rule(app, "portal.rx.updated").agent_email is False
    assert _rule(app, "portal.password.changed").agent_email is True

    page.get_by_role("link", name="Preview what an event produces").click()
    page.get_by_label("Event").select_option("portal.password.changed")
    page.get_by_label("Record id").fill(str(record))
    page.get_by_role("button", name="Preview").click()
    expect(page.get_by_text("Customer · Email to penny@example.com")).to_be_visible()
    assert blocked_scripts(problems) == []


def test_security_rows_are_fixed_on_and_built_features_are_offered(app, page: Page, base_url):
    with app.app_context():
        factories.staff(role="admin", email="ada.admin@example.com", first_name="Ada")
    problems = watch_console(page)
    sign_in(page, base_url, "ada.admin@example.com")
    page.goto(f"{base_url}/admin/notifications/", wait_until="load")

    fixed = page.get_by_label("Activity log for Failed sign-in: always on")
    expect(fixed).to_be_checked()
    expect(fixed).to_be_disabled()
    row = page.locator('tr[id="rule-portal.login.failed"]')
    expect(row).to_contain_text("Sign-ins, failed sign-ins and pauses are always logged")
    # Journeys are built: their events have rows like every other feature's.
    expect(page.locator('tr[id="rule-flow.completed"]')).to_have_count(1)
    expect(page.locator('tr[id="rule-portal.certificate.requested"]')).to_have_count(1)

    # An ordinary row can have its log switched off; the security row keeps its log.
    page.get_by_label("Activity log for Tags changed").uncheck()
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_text("Notification rules saved")).to_be_visible()
    expect(page.get_by_label("Activity log for Tags changed")).not_to_be_checked()
    expect(page.get_by_label("Activity log for Failed sign-in: always on")).to_be_checked()
    assert _rule(app, "staff.tags.changed").log_activity is False
    assert _rule(app, "portal.login.failed").log_activity is True
    assert blocked_scripts(problems) == []
