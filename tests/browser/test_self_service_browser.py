"""Staff enable self service in Chromium; the client signs in with what the emails say."""

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from models import ProductStatus, RecordKind
from tests import factories
from tests.browser.test_admin_browser import blocked_scripts, sign_in, watch_console
from tests.conftest import body_of, run_jobs

pytestmark = pytest.mark.browser


@pytest.fixture
def office(app):
    with app.app_context():
        factories.staff(
            role="agent", email="agnes@example.com", first_name="Agnes", last_name="Agent"
        )
        record = factories.record(
            first_name="Clara",
            last_name="Client",
            email="clara@example.com",
            kind=RecordKind.CLIENT,
        )
        factories.product(
            record,
            carrier="Humana",
            plan_name="Gold Plus HMO",
            status=ProductStatus.ACTIVE,
            client_access=True,
        )
        return {"record_id": record.id}


def test_enable_self_service_then_the_client_signs_in(
    app, page: Page, browser: Browser, base_url, office, mailbox
):
    problems = watch_console(page)
    sign_in(page, base_url, "agnes@example.com")
    page.goto(
        f"{base_url}/admin/record/details/?id={office['record_id']}#portal", wait_until="load"
    )
    page.get_by_role("tab", name=re.compile("Portal")).click()
    page.get_by_role("button", name="Enable Self Service").click()
    expect(page.get_by_text("Self service enabled: the portal link went by email")).to_be_visible()

    run_jobs(app)  # what the worker does
    received = mailbox.wait_for(2)
    link = next(m for m in received if "secure client portal" in m["Subject"])
    password_mail = next(m for m in received if "password" in m["Subject"])
    url = re.search(r"http://portico\.test(/portal/a/[\w-]+)", body_of(link)).group(1)
    password = re.search(r"^\s{4}(\S+?)\r?$", body_of(password_mail), re.M).group(1)

    client = browser.new_context()
    client_page = client.new_page()
    client_problems = watch_console(client_page)
    client_page.goto(base_url + url, wait_until="load")
    expect(client_page.get_by_role("heading", name="Welcome, Clara")).to_be_visible()
    client_page.get_by_label("Password").fill(password)
    client_page.get_by_role("button", name="Sign in").click()
    expect(client_page.get_by_role("heading", name="Hello, Clara")).to_be_visible()
    expect(client_page.get_by_text("Gold Plus HMO")).to_be_visible()
    client_page.get_by_role("button", name="Sign out").click()
    expect(client_page.get_by_text("You are signed out.")).to_be_visible()
    client.close()
    assert blocked_scripts(problems) == [] and blocked_scripts(client_problems) == []
