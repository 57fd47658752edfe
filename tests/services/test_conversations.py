"""Conversations: contact us, staff requests and replies, who sees which thread, statuses,
unread marks, files, and the events each step emits."""

from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from app.services import conversation_access, conversations, portal_accounts, portal_badges
from app.services.errors import NotFound, ValidationError
from models import (
    AccountStatus,
    ActivityEntry,
    Contact,
    ContactRole,
    ConversationStatus,
    Document,
    DocumentSource,
    OutboxMessage,
    PortalAccount,
    RecordKind,
    RequestEvent,
    RequestType,
    Task,
    db,
)
from tests import factories

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _client(email: str = "cleo@example.com", **values):
    agent = factories.staff(email=f"agent.{email}")
    record = factories.record(
        first_name="Cleo",
        last_name="Client",
        email=email,
        kind=RecordKind.CLIENT,
        assigned_agent_id=agent.id,
        **values,
    )
    portal_accounts.enable_self_service(record, agent)
    db.session.flush()
    account = db.session.scalar(
        select(PortalAccount).where(
            PortalAccount.record_id == record.id, PortalAccount.contact_id.is_(None)
        )
    )
    return record, agent, account


def _file(name: str = "proof.pdf", data: bytes = PDF) -> conversations.Upload:
    return conversations.Upload(io.BytesIO(data), name)


def _events(key: str) -> list[ActivityEntry]:
    return list(db.session.scalars(select(ActivityEntry).where(ActivityEntry.event_key == key)))


def test_contact_us_keeps_the_message_and_tells_the_agent_with_the_client_as_reply_to(ctx):
    record, agent, account = _client()
    conversation = conversations.contact_us(
        account, "  Question about  my bill ", "Why did it go up?\r\nThanks", [_file()]
    )
    db.session.flush()
    assert conversation.subject == "Question about my bill"
    assert conversation.status == ConversationStatus.OPEN
    assert conversation.assignee_id == agent.id and conversation.account_id == account.id
    [message] = conversation.messages
    assert message.body == "Why did it go up?\nThanks" and message.side == "client"
    [attachment] = message.attachments
    assert attachment.source == DocumentSource.CLIENT and not attachment.shared
    assert conversation.unread_by_staff and not conversation.unread_by_client
    [entry] = _events("portal.contact_us")
    assert "Question about my bill" in entry.summary
    to_agent = db.session.scalar(
        select(OutboxMessage).where(OutboxMessage.recipient == agent.email)
    )
    assert to_agent.reply_to == "cleo@example.com"
    assert "Why did it go up?" in to_agent.body_text and "proof.pdf" in to_agent.body_text
    assert db.session.scalar(select(Task).where(Task.record_id == record.id)) is not None


def test_empty_and_oversized_messages_are_refused_and_keep_nothing(ctx):
    _record, _agent, account = _client()
    with pytest.raises(ValidationError, match="subject"):
        conversations.contact_us(account, "  ", "Hello")
    with pytest.raises(ValidationError, match="Write your message"):
        conversations.contact_us(account, "Hi", "   ")
    with pytest.raises(ValidationError, match="10,000"):
        conversations.contact_us(account, "Hi", "x" * 10_001)
    with pytest.raises(ValidationError, match="control character"):
        conversations.contact_us(account, "Hi", "bad \x00 byte")
    with pytest.raises(ValidationError, match="one line"):
        conversations.contact_us(account, "Hi\nthere", "Hello")
    assert conversation_access.of_client(account) == []


def test_a_staff_request_answered_by_the_client_moves_through_its_statuses(ctx):
    record, agent, account = _client()
    request = conversations.send_request(
        record,
        agent,
        "Proof of address",
        "Please send a utility bill.",
        due_on=date.today() + timedelta(days=7),
    )
    db.session.flush()
    assert request.status == ConversationStatus.WAITING
    assert conversation_access.unread_count(account) == 1
    assert portal_badges.of_account(account).unread == 1  # the navigation's badge
    notice = db.session.scalar(
        select(OutboxMessage).where(OutboxMessage.event_key == "staff.request.created")
    )
    assert notice.recipient == "cleo@example.com"
    assert f"/portal/requests/{request.id}" in notice.body_text
    assert "utility bill" not in notice.body_text  # the message stays in the portal

    seen = conversation_access.for_client(account, request.id)
    conversation_access.read_by_client(seen)
    assert conversation_access.unread_count(account) == 0
    assert portal_badges.of_account(account).unread == 0

    conversations.reply_as_client(account, request.id, "Here it is.", [_file("bill.pdf")])
    db.session.flush()
    assert request.status == ConversationStatus.ANSWERED and request.unread_by_staff
    assert [e.event_key for e in _events("portal.request.replied")] == ["portal.request.replied"]

    conversations.reply_as_staff(request, agent, "Thank you, all set.")
    assert request.status == ConversationStatus.WAITING
    conversations.close(request, agent)
    assert request.status == ConversationStatus.CLOSED and _events("staff.request.closed")
    with pytest.raises(ValidationError, match="closed"):
        conversations.reply_as_client(account, request.id, "One more thing")
    conversations.reopen(request, agent)
    assert request.status == ConversationStatus.ANSWERED and _events("staff.request.reopened")


