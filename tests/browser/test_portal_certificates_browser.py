"""A client in Chromium adds a certificate holder through the page's widgets (the Yes/No
radios show the tick or the reason), downloads the certificate at once, and every
certificates page fits a 360 px phone and a 1280 px desktop without sideways scrolling."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import Browser, Page, expect
from pypdf import PdfReader

from app.services.portal_settings import get_settings
from models import db
from tests import cert_factories
from tests.browser.test_admin_browser import watch_console
from tests.browser.test_portal_documents_browser import overflow, sign_in
from tests.views.test_portal_signin import _credentials

pytestmark = pytest.mark.browser

LONG_HOLDER = "Konstantinopoulou-Richardson Commercial Property Management Holdings LLC"
ADDRESS = (
    "Attn: Lease Administration, Suite 1200\n"
    "12345 North Extraordinarilylong Boulevard\n"
    "Chillicothe, OH 45601"
)


@pytest.fixture
def commercial(app: Flask) -> Any:
    with app.app_context():
        get_settings().module_certificates = True
        record = cert_factories.client_with_certificates(company="Núñez Façades & Floors LLC")
        [master] = cert_factories.masters_of(record)
        ids = {"record_id": record.id, "master": master.name, **_credentials(record.id)}
        db.session.commit()
    yield ids
    with app.app_context():
        get_settings().module_certificates = False
        db.session.commit()


def open_certificates(page: Page, width: int) -> None:
    if width < 768:
        page.get_by_role("button", name="Menu").click()
    page.get_by_role("link", name="Certificates", exact=True).click()
    expect(page.get_by_role("heading", name="Certificates", level=1)).to_be_visible()


@pytest.mark.parametrize("width", [360, 1280])
def test_a_client_adds_a_holder_and_downloads_the_certificate(
    browser: Browser, base_url: str, app: Flask, commercial: dict[str, Any], width: int
):
    context = browser.new_context(viewport={"width": width, "height": 800}, accept_downloads=True)
    page = context.new_page()
    problems = watch_console(page)
    sign_in(page, base_url, commercial)
    open_certificates(page, width)
    expect(page.get_by_role("heading", name=commercial["master"])).to_be_visible()
    expect(page.get_by_text("Each occurrence").first).to_be_visible()
    assert overflow(page) <= 0, "the Certificates page scrolls sideways"

    page.get_by_role("link", name="Add certificate holder").click()
    expect(page.get_by_role("heading", name="Add certificate holder", level=1)).to_be_visible()
    tick = page.get_by_label("I understand the coverages shown are accurate")
    reason = page.get_by_label("What does the certificate holder need that is not shown?")
    # Nothing answered yet: neither the tick nor the reason is asked for.
    expect(tick).to_be_hidden()
    expect(reason).to_be_hidden()
    page.get_by_label("Certificate holder's name").fill(LONG_HOLDER)
    page.get_by_label("Address").fill(ADDRESS)
    page.get_by_label("No", exact=True).check()
    expect(reason).to_be_visible()
    expect(tick).to_be_hidden()
    page.get_by_label("Yes", exact=True).check()
    expect(tick).to_be_visible()
    expect(reason).to_be_hidden()
    assert overflow(page) <= 0, "the holder form scrolls sideways"

    # Yes without the tick: the server says what is missing.
    page.get_by_role("button", name="Add certificate holder").click()
    expect(page.get_by_text("Tick the box to confirm")).to_be_visible()
    expect(tick).to_be_visible()  # the answer is kept, so the tick is still asked for
    tick.check()
    page.get_by_role("button", name="Add certificate holder").click()

    expect(page.get_by_role("heading", name="Your certificate is ready")).to_be_visible()
    expect(page.get_by_text(LONG_HOLDER).first).to_be_visible()
    assert overflow(page) <= 0, "the certificate page scrolls sideways"
    with page.expect_download() as download:
        page.get_by_role("link", name="Download certificate").click()
    assert re.fullmatch(r"Certificate \d{4}-\d{6}\.pdf", download.value.suggested_filename)
    data = download.value.path().read_bytes()
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages)
    assert "Konstantinopoulou" in " ".join(text.split())

    page.get_by_role("link", name="Back to certificates").click()
    expect(page.get_by_role("heading", name="Your certificates")).to_be_visible()
    expect(page.get_by_text(LONG_HOLDER)).to_be_visible()
    assert overflow(page) <= 0, "Your certificates scrolls sideways"
    context.close()
    # The one refusal on purpose (Yes without the tick) answered 422.
    assert [m for m in problems if "status of 422" not in m] == []


def test_no_and_a_new_request_on_a_phone(
    browser: Browser, base_url: str, app: Flask, commercial: dict[str, Any]
):
    context = browser.new_context(viewport={"width": 360, "height": 740})
    page = context.new_page()
    problems = watch_console(page)
    sign_in(page, base_url, commercial)
    open_certificates(page, 360)
    page.get_by_role("link", name="Add certificate holder").click()
    page.get_by_label("Certificate holder's name").fill("Granite Builders Inc")
    page.get_by_label("No", exact=True).check()
    page.get_by_label("What does the certificate holder need that is not shown?").fill(
        "They need 5,000,000 per occurrence and a waiver of subrogation."
    )
    page.get_by_role("button", name="Add certificate holder").click()
    expect(page.get_by_text("your agent will be in touch")).to_be_visible()
    assert overflow(page) <= 0, "the thank-you page scrolls sideways"

    page.get_by_role("link", name="Back to certificates").click()
    page.get_by_role("link", name="Request new certificate").click()
    assert overflow(page) <= 0, "the request page scrolls sideways"
    page.get_by_role("textbox", name="What do you need?").fill("An additional insured, please.")
    page.get_by_role("button", name="Send request").click()
    expect(page.get_by_text("your agent will be in touch")).to_be_visible()
    context.close()
    assert problems == []
