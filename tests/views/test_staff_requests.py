"""Staff requests in the admin panel: the record's Requests tab (New request with files, a due
date and an assignee), the thread (the client's answer and files, reply, close, reopen,
assign), and what a refused send keeps (nothing). Every change is a real form post with its
CSRF token; mail is read at the SMTP server."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from sqlalchemy import delete, func, select

from app.services import conversations, documents
from app.services.portal_accounts import enable_self_service
from models import (
    AccessAction,
    ActivityEntry,
    Conversation,
    ConversationMessage,
    ConversationStatus,
    Document,
    DocumentAccess,
    PortalAccount,
    RecordKind,
    User,
    db,
)
from tests import factories
from tests.conftest import body_of, run_jobs

PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n"
EXE = b"MZ\x90\x00\x03\x00\x00\x00" + bytes(120)


def page_of(record_id: int) -> str:
    return f"/admin/record/details/?id={record_id}"


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def cleo(app, agent_user, mailbox) -> int:
    """A client with portal access, assigned to the agent; the portal's own mail is gone."""
    with app.app_context():
        agent = db.session.get(User, agent_user.id)
        record = factories.record(
            first_name="Cleo",
            last_name="Client",
            email="cleo@example.com",
            kind=RecordKind.CLIENT,
            assigned_agent_id=agent.id,
        )
        enable_self_service(record, agent)
        db.session.commit()
        record_id = record.id
    run_jobs(app)
    mailbox.clear()
    return record_id


def send(client, record_id: int, files=(), **fields):
    data = {"subject": "Proof of address", "message": "Please send a utility bill.", **fields}
    data["files"] = [(io.BytesIO(content), name) for name, content in files]
    return client.submit(
        f"/admin/requests/record/{record_id}/new/",
        data,
        page=page_of(record_id),
        content_type="multipart/form-data",
        follow_redirects=True,
    )


def the_conversation(app) -> Conversation:
    with app.app_context():
        return db.session.scalar(select(Conversation))


def client_account(record_id: int) -> PortalAccount:
    return db.session.scalar(
        select(PortalAccount).where(
            PortalAccount.record_id == record_id, PortalAccount.contact_id.is_(None)
        )
    )


def test_new_request_with_a_file_and_due_date_emails_the_client_a_link(
    app, agent_client, agent_user, cleo, mailbox
):
    with app.app_context():
        due = (documents.office_today() + timedelta(days=7)).isoformat()
    tab = agent_client.get(page_of(cleo)).get_data(as_text=True)
    assert 'id="pt-request-new"' in tab and "No requests yet." in tab
    # The record's agent is the assignee the form starts with.
    assert re.search(rf'<option value="{agent_user.id}" selected>', tab)
    response = send(agent_client, cleo, [("checklist.pdf", PDF)], due_on=due)
    html = response.get_data(as_text=True)
    assert "Request “Proof of address” sent to Cleo Client." in html
    assert "no portal access" not in html
    conversation = the_conversation(app)
    assert conversation.status == ConversationStatus.WAITING
    assert conversation.due_on.isoformat() == due and conversation.assignee_id == agent_user.id
    with app.app_context():
        [message] = db.session.scalars(select(ConversationMessage)).all()
        assert [d.filename for d in message.attachments] == ["checklist.pdf"]
    # The tab lists it, with its status in words.
    tab = agent_client.get(page_of(cleo)).get_data(as_text=True)
    assert "Proof of address" in tab and "Waiting on client" in tab
    run_jobs(app)
    [mail] = mailbox.wait_for(1)
    assert "cleo@example.com" in mail["To"] and "Proof of address" in mail["Subject"]
    assert f"/portal/requests/{conversation.id}" in body_of(mail)


