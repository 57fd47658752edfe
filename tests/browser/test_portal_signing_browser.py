"""A client signs in Chromium: on a touch-sized phone they open the request from home, agree to
the disclosure, fill a field, draw a signature on the canvas, find it all again after a reload
(the draft), and finish; on a desktop they type their signature in the handwriting font. The
signing page, its dialog and the done page never scroll sideways at 360 px or 1280 px."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import Browser, Page, expect

from app.services import portal_accounts
from models import SignerStatus, SignRequestSigner, User, db
from tests import factories
from tests.browser.test_admin_browser import watch_console
from tests.browser.test_portal_documents_browser import sign_in
from tests.views.test_portal_signin import _credentials
from tests.views.test_portal_signing import send_request

pytestmark = pytest.mark.browser

TITLE = "Broker of record letter"


@pytest.fixture
def to_sign(app: Flask) -> dict[str, Any]:
    with app.app_context():
        staff = factories.staff(email="sage.adviser@example.com", first_name="Sage")
        record = factories.record(
            first_name="Sofia",
            last_name="Signer",
            email="sofia@example.com",
            assigned_agent_id=staff.id,
        )
        portal_accounts.enable_self_service(record, db.session.get(User, staff.id))
        db.session.commit()
        record_id = record.id
    sent = send_request(app, record_id)
    with app.app_context():
        return {"record_id": record_id, **sent, **_credentials(record_id)}


def fits(page: Page, name: str = "") -> None:
    """No sideways scroll; with ``PORTICO_SCREENSHOTS=/some/dir`` a full-page screenshot too."""
    shots = os.environ.get("PORTICO_SCREENSHOTS")
    if shots and name:
        width = page.viewport_size["width"] if page.viewport_size else 0
        Path(shots).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(shots) / f"sign-{width}-{name}.png"), full_page=True)
    overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{page.url} scrolls sideways by {overflow}px"


def signer_state(app: Flask, signer_id: int) -> SignRequestSigner:
    with app.app_context():
        found = db.session.get(SignRequestSigner, signer_id)
        db.session.expunge(found)
        return found


def open_and_agree(page: Page) -> None:
    page.get_by_role("link", name=f"Sign: {TITLE}").first.click()
    expect(
        page.get_by_role("heading", name="Electronic Record and Signature Disclosure")
    ).to_be_visible()
    fits(page, "consent")
    page.get_by_label("I confirm that I have read and understood").check()
    page.get_by_role("button", name="Agree and continue").click()
    expect(page.get_by_role("button", name="Finish")).to_be_visible()


def draw(page: Page) -> None:
    canvas = page.locator("#pt-sign-canvas")
    box = canvas.bounding_box()
    assert box is not None
    x, y, w, h = box["x"], box["y"], box["width"], box["height"]
    page.mouse.move(x + w * 0.1, y + h * 0.6)
    page.mouse.down()
    for step in range(1, 13):
        page.mouse.move(x + w * (0.1 + 0.065 * step), y + h * (0.3 if step % 2 else 0.7), steps=3)
    page.mouse.up()


def test_on_a_phone_a_client_draws_a_signature_and_finishes(
    browser: Browser, base_url: str, app: Flask, to_sign: dict[str, Any]
) -> None:
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, has_touch=True, is_mobile=True
    )
    page = context.new_page()
    problems = watch_console(page)
    sign_in(page, base_url, to_sign)
    expect(page.get_by_role("heading", name="Incoming requests")).to_be_visible()
    open_and_agree(page)
    fits(page)
    signer_id = to_sign["signers"][0]

    page.get_by_label("Policy number (required)").fill("POL-2026-17")
    page.get_by_label("Send me paper copies").check()
    page.get_by_role("button", name="Sign here").click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_role("tab", name="Draw")).to_have_attribute("aria-selected", "true")
    fits(page)
    # Nothing drawn yet: the dialog says so rather than taking an empty picture.
    dialog.get_by_role("button", name="Use this signature").click()
    expect(dialog.get_by_text("Draw your signature in the box, or type it.")).to_be_visible()
    draw(page)
    dialog.get_by_role("button", name="Use this signature").click()
    expect(dialog).to_be_hidden()
    expect(page.locator(".pt-sign-here.pt-signed img")).to_be_visible()
    expect(page.get_by_text("Your progress is saved.")).to_be_visible()
    fits(page, "drawn")
    for _ in range(50):  # the draft with the signature reaches the server
        if signer_state(app, signer_id).draft.get("signature"):
            break
        page.wait_for_timeout(100)
    assert signer_state(app, signer_id).draft["signature"]["style"] == "drawn"

    # Closing the page loses nothing: the field, the box and the signature come back.
    page.reload()
    expect(page.get_by_label("Policy number (required)")).to_have_value("POL-2026-17")
    expect(page.get_by_label("Send me paper copies")).to_be_checked()
    expect(page.locator(".pt-sign-here.pt-signed img")).to_be_visible()

    # The fields sit over their page, inside it, whatever the width.
    inside = page.evaluate(
        """() => [...document.querySelectorAll('.pt-sign-field')].every(f => {
            const p = f.parentElement.getBoundingClientRect(), r = f.getBoundingClientRect();
            return r.left >= p.left - 1 && r.right <= p.right + 1 && r.top >= p.top - 1
                && r.bottom <= p.bottom + 1 && r.width > 0 && r.height > 0; })"""
    )
    assert inside

    page.get_by_role("button", name="Finish").click()
    expect(
        page.get_by_text("Signed. You will receive the signed document by email.")
    ).to_be_visible()
    fits(page)
    expect(page.get_by_role("link", name="Download the signed document")).to_be_visible()
    fits(page, "done")
    found = signer_state(app, signer_id)
    assert found.status == SignerStatus.SIGNED
    assert found.signature_image is not None and found.signature_image.startswith(b"\x89PNG")
    assert problems == []
    context.close()


def test_on_a_desktop_a_client_types_a_signature(
    browser: Browser, base_url: str, app: Flask, to_sign: dict[str, Any]
) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    problems = watch_console(page)
    sign_in(page, base_url, to_sign)
    open_and_agree(page)
    page.get_by_label("Policy number (required)").fill("POL-9")
    page.get_by_role("button", name="Sign here").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_role("tab", name="Type").click()
    typed = dialog.get_by_label("Type your name")
    expect(typed).to_have_value("Sofia Signer")  # offered from the request
    typed.fill("Sofia R. Signer")
    preview = page.locator("#pt-sign-preview")
    expect(preview).to_have_text("Sofia R. Signer")
    assert "Portico Signature" in preview.evaluate("e => getComputedStyle(e).fontFamily")
    assert (
        page.evaluate(
            "async () => (await document.fonts.load('20px \"Portico Signature\"')).length"
        )
        > 0
    )
    dialog.get_by_role("button", name="Use this signature").click()
    expect(page.locator(".pt-sign-here .pt-sign-script")).to_have_text("Sofia R. Signer")
    fits(page, "typed")
    page.get_by_role("button", name="Finish").click()
    expect(
        page.get_by_text("Signed. You will receive the signed document by email.")
    ).to_be_visible()
    found = signer_state(app, to_sign["signers"][0])
    assert found.signature_text == "Sofia R. Signer" and found.signature_image is None
    assert problems == []
    context.close()


@pytest.mark.parametrize("width", [360, 1280])
def test_the_signing_page_fits(
    browser: Browser, base_url: str, to_sign: dict[str, Any], width: int
) -> None:
    context = browser.new_context(viewport={"width": width, "height": 760})
    page = context.new_page()
    problems = watch_console(page)
    sign_in(page, base_url, to_sign)
    fits(page)
    page.goto(f"{base_url}/portal/requests")
    fits(page)
    open_and_agree(page)
    page.wait_for_load_state("load")
    fits(page, "document")
    # The page images fill the width of the column, not more.
    widths = page.evaluate(
        """() => [...document.querySelectorAll('.pt-sign-page img')].map(
            i => [i.getBoundingClientRect().width, i.naturalWidth])"""
    )
    assert widths and all(0 < shown <= width and natural > 0 for shown, natural in widths)
    page.get_by_role("button", name="Sign here").click()
    fits(page, "dialog")
    page.get_by_role("button", name="Cancel").click()
    page.get_by_text("Decline to sign", exact=True).click()
    expect(page.get_by_label(re.compile("Why do you decline"))).to_be_visible()
    fits(page, "decline")
    assert problems == []
    context.close()


# The placer's smallest fields (a 14 pt checkbox, a 20 pt high text field), one against the
# page's right edge: on a phone they are drawn a few pixels wide.
SMALL_FIELDS = [
    {"page": 0, "x": 0.1, "y": 0.6, "width": 0.4, "height": 0.06, "kind": "signature", "signer": 0},
    {
        "page": 0,
        "x": 0.1,
        "y": 0.3,
        "width": 0.245,
        "height": 0.0253,
        "kind": "text",
        "signer": 0,
        "required": True,
        "label": "Policy number",
    },
    {
        "page": 0,
        "x": 0.9771,
        "y": 0.4,
        "width": 0.0229,
        "height": 0.0177,
        "kind": "checkbox",
        "signer": 0,
        "required": False,
        "label": "Send me paper copies",
    },
]


def test_on_a_phone_small_fields_are_finger_sized_and_stay_on_their_page(
    browser: Browser, base_url: str, app: Flask, to_sign: dict[str, Any]
) -> None:
    sent = send_request(app, to_sign["record_id"], fields=SMALL_FIELDS, title="Small fields")
    context = browser.new_context(
        viewport={"width": 360, "height": 760}, has_touch=True, is_mobile=True
    )
    page = context.new_page()
    problems = watch_console(page)
    sign_in(page, base_url, to_sign)
    page.goto(f"{base_url}/portal/sign/{sent['signers'][0]}")
    page.get_by_label("I confirm that I have read and understood").check()
    page.get_by_role("button", name="Agree and continue").click()
    page.wait_for_load_state("load")
    boxes = page.evaluate(
        """() => [...document.querySelectorAll('.pt-sign-field:not(.pt-sign-other)')].map(f => {
            const p = f.parentElement.getBoundingClientRect(), r = f.getBoundingClientRect();
            return {w: r.width, h: r.height, inside: r.left >= p.left - 1
                && r.right <= p.right + 1 && r.top >= p.top - 1 && r.bottom <= p.bottom + 1}; })"""
    )
    assert len(boxes) == 3
    assert all(b["w"] >= 23.5 and b["h"] >= 23.5 and b["inside"] for b in boxes), boxes
    page.get_by_label("Send me paper copies").tap()
    expect(page.get_by_label("Send me paper copies")).to_be_checked()
    fits(page, "small-fields")
    assert problems == []
    context.close()
