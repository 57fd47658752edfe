"""An admin in Chromium adds a choice question to the Feedback survey through the staff form;
a client on a phone (360 px) answers Feedback, the new question included; staff see the answer
in the survey's summary."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import Page, expect

from app.services.portal_accounts import enable_self_service
from models import db
from tests import factories
from tests.browser.test_admin_browser import blocked_scripts, sign_in, watch_console
from tests.browser.test_portal_documents_browser import overflow
from tests.browser.test_portal_documents_browser import sign_in as client_sign_in
from tests.browser.test_workflows_browser import choose
from tests.conftest import run_jobs
from tests.views.test_portal_signin import _credentials

pytestmark = pytest.mark.browser


@pytest.fixture
def office(app: Flask, mailbox: Any) -> dict[str, Any]:
    with app.app_context():
        factories.staff(role="admin", email="ada.admin@example.com")
        agent = factories.staff(role="agent", email="sam.survey@example.com")
        record = factories.record(
            first_name="Fiona",
            last_name="Feedback-Fotheringham",
            email="fiona@example.com",
            assigned_agent_id=agent.id,
        )
        enable_self_service(record, agent)
        db.session.commit()
        fiona = _credentials(record.id)
    run_jobs(app)
    mailbox.clear()
    return {"fiona": fiona}


def test_admin_adds_a_question_a_client_answers_staff_see_the_summary(
    app: Flask, page: Page, base_url: str, office: dict[str, Any]
) -> None:
    problems = watch_console(page)
    sign_in(page, base_url, "ada.admin@example.com")
    page.goto(f"{base_url}/admin/survey/", wait_until="load")
    row = page.locator("tr", has_text="Feedback").first
    row.get_by_role("link", name="Questions").click()
    expect(page.locator("table.model-list")).to_contain_text("How easy is it to work with us?")
    page.goto(f"{base_url}/admin/survey_question/new/", wait_until="load")
    choose(page, "survey", "Feedback")  # a Select2 box, clicked as a person does
    page.get_by_label("Question").fill("Which office do you visit?")
    field_type = page.locator("#field_type")
    if field_type.get_attribute("data-role") == "select2":
        choose(page, "field_type", "Choice")
    else:
        field_type.select_option(label="Choice")
    page.get_by_label("Options").fill("Downtown\nRiverside\nOnline only")
    page.get_by_label("Required").check()
    page.get_by_label("Position").fill("1")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator("table.model-list")).to_contain_text("Which office do you visit?")

    client = page.context.browser.new_context(viewport={"width": 360, "height": 800}).new_page()
    client_problems = watch_console(client)
    client_sign_in(client, base_url, office["fiona"])
    client.goto(f"{base_url}/portal/feedback", wait_until="load")
    expect(client.get_by_role("heading", name="Feedback", level=1)).to_be_visible()
    assert overflow(client) <= 0, "the feedback page scrolls sideways"
    client.get_by_role("button", name="Send answers").click()
    expect(client.locator(".pt-field-error").first).to_be_visible()  # required ones missing
    client.get_by_label("Which office do you visit?").select_option("Riverside")
    client.get_by_label("How easy is it to work with us?").select_option("Very easy")
    client.get_by_label("What could we do better?").fill("Longer hours on Saturdays.")
    client.get_by_role("button", name="Send answers").click()
    expect(client.get_by_role("status")).to_contain_text("your answers reached your adviser")
    expect(client).to_have_url(re.compile("/portal/home$"))
    assert overflow(client) <= 0
    assert blocked_scripts(client_problems) == []
    client.context.close()

    page.goto(f"{base_url}/admin/survey/", wait_until="load")
    page.locator("tr", has_text="Feedback").first.get_by_role("link", name="Summary").click()
    summary = page.locator("#survey-summary")
    expect(summary).to_contain_text("Which office do you visit?")
    expect(summary.locator("section", has_text="Which office do you visit?")).to_contain_text(
        "1 answer"
    )
    expect(summary.locator("tr", has_text="Riverside")).to_contain_text("1")
    page.get_by_role("link", name="See the answers one by one").click()
    expect(page.locator("table.model-list")).to_contain_text("Longer hours on Saturdays.")
    assert blocked_scripts(problems) == []
