"""Requests through the JSON API, and who reaches which thread: another client's thread,
file, reply and API path answer 404 with nothing written; a household member sees the
office's requests of the record but not the others' own messages; the per-account limits."""

from __future__ import annotations

from io import BytesIO
from typing import Any

import pytest
from sqlalchemy import select

import portal.limits
from app.services import conversations, portal_accounts
from models import (
    ActivityEntry,
    Conversation,
    ConversationMessage,
    Document,
    DocumentAccess,
    PortalAccount,
    User,
    db,
)
from tests import factories
from tests.views import test_portal_details as details
from tests.views.test_portal_documents import EXE, PDF, closed, count, multipart
from tests.views.test_portal_requests import contact_us_as_cora, reply, staff_request, thread

cora = details.cora
signed_in = details.signed_in
api_token = details.api_token


def api_post(client: Any, url: str, token: str, files=(), **fields: str) -> Any:
    body = multipart(list(files), **fields)
    return closed(client.post(url, headers={"X-CSRFToken": token}, **body))


@pytest.fixture
def otto(app, cora):
    """Another client of the same agent: a request from the office and his own message, each
    with a file."""
    with app.app_context():
        staff = db.session.get(User, cora["staff_id"])
        record = factories.record(
            first_name="Otto",
            last_name="Other",
            email="otto@example.com",
            assigned_agent_id=staff.id,
        )
        portal_accounts.enable_self_service(record, staff)
        db.session.flush()
        upload = conversations.Upload(BytesIO(PDF), "otto-request.pdf")
        asked = conversations.send_request(record, staff, "Otto's renewal", "Hi Otto", [upload])
        account = db.session.scalar(
            select(PortalAccount).where(PortalAccount.record_id == record.id)
        )
        upload = conversations.Upload(BytesIO(PDF), "otto-own.pdf")
        own = conversations.contact_us(account, "Otto's question", "Hello", [upload])
        db.session.commit()
        files = [d.id for c in (asked, own) for m in c.messages for d in m.attachments]
        return {"asked": asked.id, "own": own.id, "files": files}


def _written(app: Any) -> tuple[int, ...]:
    return (
        count(app, ConversationMessage),
        count(app, Document),
        count(app, DocumentAccess),
        count(app, ActivityEntry),
    )


def test_another_clients_threads_files_and_api_are_not_found_anywhere(app, signed_in, cora, otto):
    mine = staff_request(app, cora)
    token = api_token(signed_in)
    before = _written(app)
    # Cora's own thread with Otto's file, and Otto's threads with anything.
    for conversation_id, document_id in (
        (mine, otto["files"][0]),
        (otto["asked"], otto["files"][0]),
        (otto["own"], otto["files"][1]),
        (10**6, otto["files"][0]),
    ):
        url = f"/portal/requests/{conversation_id}/files/{document_id}"
        assert closed(signed_in.get(url)).status_code == 404, url
    for conversation_id in (otto["asked"], otto["own"], 10**6):
        page = f"/portal/requests/{conversation_id}"
        assert signed_in.get(page).status_code == 404
        refused = reply(signed_in, conversation_id, "Mine now", [(PDF, "x.pdf")], token)
        assert refused.status_code == 404
        for method, url in (
            ("get", f"/portal/api/requests/{conversation_id}"),
            ("post", f"/portal/api/requests/{conversation_id}/read"),
            ("post", f"/portal/api/requests/{conversation_id}/replies"),
        ):
            if method == "get":
                response = signed_in.get(url)
            else:
                response = api_post(signed_in, url, token, [(PDF, "x.pdf")], message="Mine")
            assert response.status_code == 404, url
            assert response.get_json()["error"]["code"] == 404
    listed = signed_in.get("/portal/api/requests").get_json()["requests"]
    assert [r["id"] for r in listed] == [mine]
    assert "Otto" not in signed_in.get("/portal/requests").get_data(as_text=True)
    assert _written(app) == before
    with app.app_context():
        assert db.session.get(Conversation, otto["asked"]).client_read_at is None


def test_a_household_member_sees_the_offices_requests_but_not_the_primarys_messages(
    app, client, cora, mailbox
):
    asked = staff_request(app, cora)
    own = contact_us_as_cora(app, cora)
    details.sign_in_co_applicant(app, client, cora, mailbox)
    listing = client.get("/portal/requests").get_data(as_text=True)
    assert "Your renewal" in listing and "About my bill" not in listing
    assert client.get(f"/portal/requests/{asked}").status_code == 200
    assert client.get(f"/portal/requests/{own}").status_code == 404
    assert client.get(f"/portal/api/requests/{own}").status_code == 404
    token = api_token(client)
    assert reply(client, own, "Hi", token=token).status_code == 404
    assert reply(client, asked, "Carl here", token=token).status_code == 302
    assert [m.author_name for m in thread(app, asked).messages][-1].startswith("Carl")


