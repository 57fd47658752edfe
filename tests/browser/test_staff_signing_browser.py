"""A staff member in Chromium (1280 px) sends a PDF for signature from a record's Signing tab:
the New sign request form's widgets (file input, signer checkboxes, date input), then a click
on the page image for a signature field and another for a date-signed field, drag, Send; the
request page says Sent and the signer's email is at the SMTP server. Then the Verify page
with a file input."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from app import pdf
from app.services import documents
from models import RecordKind, SignFieldKind, SignRequest, SignRequestStatus, db
from tests import factories, sign_factories
from tests.browser.test_admin_browser import blocked_scripts, sign_in, watch_console
from tests.conftest import run_jobs

pytestmark = pytest.mark.browser


@pytest.fixture
def office(app, mailbox):
    with app.app_context():
        sign_factories.link_route()
        factories.staff(role="agent", email="sia@example.com", first_name="Sia", last_name="Sign")
        record = factories.record(
            first_name="Cleo", last_name="Client", email="cleo@example.com", kind=RecordKind.CLIENT
        )
        co = sign_factories.co_applicant(record)
        sign_factories.contact_person(record, email="", first_name="Nora")
        db.session.commit()
        expires = (documents.office_today() + timedelta(days=10)).isoformat()
        sealed = pdf.seal(sign_factories.pdf_bytes(1))
        ids = {"record_id": record.id, "co_id": co.id, "expires": expires, "sealed": sealed}
    mailbox.clear()
    return ids


def test_staff_create_place_fields_and_send(app, page: Page, base_url, office, mailbox):
    page.set_viewport_size({"width": 1280, "height": 900})
    problems = watch_console(page)
    sign_in(page, base_url, "sia@example.com")
    page.goto(f"{base_url}/admin/record/details/?id={office['record_id']}", wait_until="load")
    page.get_by_role("tab", name=re.compile("Signing")).click()
    expect(page.get_by_text("No sign requests yet.")).to_be_visible()
    page.get_by_role("link", name="New sign request").click()

    page.get_by_label("Title").fill("Broker of record letter")
    page.set_input_files(
        "#file",
        {
            "name": "letter.pdf",
            "mimeType": "application/pdf",
            "buffer": sign_factories.pdf_bytes(1),
        },
    )
    expect(page.get_by_label(re.compile("Nora"))).to_be_disabled()
    expect(page.get_by_label(re.compile("Cleo Client"))).to_be_checked()
    page.get_by_label(re.compile("Cody Coapplicant")).check()
    page.get_by_label(re.compile("Cody Coapplicant")).uncheck()
    page.get_by_label("All at once").check()
    page.get_by_label(re.compile("Expires after")).fill(office["expires"])
    page.get_by_label(re.compile("Remind every")).fill("2")
    page.get_by_role("button", name="Next: place the fields").click()

    expect(page.get_by_role("heading", name=re.compile("Place the fields"))).to_be_visible()
    image = page.get_by_role("img", name="Page 1")
    expect(image).to_be_visible()
    # Polled from here: wait_for_function's own polling evaluates a string, which the page's
    # script policy (no 'unsafe-eval') refuses when the image is not there at the first try.
    for _ in range(150):
        if image.evaluate("img => img.complete && img.naturalWidth > 0"):
            break
        page.wait_for_timeout(100)
    else:
        raise AssertionError("the page image never loaded")
    box = image.bounding_box()
    assert box is not None and box["width"] > 600  # the page is drawn large at 1280 px
    page.get_by_label("Field").select_option("signature")
    image.click(position={"x": box["width"] * 0.1, "y": box["height"] * 0.7})
    page.get_by_label("Field").select_option("date_signed")
    image.click(position={"x": box["width"] * 0.6, "y": box["height"] * 0.7})
    fields = page.locator(".pt-page .pt-field")
    expect(fields).to_have_count(2)
    expect(page.locator("#pt-field-list li")).to_have_count(2)
    expect(page.locator("#pt-field-list")).to_contain_text("Date signed · Cleo Client")

    # Drag the date field down a little: it moves and stays on the page.
    date_box = fields.nth(1).bounding_box()
    assert date_box is not None
    page.mouse.move(date_box["x"] + 20, date_box["y"] + 8)
    page.mouse.down()
    page.mouse.move(date_box["x"] + 20, date_box["y"] + 58, steps=5)
    page.mouse.up()
    moved = fields.nth(1).bounding_box()
    assert moved is not None and moved["y"] > date_box["y"] + 30

    # A third field, removed again with its remove button.
    page.get_by_label("Field").select_option("checkbox")
    image.click(position={"x": box["width"] * 0.5, "y": box["height"] * 0.3})
    expect(fields).to_have_count(3)
    fields.nth(2).get_by_role("button").click()
    expect(fields).to_have_count(2)

    page.get_by_role("button", name="Send", exact=True).click()
    expect(page.locator("#pt-sign-status")).to_have_text("Sent")
    expect(page.locator("#pt-sign-signers")).to_contain_text("cleo@example.com")
    assert blocked_scripts(problems) == []
    with app.app_context():
        sr = db.session.scalar(select(SignRequest))
        assert sr.status == SignRequestStatus.SENT and not sr.in_order
        assert sr.remind_every_days == 2
        assert sorted(f.kind for f in sr.fields) == sorted(
            [SignFieldKind.SIGNATURE, SignFieldKind.DATE_SIGNED]
        )
        signature = next(f for f in sr.fields if f.kind == SignFieldKind.SIGNATURE)
        assert 0.05 < signature.x < 0.15 and 0.65 < signature.y < 0.75
        assert [s.email for s in sr.signers] == ["cleo@example.com"]
    run_jobs(app)
    [mail] = mailbox.wait_for(1)
    assert "cleo@example.com" in mail["To"]


def test_the_verify_page_reads_a_chosen_file(page: Page, base_url, office):
    sign_in(page, base_url, "sia@example.com")
    page.goto(f"{base_url}/admin/sign_verify/", wait_until="load")
    page.set_input_files(
        "#file", {"name": "signed.pdf", "mimeType": "application/pdf", "buffer": office["sealed"]}
    )
    page.get_by_role("button", name="Verify").click()
    expect(page.locator("#pt-verify-verdict")).to_contain_text("Intact and sealed by")
    changed = bytearray(office["sealed"])
    at = office["sealed"].index(b"stream") + 10
    changed[at] = (changed[at] + 1) % 256
    page.set_input_files(
        "#file", {"name": "changed.pdf", "mimeType": "application/pdf", "buffer": bytes(changed)}
    )
    page.get_by_role("button", name="Verify").click()
    expect(page.locator("#pt-verify-verdict")).to_contain_text("Not intact")
