"""Requests in the portal, as a client uses them: Contact us reaching the adviser by real mail,
a request from the office answered with a document, the unread badge, the staff preview, and
the bad input a thread refuses."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from app.services import conversation_access, conversations, documents
from models import (
    Conversation,
    ConversationStatus,
    Document,
    DocumentSource,
    PortalAccount,
    Record,
    User,
    db,
)
from tests.conftest import body_of, run_jobs
from tests.views import test_portal_details as details
from tests.views.test_portal_documents import (
    EXE,
    PDF,
    PNG,
    closed,
    count,
    multipart,
    stored_files,
)

# The signed-in client of the portal tests: Cora, a client with an agent (sid.staff).
cora = details.cora
signed_in = details.signed_in
AGENT = "sid.staff@example.com"


# -- helpers ------------------------------------------------------------------------------------


def staff_request(app: Any, cora: dict[str, Any], subject: str = "Your renewal", **kw: Any) -> int:
    """A request Cora's agent sends her (the service call the staff panel makes)."""
    with app.app_context():
        record = db.session.get(Record, cora["record_id"])
        conversation = conversations.send_request(
            record,
            db.session.get(User, cora["staff_id"]),
            subject,
            kw.pop("body", "Please send us your new ID card. See https://carrier.example/help"),
            **kw,
        )
        db.session.commit()
        return conversation.id


def cora_account(app: Any, cora: dict[str, Any]) -> PortalAccount:
    with app.app_context():
        return db.session.scalar(
            select(PortalAccount).where(
                PortalAccount.record_id == cora["record_id"], PortalAccount.contact_id.is_(None)
            )
        )


def contact_us_as_cora(app: Any, cora: dict[str, Any], subject: str = "About my bill") -> int:
    with app.app_context():
        account = db.session.get(PortalAccount, cora_account(app, cora).id)
        conversation = conversations.contact_us(account, subject, "Why did it go up?")
        db.session.commit()
        return conversation.id


def reply(client: Any, conversation_id: int, message: str, files=(), token: str | None = None):
    url = f"/portal/requests/{conversation_id}"
    fields = {"message": message}
    if token is not False:
        fields["csrf_token"] = token or client.csrf_token(url)
    return closed(client.post(url, **multipart(list(files), **fields)))


def contact(client: Any, subject: str, message: str, files=(), **kwargs: Any):
    token = client.csrf_token("/portal/contact")
    body = multipart(list(files), subject=subject, message=message, csrf_token=token)
    return closed(client.post("/portal/contact", **body, **kwargs))


def thread(app: Any, conversation_id: int) -> Conversation:
    with app.app_context():
        found = conversation_access.thread(conversation_id)
        for message in found.messages:
            list(message.attachments)
        db.session.expunge_all()
        return found


# -- contact us ---------------------------------------------------------------------------------


def test_contact_us_reaches_the_adviser_with_the_client_as_reply_to(app, signed_in, cora, mailbox):
    page = signed_in.get("/portal/contact").get_data(as_text=True)
    assert 'name="subject"' in page and 'type="file"' in page and "multiple" in page
    response = contact(
        signed_in,
        "Question about my bill",
        "Why did it go up this year?\nThanks, Cora",
        [(PDF, "bill.pdf")],
    )
    assert response.status_code == 302
    [conversation_id] = [c.id for c in _all(app)]
    assert response.headers["Location"] == f"/portal/requests/{conversation_id}"
    page = signed_in.get(response.headers["Location"]).get_data(as_text=True)
    assert "Your message reached your adviser." in page
    assert "Why did it go up this year?" in page and "bill.pdf" in page
    run_jobs(app)
    mailbox.wait_for(1)
    [mail] = mailbox.to(AGENT)
    assert "cora@example.com" in str(mail["Reply-To"])
    assert "Why did it go up this year?" in body_of(mail)
    listing = signed_in.get("/portal/requests").get_data(as_text=True)
    assert "Your requests and messages" in listing and "Question about my bill" in listing
    assert f"/portal/requests/{conversation_id}" in listing
    with app.app_context():
        [document] = db.session.scalars(select(Document))
        assert document.message_id is not None and document.source == DocumentSource.CLIENT


def _all(app: Any) -> list[Conversation]:
    with app.app_context():
        found = list(db.session.scalars(select(Conversation).order_by(Conversation.id)))
        db.session.expunge_all()
        return found


