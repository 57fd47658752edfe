"""A client in Chromium opens New request, picks Add a driver, fills its widgets (text, the
date picker, a select) and sends it, then a general request with a file; each lands in its
thread. The pages are checked at 360 px and 1280 px for sideways scrolling."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import Page, expect

from app.services.portal_accounts import enable_self_service
from models import db
from tests import factories
from tests.browser.test_admin_browser import watch_console
from tests.browser.test_portal_documents_browser import overflow
from tests.browser.test_portal_documents_browser import sign_in as client_sign_in
from tests.conftest import run_jobs
from tests.views.test_portal_signin import _credentials

pytestmark = pytest.mark.browser

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture
def dora(app: Flask, mailbox: Any) -> dict[str, Any]:
    with app.app_context():
        agent = factories.staff(role="agent", email="rita.requests@example.com")
        record = factories.record(
            first_name="Dora",
            last_name="Driver-Delacroix-Montgomery",
            email="dora@example.com",
            assigned_agent_id=agent.id,
        )
        enable_self_service(record, agent)
        db.session.commit()
        person = _credentials(record.id)
    run_jobs(app)
    mailbox.clear()
    return person


@pytest.mark.parametrize("width", [360, 1280])
def test_a_client_sends_a_driver_and_a_file(
    page: Page, base_url: str, dora: dict[str, Any], width: int, tmp_path: Path
) -> None:
    page.set_viewport_size({"width": width, "height": 900})
    problems = watch_console(page)
    client_sign_in(page, base_url, dora)
    page.goto(f"{base_url}/portal/requests/new", wait_until="load")
    expect(page.get_by_role("heading", name="New request", level=1)).to_be_visible()
    assert overflow(page) <= 0, "the New request page scrolls sideways"
    page.get_by_role("link", name="Add a driver").click()
    expect(page.get_by_role("heading", name="Add a driver", level=1)).to_be_visible()
    assert overflow(page) <= 0, "the form scrolls sideways"
    page.get_by_role("button", name="Send request").click()
    expect(page.locator(".pt-field-error").first).to_be_visible()  # required ones missing
    page.get_by_label("Full name").fill("Dana Driver")
    page.get_by_label("Date of birth").fill("2004-05-06")  # the browser's date picker
    page.get_by_label("Relationship to you").select_option("Child")
    page.get_by_role("button", name="Send request").click()
    expect(page.get_by_text("Your request reached your adviser")).to_be_visible()
    expect(page.get_by_text("Full name: Dana Driver")).to_be_visible()

    page.goto(f"{base_url}/portal/requests/new/general", wait_until="load")
    page.get_by_label("How can we help?").fill("Please see the letter.")
    letter = tmp_path / "letter.pdf"
    letter.write_bytes(PDF)
    page.get_by_label("Files").set_input_files(str(letter))
    page.get_by_role("button", name="Send request").click()
    expect(page.get_by_text("Your request reached your adviser")).to_be_visible()
    expect(page.get_by_text("letter.pdf").first).to_be_visible()
    assert overflow(page) <= 0, "the thread scrolls sideways"
    assert [p for p in problems if "422" not in p] == []  # the refused form is a 422
