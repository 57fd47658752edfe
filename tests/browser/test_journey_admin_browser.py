"""An admin makes a journey in Chromium through the panel's widgets: the journey's form with
three steps added inline (a form, an upload and a review; kinds picked in Select2 boxes), then
the form step's questions and the upload step's slots on their pages (a type picked in a
select shows the settings it uses, a required box ticked), and the journey's page with its
address, frame and button snippets, copied with their buttons."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Locator, Page, expect
from sqlalchemy import select

from models import Journey, JourneyField, StepKind, db
from tests import factories
from tests.browser.test_admin_browser import blocked_scripts, watch_console

pytestmark = pytest.mark.browser


@pytest.fixture
def admin(app) -> str:
    with app.app_context():
        return factories.staff(
            role="admin", email="jo.admin@example.com", first_name="Jo", last_name="Admin"
        ).email


def sign_in(page: Page, base_url: str, email: str) -> None:
    page.goto(f"{base_url}/staff/login")
    page.get_by_label("Email Address").fill(email)
    page.get_by_label("Password").fill(factories.PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("link", name="Records", exact=True)).to_be_visible()


def choose(page: Page, box: Locator, label: str) -> None:
    """A Select2 box, as a person uses it: open it, click the answer."""
    box.click()
    page.locator(".select2-drop-active .select2-result-label", has_text=label).first.click()


def group(page: Page, field_id: str) -> Locator:
    """The field's own form group (inline rows sit in the form group of their list)."""
    return page.locator(f"[id='{field_id}']").locator(
        "xpath=ancestor::div[contains(concat(' ', @class, ' '), ' form-group ')][1]"
    )


@pytest.mark.browser_context_args(permissions=["clipboard-read", "clipboard-write"])
def test_an_admin_makes_a_journey_with_its_steps_and_copies_its_snippets(
    page: Page, base_url, app, admin
):
    problems = watch_console(page)
    sign_in(page, base_url, admin)
    page.goto(f"{base_url}/admin/journey/new/", wait_until="load")
    page.locator("#name").fill("Update your drivers")
    page.locator("#slug").fill("update-your-drivers")
    choose(page, page.locator("#s2id_assigned_user"), "Jo Admin")
    page.locator("#opening_html").fill("<p>Tell us who drives your cars.</p>")
    add_step = page.get_by_role("button", name="Add Step")
    for n, (kind, title) in enumerate(
        (("Form", "Your drivers"), ("Upload", "Licences"), ("Review", "Check and send"))
    ):
        add_step.click()
        choose(page, page.locator(f"#s2id_steps-{n}-kind"), kind)
        page.locator(f"[id='steps-{n}-title']").fill(title)
        page.locator(f"[id='steps-{n}-position']").fill(str(n + 1))
        # Only a signature step asks for a saved layout.
        expect(group(page, f"steps-{n}-sign_template")).to_be_hidden()
    choose(page, page.locator("#s2id_steps-2-kind"), "Signature")
    expect(group(page, "steps-2-sign_template")).to_be_visible()
    choose(page, page.locator("#s2id_steps-2-kind"), "Review")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".alert-success")).to_contain_text("Journey created.")

    page.get_by_role("link", name="Update your drivers").click()
    page.wait_for_load_state("load")
    expect(page.get_by_role("heading", name=re.compile("Update your drivers"))).to_be_visible()
    steps = page.locator("#pt-journey-steps tbody tr")
    expect(steps).to_have_count(3)

    # The form step's questions: a choice shows its options box, a date does not.
    steps.nth(0).get_by_role("link", name="Questions").click()
    page.wait_for_load_state("load")  # "Add" works once the form's scripts have run
    page.get_by_role("button", name="Add Field").click()
    page.locator("[id='fields-0-label']").fill("How many drivers?")
    page.locator("[id='fields-0-field_type']").select_option("number")
    expect(group(page, "fields-0-options")).to_be_hidden()
    expect(group(page, "fields-0-min")).to_be_visible()
    page.locator("[id='fields-0-min']").fill("1")
    page.locator("[id='fields-0-required']").check()
    page.get_by_role("button", name="Add Field").click()
    page.locator("[id='fields-1-label']").fill("Main use")
    page.locator("[id='fields-1-field_type']").select_option("choice")
    expect(group(page, "fields-1-min")).to_be_hidden()
    page.locator("[id='fields-1-options']").fill("Commute\nPleasure\nBusiness")
    page.locator("[id='fields-1-position']").fill("2")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".alert-success")).to_contain_text("Step saved.")

    # Back on the journey's page: the upload step's slots.
    expect(steps.nth(0)).to_contain_text("How many drivers?, Main use")
    steps.nth(1).get_by_role("link", name="Slots").click()
    page.wait_for_load_state("load")
    page.get_by_role("button", name="Add Field").click()
    page.locator("[id='fields-0-label']").fill("Front of driver's licence")
    # An upload step's fields are file slots: no type to pick, no settings.
    expect(group(page, "fields-0-field_type")).to_be_hidden()
    expect(group(page, "fields-0-max_length")).to_be_hidden()
    page.locator("[id='fields-0-required']").check()
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".alert-success")).to_contain_text("Step saved.")
    expect(steps.nth(1)).to_contain_text("Front of driver's licence")

    # The snippets, copied with their buttons.
    address = page.locator("#pt-snippet-url")
    expect(address).to_have_value(re.compile(r"/f/update-your-drivers$"))
    expect(page.locator("#pt-snippet-iframe")).to_have_value(re.compile(r"^<iframe src=\"http"))
    expect(page.locator("#pt-snippet-button")).to_have_value(re.compile(r"^<a href=\"http"))
    copy = page.locator("[data-pt-copy='pt-snippet-iframe']")
    copy.click()
    expect(copy).to_have_text("Copied")
    copied = page.evaluate("() => navigator.clipboard.readText()")
    assert copied == page.locator("#pt-snippet-iframe").input_value()
    expect(page.locator("#pt-funnel-totals")).to_contain_text("0")

    with app.app_context():
        journey = db.session.scalar(select(Journey).where(Journey.slug == "update-your-drivers"))
        assert [(s.kind, s.title) for s in journey.steps] == [
            (StepKind.FORM, "Your drivers"),
            (StepKind.UPLOAD, "Licences"),
            (StepKind.REVIEW, "Check and send"),
        ]
        fields = db.session.scalars(
            select(JourneyField).order_by(JourneyField.step_id, JourneyField.position)
        ).all()
        assert [(f.label, f.field_type, f.required, f.settings) for f in fields] == [
            ("How many drivers?", "number", True, {"min": "1"}),  # kept as text, exact
            ("Main use", "choice", False, {"options": ["Commute", "Pleasure", "Business"]}),
            ("Front of driver's licence", "file", True, {}),
        ]
        assert journey.opening_html == "<p>Tell us who drives your cars.</p>"
    assert blocked_scripts(problems) == []
    assert [p for p in problems if "Content Security Policy" not in p] == []