def test_the_clients_answer_with_a_document_shows_in_the_thread_and_downloads(
    app, agent_client, cleo, mailbox
):
    send(agent_client, cleo)
    conversation = the_conversation(app)
    with app.app_context():
        conversations.reply_as_client(
            client_account(cleo),
            conversation.id,
            "Here it is, see https://example.com/bill and <b>thanks</b>",
            [conversations.Upload(io.BytesIO(PDF), "gas bill.pdf")],
        )
        db.session.commit()
        document_id = db.session.scalar(
            select(Document.id).where(Document.filename == "gas bill.pdf")
        )
    inbox = agent_client.get("/admin/requests/").get_data(as_text=True)
    assert "New from the client" in inbox and "Answered" in inbox
    html = agent_client.get(f"/admin/requests/{conversation.id}/").get_data(as_text=True)
    assert "gas bill.pdf" in html and f"/admin/document/{document_id}/download/" in html
    # Plain text: the address is a link, the markup is text.
    assert (
        '<a href="https://example.com/bill" rel="noopener noreferrer nofollow ugc" target="_blank">'
        in html
    )
    assert "&lt;b&gt;thanks&lt;/b&gt;" in html and "<b>thanks" not in html
    # Opening the thread read it.
    with app.app_context():
        assert not db.session.get(Conversation, conversation.id).unread_by_staff
    download = agent_client.get(f"/admin/document/{document_id}/download/")
    assert download.status_code == 200 and download.data == PDF
    download.close()
    with app.app_context():
        logged = db.session.scalars(
            select(DocumentAccess.action).where(DocumentAccess.document_id == document_id)
        ).all()
        assert AccessAction.DOWNLOADED in logged


def test_a_link_other_than_http_stays_text(app, agent_client, cleo):
    send(
        agent_client, cleo, message="javascript:alert(1) and data:text/html,x http://ok.example/a."
    )
    conversation = the_conversation(app)
    html = agent_client.get(f"/admin/requests/{conversation.id}/").get_data(as_text=True)
    messages = html[html.index('id="pt-thread-messages"') : html.index('id="pt-thread-reply"')]
    assert "javascript:alert(1)" in messages and messages.count("<a ") == 1
    assert '<a href="http://ok.example/a"' in messages and "</a>." in messages


def test_a_cross_site_visit_does_not_mark_the_thread_read(app, agent_client, cleo):
    send(agent_client, cleo)
    conversation = the_conversation(app)
    with app.app_context():
        conversations.reply_as_client(client_account(cleo), conversation.id, "Done")
        db.session.commit()
    page = agent_client.get(
        f"/admin/requests/{conversation.id}/", headers={"Sec-Fetch-Site": "cross-site"}
    )
    assert page.status_code == 200
    with app.app_context():
        assert db.session.get(Conversation, conversation.id).unread_by_staff