def test_contact_us_refuses_bad_input_and_keeps_nothing(app, signed_in, cora):
    before = stored_files(app)
    cases = [
        ("", "Hello", [], "Give the subject."),
        ("Hello", "   ", [], "Write your message."),
        ("Hello", "x" * (conversations.MAX_BODY + 1), [], "Keep the message under"),
        ("Hello", "A file", [(EXE, "setup.exe")], ""),
        ("Hello", "A file", [(PDF, "ok.pdf"), (EXE, "tool.pdf")], ""),
    ]
    for subject, message, files, expected in cases:
        response = contact(signed_in, subject, message, files)
        assert response.status_code == 200, (subject, message[:10])
        text = response.get_data(as_text=True)
        assert 'class="pt-field-error"' in text and expected in text
    assert _all(app) == [] and count(app, Document) == 0 and stored_files(app) == before


def test_csrf_missing_is_refused_with_400_and_nothing_kept(app, signed_in, cora):
    response = signed_in.post("/portal/contact", data={"subject": "Hi", "message": "Hello"})
    assert response.status_code == 400
    conversation_id = staff_request(app, cora)
    response = reply(signed_in, conversation_id, "Here it is", token=False)
    assert response.status_code == 400
    assert len(thread(app, conversation_id).messages) == 1 and len(_all(app)) == 1


# -- a request from the office ------------------------------------------------------------------


def test_a_staff_request_answered_with_a_document_reaches_the_office(app, signed_in, cora, mailbox):
    tomorrow = _today(app) + timedelta(days=1)
    conversation_id = staff_request(app, cora, due_on=tomorrow)
    home = signed_in.get("/portal/home").get_data(as_text=True)
    assert "Incoming requests" in home and "1 unread request" in home
    assert 'class="pt-badge">1<' in home  # the navigation's Requests entry
    listing = signed_in.get("/portal/requests").get_data(as_text=True)
    assert "Your renewal" in listing and "Waiting for your answer" in listing
    day = f"{tomorrow:%b} {tomorrow.day}, {tomorrow.year}"
    assert "Due " + day in listing and "New" in listing

    page = signed_in.get(f"/portal/requests/{conversation_id}").get_data(as_text=True)
    assert "Please send us your new ID card." in page
    assert (
        '<a href="https://carrier.example/help" '
        'rel="noopener noreferrer nofollow ugc" target="_blank">' in page
    )
    with app.app_context():
        assert not db.session.get(Conversation, conversation_id).unread_by_client
    assert "Incoming requests" not in signed_in.get("/portal/home").get_data(as_text=True)

    mailbox.clear()
    response = reply(signed_in, conversation_id, "Here is my card.", [(PNG, "card.png")])
    assert response.status_code == 302
    page = signed_in.get(response.headers["Location"]).get_data(as_text=True)
    assert "Your reply was sent." in page and "Here is my card." in page and "card.png" in page

    found = thread(app, conversation_id)
    assert found.status == ConversationStatus.ANSWERED and found.unread_by_staff
    _staff_message, answer = found.messages
    assert answer.side == "client" and answer.body == "Here is my card."
    [document] = answer.attachments
    assert document.record_id == cora["record_id"] and document.message_id == answer.id
    assert document.filename == "card.png" and document.source == DocumentSource.CLIENT
    # The file opens for the client from the thread, logged like any document.
    response = closed(signed_in.get(f"/portal/requests/{conversation_id}/files/{document.id}"))
    assert response.status_code == 200 and response.data == PNG
    assert response.headers["Content-Disposition"].startswith("attachment")
    # Another site sending the browser to the file opens nothing.
    refused = closed(
        signed_in.get(
            f"/portal/requests/{conversation_id}/files/{document.id}",
            headers={"Sec-Fetch-Site": "cross-site"},
        )
    )
    assert refused.status_code == 302


def _today(app: Any):
    with app.app_context():
        return documents.office_today()


def test_a_page_elsewhere_cannot_mark_a_thread_read(app, signed_in, cora):
    conversation_id = staff_request(app, cora)
    url = f"/portal/requests/{conversation_id}"
    assert signed_in.get(url, headers={"Sec-Fetch-Site": "cross-site"}).status_code == 200
    assert thread(app, conversation_id).unread_by_client
    assert signed_in.get(url, headers={"Sec-Fetch-Site": "same-origin"}).status_code == 200
    assert not thread(app, conversation_id).unread_by_client


def test_a_closed_request_takes_no_reply(app, signed_in, cora):
    conversation_id = staff_request(app, cora)
    with app.app_context():
        conversations.close(
            db.session.get(Conversation, conversation_id), db.session.get(User, cora["staff_id"])
        )
        db.session.commit()
    page = signed_in.get(f"/portal/requests/{conversation_id}").get_data(as_text=True)
    assert "This request is closed" in page and 'name="message"' not in page
    assert 'href="/portal/contact"' in page
    token = signed_in.csrf_token("/portal/contact")
    response = reply(signed_in, conversation_id, "One more thing", [(PDF, "a.pdf")], token)
    assert response.status_code == 200 and "This request is closed." in response.get_data(
        as_text=True
    )
    assert len(thread(app, conversation_id).messages) == 1 and count(app, Document) == 0


