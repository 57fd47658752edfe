"""A client changes the mobile they sign in with: the change waits for the code texted to the
new number, and the old number is told once it applies. A sign-in older than 15 minutes
confirms it's the client first."""

import re
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from app.services import portal_accounts
from models import Record, SignInSession, db, utcnow
from tests import factories
from tests.browser.test_admin_browser import blocked_scripts, watch_console
from tests.conftest import run_jobs
from tests.views.test_portal_signin import _credentials

pytestmark = pytest.mark.browser


@pytest.fixture
def cleo(app):
    with app.app_context():
        staff = factories.staff(email="stella@example.com", first_name="Stella")
        record = factories.record(
            first_name="Cleo",
            last_name="Client",
            email="cleo@example.com",
            mobile="+12025550143",
            assigned_agent_id=staff.id,
        )
        portal_accounts.enable_self_service(record, staff)
        db.session.commit()
        return {"record_id": record.id, **_credentials(record.id)}


def texts_to(app, number):
    """What the SMS provider sent to ``number`` (the development provider writes each text
    to instance/sms/), once the worker has delivered the outbox."""
    run_jobs(app)
    folder = Path(app.config["PORTICO_INSTANCE_PATH"]) / "sms"
    found = []
    for path in sorted(folder.glob("*.txt")) if folder.exists() else []:
        head, _, body = path.read_text().partition("\n\n")
        if head == f"To: {number}":
            found.append(body)
    return found


def test_a_new_mobile_applies_only_with_the_code_texted_to_it(page: Page, base_url, app, cleo):
    problems = watch_console(page)
    page.goto(f"{base_url}/portal/a/{cleo['token']}", wait_until="load")
    page.get_by_label("Password").fill(cleo["password"])
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("link", name="My details").click()

    contact = page.locator("#section-contact")
    contact.get_by_label("Mobile phone").fill("(202) 555-0188")
    contact.get_by_role("button", name="Save phone and email").click()
    expect(page.get_by_text(re.compile(r"We sent a code to \(202\) 555-0188\."))).to_be_visible()
    verify = page.locator("#verify-contact")
    expect(verify).to_contain_text("enter it to confirm your new mobile phone")
    # Not applied yet: the form still shows the old number.
    expect(contact.get_by_label("Mobile phone")).to_have_value("(202) 555-0143")

    (text,) = texts_to(app, "+12025550188")
    code = re.search(r"\b(\d{6})\b", text).group(1)
    verify.get_by_label("6-digit code").fill("000000" if code != "000000" else "111111")
    verify.get_by_role("button", name="Confirm mobile phone").click()
    expect(page.get_by_text(re.compile("That code is not right"))).to_be_visible()

    verify = page.locator("#verify-contact")
    verify.get_by_label("6-digit code").fill(code)
    verify.get_by_role("button", name="Confirm mobile phone").click()
    expect(page.get_by_text("Confirmed and saved: Mobile phone.")).to_be_visible()
    expect(page.locator("#verify-contact")).to_have_count(0)
    expect(page.locator("#section-contact").get_by_label("Mobile phone")).to_have_value(
        "(202) 555-0188"
    )
    with app.app_context():
        assert db.session.get(Record, cleo["record_id"]).mobile == "+12025550188"

    (notice,) = texts_to(app, "+12025550143")
    assert "was changed to (202) 555-0188" in notice and "call the office" in notice
    assert blocked_scripts(problems) == []


def test_an_old_sign_in_confirms_its_you_first(page: Page, base_url, app, cleo):
    """Signed in more than 15 minutes ago: the page asks for the password before a code goes
    to the new number, then the change goes through as usual."""
    problems = watch_console(page)
    page.goto(f"{base_url}/portal/a/{cleo['token']}", wait_until="load")
    page.get_by_label("Password").fill(cleo["password"])
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("link", name="My details")).to_be_visible()
    with app.app_context():
        for row in db.session.scalars(select(SignInSession)):
            row.created_at = utcnow() - timedelta(minutes=20)
            row.last_seen_at = utcnow()
        db.session.commit()
    page.get_by_role("link", name="My details").click()

    contact = page.locator("#section-contact")
    contact.get_by_label("Mobile phone").fill("(202) 555-0188")
    contact.get_by_role("button", name="Save phone and email").click()
    confirm = page.locator("#confirm-identity")
    expect(confirm).to_contain_text("confirm it is you")
    expect(confirm).to_contain_text("c***@example.com")
    assert texts_to(app, "+12025550188") == []  # no code before the client is confirmed

    confirm.get_by_label("Your password").fill(cleo["password"])
    confirm.get_by_role("button", name="Confirm with my password").click()
    expect(page.get_by_text(re.compile("For the next 15 minutes you can change"))).to_be_visible()
    expect(page.locator("#confirm-identity")).to_have_count(0)

    contact = page.locator("#section-contact")
    contact.get_by_label("Mobile phone").fill("(202) 555-0188")
    contact.get_by_role("button", name="Save phone and email").click()
    expect(page.get_by_text(re.compile(r"We sent a code to \(202\) 555-0188\."))).to_be_visible()
    (text,) = texts_to(app, "+12025550188")
    verify = page.locator("#verify-contact")
    verify.get_by_label("6-digit code").fill(re.search(r"\b(\d{6})\b", text).group(1))
    verify.get_by_role("button", name="Confirm mobile phone").click()
    expect(page.get_by_text("Confirmed and saved: Mobile phone.")).to_be_visible()
    with app.app_context():
        assert db.session.get(Record, cleo["record_id"]).mobile == "+12025550188"
    assert blocked_scripts(problems) == []