def test_staff_reply_emails_the_client_and_waits_on_them(app, agent_client, cleo, mailbox):
    send(agent_client, cleo)
    conversation = the_conversation(app)
    with app.app_context():
        conversations.reply_as_client(client_account(cleo), conversation.id, "Which bill?")
        db.session.commit()
    run_jobs(app)
    mailbox.clear()
    thread = f"/admin/requests/{conversation.id}/"
    response = agent_client.submit(
        f"{thread}reply/",
        {"message": "Any bill from the last three months.", "files": []},
        page=thread,
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    html = response.get_data(as_text=True)
    assert "Reply sent" in html and "Any bill from the last three months." in html
    with app.app_context():
        assert db.session.get(Conversation, conversation.id).status == ConversationStatus.WAITING
    run_jobs(app)
    mails = [m for m in mailbox.wait_for(1) if "cleo@example.com" in m["To"]]
    assert len(mails) == 1 and f"/portal/requests/{conversation.id}" in body_of(mails[0])


def test_close_and_reopen_are_logged_and_assign_hands_it_over(app, agent_client, admin_user, cleo):
    send(agent_client, cleo)
    conversation = the_conversation(app)
    thread = f"/admin/requests/{conversation.id}/"
    closed = agent_client.submit(f"{thread}close/", page=thread, follow_redirects=True)
    assert "Closed." in closed.get_data(as_text=True) and "Reopen" in closed.get_data(as_text=True)
    reopened = agent_client.submit(f"{thread}reopen/", page=thread, follow_redirects=True)
    assert "Reopened" in reopened.get_data(as_text=True)
    assigned = agent_client.submit(
        f"{thread}assign/", {"assignee_id": str(admin_user.id)}, page=thread, follow_redirects=True
    )
    assert "Assigned to Bea Boss." in assigned.get_data(as_text=True)
    with app.app_context():
        keys = db.session.scalars(
            select(ActivityEntry.event_key).where(ActivityEntry.record_id == cleo)
        ).all()
        assert "staff.request.closed" in keys and "staff.request.reopened" in keys
        saved = db.session.get(Conversation, conversation.id)
        assert saved.status == ConversationStatus.ANSWERED and saved.assignee_id == admin_user.id
    refused = agent_client.submit(
        f"{thread}assign/", {"assignee_id": "999999"}, page=thread, follow_redirects=True
    )
    assert "Choose an active staff member." in refused.get_data(as_text=True)
    # Digits other than 0-9 (a superscript two, Arabic-Indic digits) are no one either.
    for typed in ("²", "١٢", "1²"):
        refused = agent_client.submit(
            f"{thread}assign/", {"assignee_id": typed}, page=thread, follow_redirects=True
        )
        assert "Choose an active staff member." in refused.get_data(as_text=True), typed


@pytest.mark.parametrize(
    ("fields", "files", "message"),
    [
        ({"message": "  "}, [], "Write your message."),
        ({"subject": ""}, [], "Give the subject."),
        ({"due_on": "2001-01-01"}, [], "Choose a due date from today on."),
        ({"due_on": "next week"}, [], "Give the due date as a date"),
        ({"assignee_id": "12345"}, [], "Choose an active staff member."),
        ({}, [("checklist.pdf", EXE)], "checklist.pdf"),
    ],
)
def test_bad_input_shows_the_error_keeps_what_was_typed_and_nothing_else(
    app, agent_client, cleo, mailbox, fields, files, message
):
    typed = {"subject": "Bank statement", "message": "The last one, please.", **fields}
    response = send(agent_client, cleo, files, **typed)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert message in html and 'class="invalid-feedback"' in html
    if typed["subject"]:
        assert 'value="Bank statement"' in html
    if typed["message"].strip():
        assert "The last one, please.</textarea>" in html
    with app.app_context():
        assert count(Conversation) == 0 and count(ConversationMessage) == 0
        assert count(Document) == 0
    run_jobs(app)
    assert mailbox.messages == []


def test_empty_reply_is_refused_and_keeps_the_thread_as_it_was(app, agent_client, cleo):
    send(agent_client, cleo)
    conversation = the_conversation(app)
    thread = f"/admin/requests/{conversation.id}/"
    response = agent_client.submit(
        f"{thread}reply/", {"message": " "}, page=thread, content_type="multipart/form-data"
    )
    assert "Write your message." in response.get_data(as_text=True)
    with app.app_context():
        assert count(ConversationMessage) == 1


def test_without_csrf_token_nothing_is_sent(app, agent_client, cleo):
    response = agent_client.post(
        f"/admin/requests/record/{cleo}/new/",
        data={"subject": "S", "message": "M"},
    )
    assert response.status_code == 400
    send(agent_client, cleo)
    conversation = the_conversation(app)
    for action in ("close", "reopen", "assign", "reply"):
        refused = agent_client.post(
            f"/admin/requests/{conversation.id}/{action}/", data={"message": "x"}
        )
        assert refused.status_code == 400, action
    with app.app_context():
        assert count(Conversation) == 1 and count(ConversationMessage) == 1
        saved = db.session.get(Conversation, conversation.id)
        assert saved.status == ConversationStatus.WAITING


def test_a_record_without_portal_access_is_sent_to_with_a_warning(app, agent_client):
    with app.app_context():
        lead = factories.record(first_name="Lee", last_name="Lead", email="lee@example.com").id
    tab = agent_client.get(page_of(lead)).get_data(as_text=True)
    assert "The client has no portal access yet" in tab
    html = send(agent_client, lead).get_data(as_text=True)
    assert "sent to Lee Lead" in html and "The client has no portal access yet" in html


def test_unknown_thread_and_record_are_not_found(agent_client):
    assert agent_client.get("/admin/requests/424242/").status_code == 404
    assert agent_client.get("/admin/requests/record/424242/new/").status_code == 404


def test_signed_out_visitors_are_sent_to_sign_in(app, client, cleo):
    response = client.get(f"/admin/requests/record/{cleo}/new/")
    assert response.status_code == 302 and "/staff/login" in response.headers["Location"]
    assert client.get("/admin/requests/").status_code == 302


def test_the_record_tab_badge_counts_the_offices_turn(app, agent_client, cleo):
    send(agent_client, cleo)  # waiting on the client: not the office's turn
    with app.app_context():
        account = client_account(cleo)
        conversations.contact_us(account, "Billing", "Why?")
        db.session.commit()
    html = agent_client.get(page_of(cleo)).get_data(as_text=True)
    assert re.search(
        r'id="tab-requests"[^>]*>Requests <span class="badge badge-light">1</span>', html
    )


def test_client_request_answers_show_as_a_definition_list(app, agent_client, cleo):
    from models import RequestField, RequestType

    with app.app_context():
        kind = RequestType(key="add_driver", name="Add a driver")
        db.session.add(kind)
        db.session.flush()
        name = RequestField(request_type_id=kind.id, label="Driver's name", field_type="text")
        licensed = RequestField(request_type_id=kind.id, label="Licensed", field_type="yes_no")
        db.session.add_all([name, licensed])
        db.session.flush()
        conversation = conversations.start_client_request(
            client_account(cleo),
            kind,
            "Driver's name: Sam\nLicensed: Yes",
            answers={str(name.id): "Sam <Sammy>", str(licensed.id): True},
        )
        db.session.commit()
        conversation_id = conversation.id
    html = agent_client.get(f"/admin/requests/{conversation_id}/").get_data(as_text=True)
    assert 'id="pt-thread-answers"' in html
    assert '<dt class="col-sm-4">Driver&#39;s name</dt>' in html
    assert "Sam &lt;Sammy&gt;" in html and ">Yes</dd>" in html
    inbox = agent_client.get("/admin/requests/").get_data(as_text=True)
    assert "Add a driver" in inbox and "Client request" in inbox


def test_file_answers_link_their_download_and_a_deleted_type_leaves_the_message(
    app, agent_client, cleo
):
    from models import RequestField, RequestType

    with app.app_context():
        kind = RequestType(key="add_vehicle", name="Add a vehicle")
        db.session.add(kind)
        db.session.flush()
        vin = RequestField(request_type_id=kind.id, label="VIN", field_type="text")
        title = RequestField(request_type_id=kind.id, label="Title document", field_type="file")
        db.session.add_all([vin, title])
        db.session.flush()
        conversation = conversations.start_client_request(
            client_account(cleo),
            kind,
            "VIN: 1HGCM82633A004352",
            [conversations.Upload(io.BytesIO(PDF), "title.pdf")],
        )
        db.session.flush()
        [document] = conversation.messages[0].attachments
        conversation.answers = {str(vin.id): "1HGCM82633A004352", str(title.id): [document.id]}
        db.session.commit()
        conversation_id, document_id, kind_id = conversation.id, document.id, kind.id
    html = agent_client.get(f"/admin/requests/{conversation_id}/").get_data(as_text=True)
    answers = html[html.index('id="pt-thread-answers"') : html.index("</dl>")]
    assert "VIN" in answers and "1HGCM82633A004352" in answers
    assert f'<a href="/admin/document/{document_id}/download/">title.pdf</a>' in answers
    with app.app_context():
        db.session.execute(delete(RequestType).where(RequestType.id == kind_id))
        db.session.commit()
    html = agent_client.get(f"/admin/requests/{conversation_id}/").get_data(as_text=True)
    assert 'id="pt-thread-answers"' not in html and "VIN: 1HGCM82633A004352" in html


def test_staff_link_to_a_thread_opens_it(app, agent_client, cleo):
    from app.services import links

    send(agent_client, cleo)
    conversation = the_conversation(app)
    with app.test_request_context():
        address = links.staff_conversation(conversation.id)
    assert address.endswith(f"/admin/requests/{conversation.id}/")
    path = "/" + address.split("://", 1)[1].split("/", 1)[1]
    assert agent_client.get(path).status_code == 200