def test_a_reply_needs_a_message_or_a_file_and_refuses_bad_files(app, signed_in, cora):
    conversation_id = staff_request(app, cora)
    before = stored_files(app)
    for message, files in (("  ", []), ("Here", [(EXE, "card.pdf")])):
        response = reply(signed_in, conversation_id, message, files)
        assert response.status_code == 200
        assert 'class="pt-field-error"' in response.get_data(as_text=True)
    assert len(thread(app, conversation_id).messages) == 1
    assert count(app, Document) == 0 and stored_files(app) == before
    # A file alone is a reply.
    assert reply(signed_in, conversation_id, "", [(PDF, "card.pdf")]).status_code == 302


def test_what_a_client_types_is_text_and_only_web_addresses_become_links(app, signed_in, cora):
    conversation_id = staff_request(app, cora)
    typed = (
        "<script>alert(1)</script> <b>bold</b> javascript:alert(2) "
        'https://ok.example/a?b=1&c="x" http://evil.example/"onmouseover="x'
    )
    assert reply(signed_in, conversation_id, typed).status_code == 302
    page = signed_in.get(f"/portal/requests/{conversation_id}").get_data(as_text=True)
    assert "<script>alert(1)" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<b>bold</b>" not in page and 'href="javascript' not in page
    assert 'href="https://ok.example/a?b=1&amp;c="' in page
    assert 'href="http://evil.example/"' in page and 'onmouseover="x"' not in page


def test_an_address_no_parser_reads_stays_text_and_the_thread_still_opens(app, signed_in, cora):
    """ "http://[x" is not an address (an unclosed IPv6 host): it must not fail the page for
    the client (who could not open their thread again) nor for staff."""
    conversation_id = staff_request(app, cora, body="See http://[fe80::1 and https://ok.example")
    assert reply(signed_in, conversation_id, "Mine: http://[oops").status_code == 302
    page = signed_in.get(f"/portal/requests/{conversation_id}")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "http://[fe80::1" in text and "http://[oops" in text
    assert 'href="http://[' not in text and 'href="https://ok.example"' in text


# -- who sees what ------------------------------------------------------------------------------


def test_the_staff_preview_shows_the_pages_and_marks_nothing_read(
    app, agent_client, cora, signed_in
):
    conversation_id = staff_request(app, cora)
    own = contact_us_as_cora(app, cora)
    base = f"/portal/preview/{cora['record_id']}"
    listing = agent_client.get(f"{base}/requests")
    assert listing.status_code == 200
    text = listing.get_data(as_text=True)
    assert "Your renewal" in text and "About my bill" in text
    assert f"{base}/requests/{conversation_id}" in text
    page = agent_client.get(f"{base}/requests/{conversation_id}").get_data(as_text=True)
    assert "Please send us your new ID card." in page and 'name="message"' not in page
    assert agent_client.get(f"{base}/contact").status_code == 200
    assert agent_client.get(f"{base}/requests/{own}").status_code == 200
    assert thread(app, conversation_id).unread_by_client
    posted = agent_client.post(f"{base}/requests/{conversation_id}", data={"message": "x"})
    assert posted.status_code in (403, 405)
    assert len(thread(app, conversation_id).messages) == 1


def test_the_navigation_keeps_its_row_and_offers_the_rest_under_more(signed_in):
    page = signed_in.get("/portal/home").get_data(as_text=True)
    nav = page[page.index('<nav class="pt-nav"') : page.index("</nav>")]
    more = nav[nav.index('class="pt-more"') :]
    for label in ("Home", "My details", "Documents", "Requests"):
        assert f">{label}" in nav[: nav.index('class="pt-more"')], label
    assert "<details>" in more and "<summary>More</summary>" in more
    assert 'href="/portal/contact">Contact us</a>' in more
    assert 'href="/portal/referral">Refer a friend</a>' in more


@pytest.fixture
def has_new_request_page(app):
    """The Requests page offers "New request" only where that page exists."""
    return "portal.request_new" in app.view_functions


def test_the_requests_page_offers_contact_us_and_new_request_where_it_exists(
    signed_in, has_new_request_page
):
    page = signed_in.get("/portal/requests").get_data(as_text=True)
    assert 'href="/portal/contact"' in page
    assert ('href="/portal/requests/new"' in page) == has_new_request_page
    assert "Your adviser has not asked you for anything." in page
