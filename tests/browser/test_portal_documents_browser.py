"""A client in Chromium: their Documents page on a phone and a desktop, a download, an ID card
from home, and sending the office a file with a note."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from app.services import portal_accounts
from app.services.portal_settings import get_settings
from models import Document, DocumentSource, ProductStatus, User, db
from tests import factories
from tests.browser.test_admin_browser import watch_console
from tests.views.test_portal_documents import PDF, PNG, add_file, add_link
from tests.views.test_portal_signin import _credentials

pytestmark = pytest.mark.browser

LONG_TITLE = "Summary of Benefits and Coverage for the Medicare Advantage Prestige Plus Plan 2026"


@pytest.fixture
def client_with_documents(app: Flask) -> dict[str, Any]:
    with app.app_context():
        staff = factories.staff(email="dora.adviser@example.com")
        record = factories.record(
            first_name="Dolores",
            last_name="Documented",
            email="dolores@example.com",
            assigned_agent_id=staff.id,
        )
        factories.product(
            record,
            carrier="Blue Cross and Blue Shield of Northeastern Pennsylvania Incorporated",
            plan_name="Prestige Preferred Provider Organization Plus",
            policy_number="H1234-567-89012345678901234",
            status=ProductStatus.ACTIVE,
            effective_date=date(2026, 1, 1),
            client_access=True,
        )
        portal_accounts.enable_self_service(record, db.session.get(User, staff.id))
        get_settings().module_uploads = True
        db.session.commit()
        ids = {"record_id": record.id, "staff_id": staff.id}
        ids.update(_credentials(record.id))
    ids["summary"] = add_file(
        app,
        ids["record_id"],
        ids["staff_id"],
        PDF,
        "summary-of-benefits.pdf",
        title=LONG_TITLE,
        category="Policy documents",
    )
    ids["card"] = add_file(
        app,
        ids["record_id"],
        ids["staff_id"],
        PNG,
        "card.png",
        title="Member card",
        category="ID cards",
    )
    add_link(app, ids["record_id"], ids["staff_id"], "https://carrier.example/claims")
    yield ids
    with app.app_context():
        get_settings().module_uploads = False
        db.session.commit()


def sign_in(page: Page, base_url: str, person: dict[str, Any]) -> None:
    page.goto(f"{base_url}/portal/a/{person['token']}", wait_until="load")
    page.get_by_label("Password").fill(person["password"])
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile("/portal/home$"))


def overflow(page: Page) -> int:
    return int(page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth"))


@pytest.mark.parametrize("width", [360, 1280])
def test_documents_fit_and_download(
    browser: Browser, base_url: str, app: Flask, client_with_documents: dict[str, Any], width: int
):
    context = browser.new_context(viewport={"width": width, "height": 800}, accept_downloads=True)
    page = context.new_page()
    problems = watch_console(page)
    sign_in(page, base_url, client_with_documents)

    # Home: the ID card, one click.
    expect(page.get_by_role("heading", name="Your ID cards")).to_be_visible()
    assert overflow(page) <= 0
    with page.expect_download() as card:
        page.get_by_role("link", name="Download Member card").click()
    assert card.value.suggested_filename == "card.png"

    if width < 768:
        page.get_by_role("button", name="Menu").click()
    page.get_by_role("link", name="Documents", exact=True).click()
    expect(page.get_by_role("heading", name="Documents", level=1)).to_be_visible()
    expect(page.get_by_role("heading", name="ID cards")).to_be_visible()
    expect(page.get_by_role("cell", name=f"{LONG_TITLE} Policy documents")).to_be_visible()
    expect(page.get_by_text("Website link")).to_be_visible()
    assert overflow(page) <= 0, "the Documents page scrolls sideways"

    with page.expect_download() as download:
        page.get_by_role("link", name=f"Download {LONG_TITLE}").click()
    assert download.value.suggested_filename == "summary-of-benefits.pdf"
    assert download.value.path().read_bytes() == PDF
    with app.app_context():
        opened = db.session.get(Document, client_with_documents["summary"])
        assert opened.first_opened_at is not None
    context.close()
    assert problems == []


def test_a_client_sends_a_file_with_a_note(
    browser: Browser, base_url: str, app: Flask, client_with_documents: dict[str, Any]
):
    context = browser.new_context(viewport={"width": 360, "height": 800})
    page = context.new_page()
    problems = watch_console(page)
    sign_in(page, base_url, client_with_documents)
    page.goto(f"{base_url}/portal/documents", wait_until="load")
    form = page.locator("form.pt-upload")
    files = form.get_by_label("Files")
    expect(files).to_have_attribute("accept", re.compile(r"\.pdf"))

    # Nothing chosen: the form says so and keeps nothing.
    form.get_by_role("button", name="Send to the office").click()
    expect(page.get_by_text("Choose a file to upload.")).to_be_visible()

    page.locator("form.pt-upload input[type=file]").set_input_files(
        [
            {"name": "claim-form.pdf", "mimeType": "application/pdf", "buffer": PDF},
            {"name": "receipt.png", "mimeType": "image/png", "buffer": PNG},
        ]
    )
    page.get_by_label("Note for the office").fill("For the March claim, thank you.")
    page.get_by_role("button", name="Send to the office").click()
    expect(page.get_by_text("Thank you: your documents were sent to the office.")).to_be_visible()
    sent = page.get_by_role("list", name="Sent by you")
    expect(sent).to_contain_text("claim-form.pdf")
    expect(sent).to_contain_text("receipt.png")
    expect(sent).to_contain_text("For the March claim, thank you.")
    assert overflow(page) <= 0
    with app.app_context():
        kept = list(
            db.session.scalars(
                select(Document.filename).where(Document.source == DocumentSource.CLIENT)
            )
        )
    assert sorted(kept) == ["claim-form.pdf", "receipt.png"]
    context.close()
    assert problems == []
