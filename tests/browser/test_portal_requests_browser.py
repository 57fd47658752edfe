"""A client in Chromium: an incoming request opened from the navigation's badge and answered
with a file through the file input, and a message through Contact us from the More menu;
the pages checked for sideways scrolling on a phone and a desktop."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import Browser, Page, expect

from app.services import conversations, portal_accounts
from models import Document, User, db
from tests import factories
from tests.browser.test_admin_browser import watch_console
from tests.browser.test_portal_documents_browser import sign_in
from tests.views.test_portal_documents import PDF
from tests.views.test_portal_signin import _credentials

pytestmark = pytest.mark.browser

SUBJECT = "Please send the declarations page of your homeowners policy for the renewal"


@pytest.fixture
def asked(app: Flask) -> dict[str, Any]:
    with app.app_context():
        staff = factories.staff(email="rhea.adviser@example.com", first_name="Rhea")
        record = factories.record(
            first_name="Rosa",
            last_name="Requested",
            email="rosa@example.com",
            assigned_agent_id=staff.id,
        )
        portal_accounts.enable_self_service(record, db.session.get(User, staff.id))
        conversation = conversations.send_request(
            record, staff, SUBJECT, "Hello Rosa,\nthe form is at https://carrier.example/forms"
        )
        db.session.commit()
        return {"record_id": record.id, "request": conversation.id, **_credentials(record.id)}


def fits(page: Page) -> None:
    overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{page.url} scrolls sideways by {overflow}px"


def test_a_client_answers_a_request_with_a_file_and_writes_to_the_office(
    browser: Browser, base_url: str, app: Flask, asked: dict[str, Any], tmp_path: Path
) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    problems = watch_console(page)
    sign_in(page, base_url, asked)
    expect(page.get_by_role("heading", name="Incoming requests")).to_be_visible()
    page.get_by_role("link", name=re.compile(r"^Requests 1 waiting for you$")).click()
    expect(page).to_have_url(re.compile("/portal/requests$"))
    page.get_by_role("link", name=SUBJECT).click()
    expect(page.get_by_role("heading", name=SUBJECT)).to_be_visible()
    link = page.get_by_role("link", name="https://carrier.example/forms")
    expect(link).to_have_attribute("rel", "noopener noreferrer nofollow ugc")
    # Read now: the badge is gone.
    expect(page.get_by_role("link", name="Requests", exact=True)).to_be_visible()
    fits(page)

    declarations = tmp_path / "declarations.pdf"
    declarations.write_bytes(PDF)
    page.get_by_label("Your message").fill("Here is the declarations page.")
    page.get_by_label("Attach files").set_input_files(str(declarations))
    page.get_by_role("button", name="Send reply").click()
    expect(page.get_by_text("Your reply was sent.")).to_be_visible()
    mine = page.locator(".pt-message-client")
    expect(mine.get_by_text("Here is the declarations page.")).to_be_visible()
    expect(mine.get_by_role("link", name="declarations.pdf")).to_be_visible()
    with app.app_context():
        [document] = db.session.query(Document).all()
        assert document.message_id is not None and document.record_id == asked["record_id"]

    # Contact us from the More menu.
    page.get_by_text("More", exact=True).click()
    page.get_by_role("link", name="Contact us").click()
    page.get_by_label("Subject").fill("A question about my bill")
    page.get_by_label("Message").fill("Why did it go up?")
    page.get_by_role("button", name="Send message").click()
    expect(page.get_by_text("Your message reached your adviser.")).to_be_visible()
    expect(page.get_by_role("heading", name="A question about my bill")).to_be_visible()
    page.get_by_role("link", name="All requests").click()
    expect(page.get_by_role("link", name="A question about my bill")).to_be_visible()
    context.close()
    assert problems == []


@pytest.mark.parametrize("width", [360, 1280])
def test_the_request_pages_fit_without_sideways_scrolling(
    browser: Browser, base_url: str, asked: dict[str, Any], width: int
) -> None:
    context = browser.new_context(viewport={"width": width, "height": 800})
    page = context.new_page()
    problems = watch_console(page)
    sign_in(page, base_url, asked)
    for path in ("/portal/requests", f"/portal/requests/{asked['request']}", "/portal/contact"):
        page.goto(base_url + path, wait_until="load")
        fits(page)
    if width == 360:  # the More menu opens inside the phone's menu, by keyboard too
        page.get_by_role("button", name="Menu").click()
        more = page.get_by_text("More", exact=True)
        more.focus()
        page.keyboard.press("Enter")
        expect(page.get_by_role("link", name="Contact us")).to_be_visible()
        fits(page)
    context.close()
    assert problems == []
