"""In Chromium: signing out ends the session for every copy of its cookies, and an idle staff
session ends after the configured minutes."""

import re
import time

import pytest
import time_machine
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from app.services import portal_accounts
from models import OutboxMessage, db
from tests import factories
from tests.browser.test_admin_browser import blocked_scripts, sign_in, watch_console
from tests.conftest import LiveServer

pytestmark = pytest.mark.browser


def _copy_cookies(browser: Browser, page: Page):
    """A second browser holding a copy of the first one's cookies, as a thief would."""
    other = browser.new_context()
    other.add_cookies(page.context.cookies())
    return other


def test_a_copied_staff_cookie_stops_working_at_sign_out(
    app, page: Page, browser: Browser, base_url
):
    with app.app_context():
        factories.staff(role="admin", email="ada@example.com", first_name="Ada")
    problems = watch_console(page)
    sign_in(page, base_url, "ada@example.com")
    thief = _copy_cookies(browser, page)
    stolen = thief.new_page()
    stolen.goto(f"{base_url}/admin/record/", wait_until="load")
    expect(stolen.get_by_role("link", name="Records", exact=True)).to_be_visible()

    page.locator("#pt-user-menu").click()
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/staff/login"))

    stolen.goto(f"{base_url}/admin/record/", wait_until="load")
    expect(stolen).to_have_url(re.compile(r"/staff/login"))
    expect(stolen.get_by_role("button", name="Sign in")).to_be_visible()
    thief.close()
    assert blocked_scripts(problems) == []


def test_a_copied_portal_cookie_stops_working_at_sign_out(
    app, page: Page, browser: Browser, base_url
):
    with app.app_context():
        staff = factories.staff(email="sue@example.com")
        record = factories.record(first_name="Clara", email="clara@example.com")
        portal_accounts.enable_self_service(record, staff)
        db.session.commit()
        bodies = [m.body_text for m in db.session.scalars(select(OutboxMessage))]
    link = next(re.search(r"(/portal/a/[\w-]+)", b).group(1) for b in bodies if "/portal/a/" in b)
    password = next(
        m.group(1) for b in bodies if (m := re.search(r"^\s{4}(\S+)$", b, re.M)) is not None
    )
    page.goto(base_url + link, wait_until="load")
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Hello, Clara")).to_be_visible()

    thief = _copy_cookies(browser, page)
    stolen = thief.new_page()
    stolen.goto(f"{base_url}/portal/home", wait_until="load")
    expect(stolen.get_by_role("heading", name="Hello, Clara")).to_be_visible()

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_text("You are signed out.")).to_be_visible()

    stolen.goto(f"{base_url}/portal/home", wait_until="load")
    expect(stolen.get_by_role("heading", name="Hello, Clara")).to_have_count(0)
    expect(stolen).to_have_url(re.compile(r"/portal/$"))
    thief.close()


def test_an_idle_staff_session_ends_after_the_configured_minutes(make_app, browser: Browser):
    short = make_app(PORTICO_STAFF_IDLE_MINUTES=2)
    with short.app_context():
        factories.staff(role="admin", email="idle@example.com")
    server = LiveServer(short)
    server.start()
    context = browser.new_context()
    try:
        page = context.new_page()
        sign_in(page, server.url, "idle@example.com")
        start = time.time()
        with time_machine.travel(start + 90):  # within the two minutes: still signed in
            page.goto(f"{server.url}/admin/record/", wait_until="load")
            expect(page.get_by_role("link", name="Records", exact=True)).to_be_visible()
        with time_machine.travel(start + 90 + 125):  # two minutes and more without a request
            page.goto(f"{server.url}/admin/record/", wait_until="load")
            expect(page).to_have_url(re.compile(r"/staff/login"))
            expect(page.get_by_text("signed out after 2 minutes without activity")).to_be_visible()
    finally:
        context.close()
        server.stop()
