"""A staff member in Chromium opens a client's record, fills New request on its Requests tab
through its widgets (date picker, assignee select, file input) and sends it: the client is
emailed a link to the request. The client answers with a document; the staff member finds it
in the Requests inbox marked new, opens the thread, downloads the file, replies and closes it."""

import io
import re
from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from app.services import conversations, documents
from app.services.portal_accounts import enable_self_service
from models import Conversation, ConversationStatus, PortalAccount, RecordKind, db
from tests import factories
from tests.browser.test_admin_browser import blocked_scripts, sign_in, watch_console
from tests.conftest import body_of, run_jobs

pytestmark = pytest.mark.browser

PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n"


@pytest.fixture
def office(app, mailbox):
    with app.app_context():
        agent = factories.staff(
            role="agent", email="rhea@example.com", first_name="Rhea", last_name="Requests"
        )
        factories.staff(role="agent", email="sam@example.com", first_name="Sam", last_name="Second")
        record = factories.record(
            first_name="Clara",
            last_name="Client",
            email="clara@example.com",
            kind=RecordKind.CLIENT,
            assigned_agent_id=agent.id,
        )
        enable_self_service(record, agent)
        db.session.commit()
        due = (documents.office_today() + timedelta(days=10)).isoformat()
        record_id = record.id
    run_jobs(app)
    mailbox.clear()
    return {"record_id": record_id, "due": due}


def test_send_a_request_then_read_the_answer_reply_and_close(
    app, page: Page, base_url, office, mailbox
):
    problems = watch_console(page)
    sign_in(page, base_url, "rhea@example.com")
    page.goto(f"{base_url}/admin/record/details/?id={office['record_id']}", wait_until="load")
    page.get_by_role("tab", name=re.compile("Requests")).click()
    form = page.locator("#pt-request-new")
    expect(form).to_be_visible()
    expect(page.locator("#pt-request-empty")).to_be_visible()
    # The record's agent is chosen to begin with; the request goes to someone else.
    expect(form.get_by_label("Assigned to").locator("option:checked")).to_have_text("Rhea Requests")
    form.get_by_label("Subject").fill("Proof of address")
    form.get_by_label("Message").fill("Please send a recent utility bill.\nThanks!")
    form.get_by_label("Due date").fill(office["due"])
    form.get_by_label("Assigned to").select_option(label="Sam Second")
    form.get_by_label("Files").set_input_files(
        [{"name": "checklist.pdf", "mimeType": "application/pdf", "buffer": PDF}]
    )
    form.get_by_role("button", name="Send request").click()
    expect(page.get_by_text("Request “Proof of address” sent to Clara Client.")).to_be_visible()
    # Back on the record's Requests tab, the request is listed.
    table = page.locator("#pt-request-table")
    expect(table).to_be_visible()
    expect(table).to_contain_text("Proof of address")
    expect(table).to_contain_text("Waiting on client")
    expect(table).to_contain_text("Sam Second")
    expect(table).to_contain_text(office["due"])

    with app.app_context():
        conversation = db.session.scalar(select(Conversation))
        conversation_id = conversation.id
        assert conversation.due_on.isoformat() == office["due"]
    run_jobs(app)
    [mail] = mailbox.wait_for(1)
    assert "clara@example.com" in mail["To"]
    assert f"/portal/requests/{conversation_id}" in body_of(mail)
    mailbox.clear()

    # The client answers with a document (the portal's page calls the same service).
    with app.app_context():
        account = db.session.scalar(
            select(PortalAccount).where(PortalAccount.record_id == office["record_id"])
        )
        conversations.reply_as_client(
            account,
            conversation_id,
            "Here is my gas bill: https://example.com/bill",
            [conversations.Upload(io.BytesIO(PDF), "gas bill.pdf")],
        )
        db.session.commit()

    page.locator(".navbar").get_by_role("link", name="Requests", exact=True).click()
    row = page.locator("tr", has_text="Proof of address")
    expect(row).to_contain_text("New from the client")
    expect(row).to_contain_text("Answered")
    row.get_by_role("link", name="Proof of address").click()

    messages = page.locator("#pt-thread-messages > li")
    expect(messages).to_have_count(2)
    expect(messages.nth(1)).to_contain_text("Here is my gas bill")
    expect(messages.nth(1).get_by_role("link", name="https://example.com/bill")).to_have_attribute(
        "rel", "noopener noreferrer nofollow ugc"
    )
    with page.expect_download() as download:
        messages.nth(1).get_by_role("link", name="gas bill.pdf").click()
    assert download.value.suggested_filename == "gas bill.pdf"

    reply = page.locator("#pt-thread-reply")
    reply.get_by_label("Message").fill("Thank you, that is all we need.")
    reply.get_by_role("button", name="Send reply").click()
    expect(page.get_by_text("Reply sent")).to_be_visible()
    expect(messages).to_have_count(3)
    expect(page.locator("#pt-thread-status")).to_have_text("Waiting on client")

    page.get_by_role("button", name="Close", exact=True).click()
    expect(page.locator("#pt-thread-status")).to_have_text("Closed")
    expect(page.get_by_role("button", name="Reopen")).to_be_visible()
    with app.app_context():
        saved = db.session.get(Conversation, conversation_id)
        assert saved.status == ConversationStatus.CLOSED and not saved.unread_by_staff
    run_jobs(app)
    received = [m for m in mailbox.wait_for(1) if "clara@example.com" in m["To"]]
    assert len(received) == 1 and f"/portal/requests/{conversation_id}" in body_of(received[0])
    assert blocked_scripts(problems) == []