def test_a_client_never_reaches_another_clients_conversation_or_its_files(ctx):
    record, agent, account = _client()
    _other, _agent2, stranger = _client("sam@example.com")
    request = conversations.send_request(record, agent, "Sign this", "Please", [_file()])
    db.session.flush()
    [document] = request.messages[0].attachments
    for attempt in (
        lambda: conversation_access.for_client(stranger, request.id),
        lambda: conversations.reply_as_client(stranger, request.id, "hi"),
        lambda: conversation_access.attachment_for_client(stranger, request.id, document.id),
    ):
        with pytest.raises(NotFound):
            attempt()
    assert conversation_access.attachment_for_client(account, request.id, document.id) is document
    assert document.first_opened_at is not None


def test_past_due_dates_are_refused(ctx):
    record, agent, _account = _client()
    with pytest.raises(ValidationError, match="due date"):
        conversations.send_request(
            record, agent, "Late", "x", due_on=date.today() - timedelta(days=3)
        )
    assert db.session.scalar(select(db.func.count(Document.id))) == 0


def _co_applicant(record) -> PortalAccount:
    contact = Contact(
        record_id=record.id,
        role=ContactRole.CO_APPLICANT,
        first_name="Carl",
        last_name="Client",
        email="carl@example.com",
    )
    db.session.add(contact)
    db.session.flush()
    account = PortalAccount(
        record_id=record.id,
        contact_id=contact.id,
        status=AccountStatus.ENABLED,
        email="carl@example.com",
    )
    db.session.add(account)
    db.session.flush()
    return account


def _recipients(event_key: str) -> list[str]:
    rows = db.session.scalars(select(OutboxMessage).where(OutboxMessage.event_key == event_key))
    return sorted(message.recipient for message in rows)


def test_a_co_applicants_change_request_tells_the_primary_applicant_the_primarys_own_does_not(
    ctx,
):
    record, agent, primary = _client()
    co = _co_applicant(record)
    change = RequestType(key="test-personal-change", name="Personal change request")
    change.event = RequestEvent.PERSONAL
    db.session.add(change)
    db.session.flush()
    key = "portal.change_request.personal"

    conversations.start_client_request(primary, change, "What: new address")
    assert _recipients(key) == sorted([agent.email, "cleo@example.com"])
    conversations.start_client_request(co, change, "What: add a driver")
    assert _recipients(key) == sorted(
        [agent.email, agent.email, "carl@example.com", "cleo@example.com", "cleo@example.com"]
    )
    assert len(_events(key)) == 2
    assert len(db.session.scalars(select(Task).where(Task.record_id == record.id)).all()) == 2


def test_a_household_does_not_read_each_others_threads_but_all_see_the_offices_requests(ctx):
    record, agent, primary = _client()
    co = _co_applicant(record)
    private = conversations.contact_us(co, "Just me", "A question of my own")
    asked = conversations.send_request(record, agent, "For the household", "Please")
    db.session.flush()
    assert [c.id for c in conversation_access.of_client(co)] == [asked.id, private.id]
    assert [c.id for c in conversation_access.of_client(primary)] == [asked.id]
    with pytest.raises(NotFound):
        conversation_access.for_client(primary, private.id)

    # The office's answer reaches the person who wrote, not the primary applicant.
    conversations.reply_as_staff(private, agent, "Here is the answer.")
    assert _recipients("staff.request.replied") == ["carl@example.com"]


def test_a_staff_reply_to_a_closed_conversation_reopens_it(ctx):
    _record, agent, account = _client()
    conversation = conversations.contact_us(account, "Hello", "Are you there?")
    conversations.close(conversation, agent)
    conversations.reply_as_staff(conversation, agent, "Yes, sorry for the wait.")
    assert conversation.status == ConversationStatus.WAITING and conversation.closed_at is None
    assert _events("staff.request.reopened")
    with pytest.raises(ValidationError, match="Write your message"):
        conversations.reply_as_staff(conversation, agent, "   ")
