"""A staff member in Chromium clicks Request review on a client's Portal tab: the client gets
a "Click to rate" email, signs in, sees the banner on home, follows it, picks a rating and
sends a comment; the banner is gone, and staff find the review in the Reviews list."""

import re

import pytest
from playwright.sync_api import Page, expect

from app.services.portal_accounts import enable_self_service
from app.services.portal_settings import get_settings
from models import db
from tests import factories
from tests.browser.test_admin_browser import blocked_scripts, sign_in, watch_console
from tests.conftest import body_of, run_jobs
from tests.views.test_portal_signin import _credentials

pytestmark = pytest.mark.browser


@pytest.fixture
def office(app, mailbox):
    with app.app_context():
        agent = factories.staff(
            role="agent", email="rhea@example.com", first_name="Rhea", last_name="Reviews"
        )
        record = factories.record(
            first_name="Ruth",
            last_name="Rater",
            email="ruth@example.com",
            assigned_agent_id=agent.id,
        )
        enable_self_service(record, agent)
        get_settings().module_reviews = True
        db.session.commit()
        record_id = record.id
        ruth = _credentials(record_id)  # read before delivery blanks the password
    run_jobs(app)
    mailbox.clear()
    return {"record_id": record_id, "ruth": ruth}


def test_staff_request_a_review_and_the_client_answers_it(
    app, page: Page, base_url, office, mailbox
):
    problems = watch_console(page)
    sign_in(page, base_url, "rhea@example.com")
    page.goto(f"{base_url}/admin/record/details/?id={office['record_id']}", wait_until="load")
    page.get_by_role("tab", name=re.compile("Portal")).click()
    page.get_by_role("button", name="Request review").click()
    expect(
        page.get_by_text("Review requested: Ruth Rater was emailed a link to rate.")
    ).to_be_visible()

    run_jobs(app)
    [message] = mailbox.wait_for(1)
    assert "ruth@example.com" in message["To"]
    assert re.search(r"Click to rate: http\S+/portal/review\s", body_of(message))

    client = page.context.browser.new_context().new_page()
    client_problems = watch_console(client)
    client.set_viewport_size({"width": 360, "height": 800})  # a phone
    ruth = office["ruth"]
    client.goto(f"{base_url}/portal/a/{ruth['token']}", wait_until="load")
    client.get_by_label("Password").fill(ruth["password"])
    client.get_by_role("button", name="Sign in").click()
    banner = client.locator("#review-banner")
    expect(banner).to_be_visible()
    banner.get_by_role("link", name="Click to rate").click()
    expect(client.get_by_role("heading", name="Leave a review")).to_be_visible()
    client.get_by_label("4 stars").check()
    client.get_by_label("Comment (optional)").fill("Patient and clear about my renewal.")
    client.get_by_role("button", name="Send my review").click()
    expect(client.get_by_text("Thank you for your review.")).to_be_visible()
    expect(client.locator("#review-banner")).to_have_count(0)
    assert client.evaluate("document.documentElement.scrollWidth") <= 360
    assert blocked_scripts(client_problems) == []
    client.context.close()

    page.get_by_role("link", name="Reviews", exact=True).click()
    table = page.locator("table.model-list")
    expect(table).to_contain_text("Patient and clear about my renewal.")
    expect(table).to_contain_text("Ruth Rater")
    expect(page.locator("#review-figures")).to_contain_text("4.00")
    assert blocked_scripts(problems) == []
