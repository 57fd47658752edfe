"""A staff member in Chromium uploads files to a record's Documents tab (each with its own
progress bar; a refused one says why), ticks three documents, shares them and emails the
client: one email arrives. The client signs in, downloads one of them, and the staff member
sees "seen by the client" on it and the download in its history."""

import io
import re

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from app.services import documents
from app.services.actors import Actor
from app.services.portal_accounts import enable_self_service
from models import Document, Record, db
from tests import factories
from tests.browser.test_admin_browser import blocked_scripts, sign_in, watch_console
from tests.conftest import body_of, run_jobs
from tests.views.test_portal_signin import _credentials

pytestmark = pytest.mark.browser

PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(32)
EXE = b"MZ\x90\x00\x03\x00\x00\x00" + bytes(120)


@pytest.fixture
def office(app, mailbox):
    with app.app_context():
        agent = factories.staff(
            role="agent", email="dora@example.com", first_name="Dora", last_name="Docs"
        )
        record = factories.record(first_name="Clara", last_name="Client", email="clara@example.com")
        enable_self_service(record, agent)
        documents.add_files(
            record,
            [documents.Upload(io.BytesIO(PDF), "existing policy.pdf")],
            actor=Actor.staff(agent),
        )
        db.session.commit()
        record_id = record.id
        clara = _credentials(record_id)  # read before delivery blanks the password
    run_jobs(app)  # the portal's own emails go before the test starts counting
    mailbox.clear()
    return {"record_id": record_id, "clara": clara}


def test_upload_two_files_share_three_and_email_the_client(
    app, page: Page, base_url, office, mailbox
):
    problems = watch_console(page)
    sign_in(page, base_url, "dora@example.com")
    page.goto(
        f"{base_url}/admin/record/details/?id={office['record_id']}#documents", wait_until="load"
    )
    page.get_by_role("tab", name=re.compile("Documents")).click()
    rows = page.locator("#pt-doc-table tbody tr")
    expect(rows).to_have_count(1)

    page.set_input_files(
        "#pt-doc-files",
        [
            {"name": "renewal.pdf", "mimeType": "application/pdf", "buffer": PDF},
            {"name": "invoice.pdf", "mimeType": "application/pdf", "buffer": EXE},
            {"name": "card.png", "mimeType": "image/png", "buffer": PNG},
        ],
    )
    page.locator("#pt-doc-upload").get_by_role("button", name="Upload").click()
    done = page.locator("#pt-doc-progress li[data-state=done]")
    expect(done).to_have_count(2)
    # The refused file says why next to its name; the files around it stay uploaded.
    refused = page.locator("#pt-doc-progress li[data-state=refused]")
    expect(refused).to_contain_text("invoice.pdf")
    expect(refused.locator(".pt-upload-status")).to_contain_text("not accepted")
    bars = page.locator("#pt-doc-progress [role=progressbar]")
    expect(bars.and_(page.locator("[aria-valuenow='100']"))).to_have_count(2)
    expect(rows).to_have_count(3)  # the new rows, without reloading the page
    expect(page.locator("#pt-doc-table")).to_contain_text("renewal.pdf")
    expect(page.locator("#pt-doc-table")).to_contain_text("card.png")

    page.locator("#pt-doc-tick-all").check()
    page.get_by_role("button", name="Actions").click()
    page.get_by_role("button", name="Share", exact=True).click()
    expect(page.get_by_text("Shared 3 documents with the client.")).to_be_visible()
    dialog = page.locator("#pt-notify-modal")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_role("button", name="Text the client")).to_be_disabled()
    dialog.get_by_role("button", name="Email the client").click()
    expect(page.get_by_text("Sent an email about 3 documents to 1 client")).to_be_visible()
    expect(page.locator("#pt-doc-table .pt-doc-receipt", has_text="Not opened yet")).to_have_count(
        3
    )

    run_jobs(app)
    received = mailbox.wait_for(1)
    assert len(received) == 1 and "clara@example.com" in received[0]["To"]
    notice = body_of(received[0])
    assert "- renewal\n- card\n\nSign in to see and download them: " in notice.replace("\r", "")
    with app.app_context():
        record = db.session.get(Record, office["record_id"])
        shared = db.session.scalars(
            select(Document).where(Document.record_id == record.id, Document.shared.is_(True))
        ).all()
        assert len(shared) == 3
    clara = office["clara"]
    assert blocked_scripts(problems) == []

    # The client signs in from the email's portal, finds the three and downloads one.
    client = page.context.browser.new_context(accept_downloads=True).new_page()
    client.goto(f"{base_url}/portal/a/{clara['token']}", wait_until="load")
    client.get_by_label("Password").fill(clara["password"])
    client.get_by_role("button", name="Sign in").click()
    client.get_by_role("link", name="Documents", exact=True).click()
    expect(client.get_by_role("link", name=re.compile("^Download "))).to_have_count(3)
    with client.expect_download() as download:
        client.get_by_role("link", name="Download renewal").click()
    assert download.value.suggested_filename == "renewal.pdf"
    client.context.close()

    # Staff see the receipt on the tab, and the download in the document's history.
    page.reload(wait_until="load")
    page.get_by_role("tab", name=re.compile("Documents")).click()
    renewal = page.locator("#pt-doc-table tbody tr", has_text="renewal.pdf")
    expect(renewal.locator(".pt-doc-receipt")).to_contain_text("Seen by the client on")
    expect(page.locator(".pt-doc-receipt", has_text="Not opened yet")).to_have_count(2)
    renewal.get_by_role("link", name="History").click()
    expect(page.locator("table")).to_contain_text("Downloaded")
    expect(page.locator("table")).to_contain_text("Clara Client")
