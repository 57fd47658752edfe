"""A client updates their details and prescriptions; staff approve the change that needs it."""

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from app.services import portal_accounts
from models import db
from tests import factories
from tests.browser.test_admin_browser import blocked_scripts, sign_in, watch_console
from tests.views.test_portal_contact_change import contact_code
from tests.views.test_portal_signin import _credentials

pytestmark = pytest.mark.browser


@pytest.fixture
def cora(app):
    with app.app_context():
        staff = factories.staff(email="stella@example.com", first_name="Stella")
        record = factories.record(
            first_name="Cora",
            last_name="Client",
            email="cora@example.com",
            assigned_agent_id=staff.id,
        )
        portal_accounts.enable_self_service(record, staff)
        db.session.commit()
        return {"record_id": record.id, **_credentials(record.id)}


def test_client_edits_details_and_staff_approve(page: Page, browser: Browser, base_url, cora, app):
    problems = watch_console(page)
    page.goto(f"{base_url}/portal/a/{cora['token']}", wait_until="load")
    page.get_by_label("Password").fill(cora["password"])
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("link", name="My details").click()

    contact = page.locator("#section-contact")
    contact.get_by_label("Mobile phone").fill("202.555.0188")
    contact.get_by_label("Email address").fill("cora.new@example.com")
    contact.get_by_role("button", name="Save phone and email").click()
    # Sign-in details change only with the code sent to the new address and number.
    steps = (
        ("+12025550188", "mobile phone", "Confirmed and saved: Mobile phone."),
        (
            "cora.new@example.com",
            "email address",
            "Confirmed and sent for approval: Email address.",
        ),
    )
    for to, field, outcome in steps:
        _change, code = contact_code(app, to)
        confirm = page.locator("form", has=page.get_by_role("button", name=f"Confirm {field}"))
        confirm.get_by_label("6-digit code").fill(code)
        confirm.get_by_role("button", name=f"Confirm {field}").click()
        expect(page.get_by_text(outcome)).to_be_visible()
    expect(contact.get_by_label("Email address")).to_have_value("cora.new@example.com")
    expect(contact.get_by_text("Waiting for approval by your adviser (sent ")).to_be_visible()
    # The number reads as on every other page, whatever way it was typed.
    expect(contact.get_by_label("Mobile phone")).to_have_value("(202) 555-0188")

    page.get_by_role("link", name="Prescriptions").click()
    page.get_by_label("Drug").fill("Metformin")
    page.get_by_label("Strength").fill("500 mg")
    page.get_by_role("button", name="Add prescription").click()
    expect(page.get_by_text("Added Metformin.")).to_be_visible()

    staff = browser.new_context()
    staff_page = staff.new_page()
    staff_problems = watch_console(staff_page)
    sign_in(staff_page, base_url, "stella@example.com")
    staff_page.goto(f"{base_url}/admin/record/details/?id={cora['record_id']}", wait_until="load")
    expect(staff_page.get_by_text("1 change from the client waits for approval.")).to_be_visible()
    staff_page.get_by_role("tab", name="Rx").click()
    expect(staff_page.get_by_role("cell", name="Metformin")).to_be_visible()
    staff_page.get_by_role("link", name="Review them").click()
    row = staff_page.locator("tr", has_text="cora.new@example.com")
    row.get_by_role("button", name="Approve").click()
    expect(staff_page.get_by_text(re.compile("Approved: Email address is now"))).to_be_visible()
    staff.close()

    page.get_by_role("link", name="My details").click()
    expect(page.get_by_text("Your change to Email address was approved.")).to_be_visible()
    expect(page.locator("#section-contact").get_by_label("Email address")).to_have_value(
        "cora.new@example.com"
    )
    # The news stays until the client has read it: looking again shows it again.
    page.reload(wait_until="load")
    expect(page.get_by_text("Your change to Email address was approved.")).to_be_visible()
    page.get_by_role("button", name="Got it, hide these messages").click()
    expect(page.get_by_role("heading", name="My details")).to_be_visible()
    expect(page.get_by_text("Your change to Email address was approved.")).to_have_count(0)
    assert blocked_scripts(problems) == [] and blocked_scripts(staff_problems) == []


def test_removing_a_prescription_asks_first(page: Page, base_url, cora):
    problems = watch_console(page)
    page.goto(f"{base_url}/portal/a/{cora['token']}", wait_until="load")
    page.get_by_label("Password").fill(cora["password"])
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("link", name="Prescriptions").click()
    for drug in ("Metformin", "Lisinopril"):
        page.get_by_label("Drug").fill(drug)
        page.get_by_role("button", name="Add prescription").click()
        expect(page.get_by_text(f"Added {drug}.")).to_be_visible()

    page.get_by_role("link", name="Remove Metformin").click()
    expect(page.get_by_role("heading", name="Remove Metformin?")).to_be_visible()
    page.get_by_role("link", name="No, keep it").click()
    expect(page.get_by_role("link", name="Remove Metformin")).to_be_visible()

    page.get_by_role("link", name="Remove Metformin").click()
    page.get_by_role("button", name="Yes, remove it").click()
    expect(page.get_by_text("Removed Metformin.")).to_be_visible()
    expect(page.get_by_role("link", name="Remove Metformin")).to_have_count(0)
    expect(page.get_by_role("link", name="Remove Lisinopril")).to_be_visible()
    assert problems == []


def test_on_a_phone_a_save_and_a_refusal_are_both_in_view(browser: Browser, base_url, cora):
    """The address section is far down My details: after Save, the page lands on it and the
    outcome (saved, or what to fix) stands in the section, not at the top out of sight."""
    context = browser.new_context(viewport={"width": 360, "height": 740})
    page = context.new_page()
    page.goto(f"{base_url}/portal/a/{cora['token']}", wait_until="load")
    page.get_by_label("Password").fill(cora["password"])
    page.get_by_role("button", name="Sign in").click()
    page.goto(f"{base_url}/portal/details", wait_until="load")

    address = page.locator("#section-address")
    address.get_by_label("ZIP code").fill("{{7*7}}")
    address.get_by_role("button", name="Save address").click()
    page.wait_for_load_state("load")
    expect(address.get_by_text("Not saved yet")).to_be_in_viewport()
    expect(address.locator(".pt-field-error")).to_be_visible()

    address.get_by_label("ZIP code").fill("43004")
    address.get_by_label("City").fill("Columbus")
    address.get_by_role("button", name="Save address").click()
    page.wait_for_load_state("load")
    expect(address.get_by_text(re.compile("^Address saved: "))).to_be_in_viewport()
    context.close()