def test_the_api_lists_reads_replies_and_contacts(app, signed_in, cora, mailbox):
    asked = staff_request(app, cora)
    token = api_token(signed_in)
    listing = signed_in.get("/portal/api/requests").get_json()
    assert listing["unread"] == 1
    [summary] = listing["requests"]
    assert summary["incoming"] and summary["unread"] and summary["status"] == "waiting"
    assert summary["url"] == f"/portal/requests/{asked}"
    read = signed_in.get(f"/portal/api/requests/{asked}").get_json()
    assert read["messages"][0]["body"].startswith("Please send us your new ID card.")
    assert thread(app, asked).unread_by_client  # a GET of the API marks nothing read
    marked = api_post(signed_in, f"/portal/api/requests/{asked}/read", token)
    assert marked.status_code == 200 and marked.get_json()["unread"] is False
    assert not thread(app, asked).unread_by_client

    sent = api_post(
        signed_in,
        f"/portal/api/requests/{asked}/replies",
        token,
        [(PDF, "card.pdf")],
        message="Here you are",
    )
    assert sent.status_code == 201
    answer = sent.get_json()["messages"][-1]
    assert answer["mine"] and answer["body"] == "Here you are"
    [attachment] = answer["attachments"]
    assert attachment["filename"] == "card.pdf"
    assert closed(signed_in.get(attachment["download_url"])).data == PDF

    made = api_post(
        signed_in, "/portal/api/contact", token, subject="From the app", message="Hello"
    )
    assert made.status_code == 201
    assert made.get_json()["request"]["kind"] == "contact_us"
    assert len(signed_in.get("/portal/api/requests").get_json()["requests"]) == 2


def test_the_api_answers_bad_input_with_field_errors_and_keeps_nothing(app, signed_in, cora):
    asked = staff_request(app, cora)
    token = api_token(signed_in)
    before = _written(app)
    for url, fields, files, field in (
        ("/portal/api/contact", {"subject": "", "message": "x"}, [], "subject"),
        ("/portal/api/contact", {"subject": "Hi", "message": " "}, [], "message"),
        ("/portal/api/contact", {"subject": "Hi", "message": "x"}, [(EXE, "a.pdf")], "files"),
        (f"/portal/api/requests/{asked}/replies", {"message": ""}, [], "message"),
        (f"/portal/api/requests/{asked}/replies", {"message": "x" * 10_001}, [], "message"),
    ):
        response = api_post(signed_in, url, token, files, **fields)
        assert response.status_code == 422, (url, fields)
        assert field in response.get_json()["error"]["fields"], response.get_json()
    assert _written(app) == before
    no_token = closed(
        signed_in.post("/portal/api/contact", **multipart([], subject="a", message="b"))
    )
    assert no_token.status_code == 400


def test_a_json_body_of_other_kinds_than_text_is_refused_and_keeps_nothing(app, signed_in, cora):
    """A list or an object where text is expected is refused (422), a body that is not an
    object too (400): never read as text (a thread saying "{'a': 1}") nor a server error."""
    asked = staff_request(app, cora)
    token = api_token(signed_in)
    before = _written(app)
    replies, contact = f"/portal/api/requests/{asked}/replies", "/portal/api/contact"
    for url, body, code in (
        (replies, {"message": {"a": 1}}, 422),
        (replies, {"message": ["a", "b"]}, 422),
        (replies, {"message": 5}, 422),
        (replies, {"message": "hi", "status": "closed"}, 422),
        (replies, [1, 2], 400),
        (replies, "hello", 400),
        (contact, {"subject": ["x"], "message": "y"}, 422),
        (contact, {"subject": {"a": 1}, "message": "y"}, 422),
        (contact, {"subject": "s", "message": True}, 422),
        (contact, [["subject", "s"]], 400),
    ):
        response = closed(signed_in.post(url, json=body, headers={"X-CSRFToken": token}))
        assert response.status_code == code, (url, body, response.get_data(as_text=True))
        assert "error" in response.get_json()
    assert _written(app) == before
    # A JSON object of text is read as the form is.
    sent = closed(signed_in.post(replies, json={"message": "Done"}, headers={"X-CSRFToken": token}))
    assert sent.status_code == 201 and sent.get_json()["messages"][-1]["body"] == "Done"


def test_contact_us_is_limited_per_account_and_only_messages_taken_count(
    app, signed_in, cora, monkeypatch
):
    monkeypatch.setattr(portal.limits, "CONTACT_LIMIT", "2 per hour")
    token = api_token(signed_in)
    url = "/portal/api/contact"
    assert api_post(signed_in, url, token, subject="", message="x").status_code == 422
    assert api_post(signed_in, url, token, subject="One", message="x").status_code == 201
    page = signed_in.csrf_token("/portal/contact")
    body = multipart([], subject="Two", message="x", csrf_token=page)
    assert closed(signed_in.post("/portal/contact", **body)).status_code == 302
    refused = api_post(signed_in, url, token, subject="Three", message="x")
    assert refused.status_code == 429 and refused.get_json()["error"]["code"] == 429
    assert count(app, Conversation) == 2


def test_replies_are_limited_per_account(app, signed_in, cora, monkeypatch):
    monkeypatch.setattr(portal.limits, "REPLY_LIMIT", "1 per hour")
    asked = staff_request(app, cora)
    token = api_token(signed_in)
    url = f"/portal/api/requests/{asked}/replies"
    assert api_post(signed_in, url, token, message="").status_code == 422
    assert reply(signed_in, asked, "First", token=token).status_code == 302
    assert api_post(signed_in, url, token, message="Second").status_code == 429
    assert len(thread(app, asked).messages) == 2
