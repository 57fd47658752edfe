"""Sharing documents with clients, taking them back, expiry, and the notice the staff member
chooses: checked at the SMTP server and in the SMS outbox, one per record and batch."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.services import client_documents, document_access, document_sharing, documents
from app.services.actors import Actor
from app.services.document_sharing import EMAIL, LEAD_REFUSAL, TEXT
from app.services.errors import NotFound, ValidationError
from models import (
    AccessAction,
    Channel,
    ContactMethod,
    NotificationRule,
    OutboxMessage,
    RecordKind,
    db,
)
from tests import factories
from tests.conftest import body_of, run_jobs
from tests.services.test_documents import entries, portal_account, upload


@pytest.fixture
def staff(ctx):
    return factories.staff(email="sid.staff@example.com", first_name="Sid")


@pytest.fixture
def actor(staff):
    return Actor.staff(staff)


@pytest.fixture
def today(ctx):
    return documents.office_today()


@pytest.fixture
def cleo(ctx, staff):
    return factories.record(
        first_name="Cleo",
        last_name="Client",
        email="cleo@example.com",
        mobile="+12025550143",
        sms_opt_in=True,
        preferred_contact=ContactMethod.EMAIL,
        assigned_agent_id=staff.id,
    )


def added(record, actor, n: int = 1):
    files = documents.add_files(record, [upload(f"doc {i}.pdf") for i in range(n)], actor=actor)
    db.session.commit()
    return files


def share(files, actor, today, **more):
    outcome = document_sharing.share(files, actor=actor, today=today, **more)
    db.session.commit()
    return outcome


def ready_for_mail(app, mailbox) -> None:
    """Enabling self service sends a link and a password: delivered and forgotten here."""
    db.session.commit()
    run_jobs(app)
    mailbox.clear()


# -- sharing -----------------------------------------------------------------------------------


def test_sharing_a_batch_logs_one_event_per_record(staff, actor, today, cleo):
    other = factories.record(email="otto@example.com")
    batch = added(cleo, actor, 3) + added(other, actor, 2)
    outcome = share(batch, actor, today)
    assert outcome.done == batch and outcome.refused == []
    assert {r.id for r in outcome.records} == {cleo.id, other.id}
    for document in batch:
        assert document.shared and document.shared_at is not None
        assert document.shared_by_id == staff.id and document.share_expires_on is None
        assert document_access.history(document)[0].action == AccessAction.SHARED
    shared = entries("staff.document.shared")
    assert sorted(e.record_id for e in shared) == sorted([cleo.id, other.id])
    mine = next(e for e in shared if e.record_id == cleo.id)
    assert mine.details["document_ids"] == [d.id for d in batch[:3]]
    assert mine.actor_user_id == staff.id


def test_sharing_again_keeps_the_first_share_and_takes_the_new_expiry(actor, today, cleo):
    [document] = added(cleo, actor)
    share([document], actor, today)
    first = document.shared_at
    share([document], actor, today, expires_on=today + timedelta(days=30))
    assert document.shared_at == first
    assert document.share_expires_on == today + timedelta(days=30)
    shares = [e for e in document_access.history(document) if e.action == AccessAction.SHARED]
    assert len(shares) == 1


def test_sharing_on_a_lead_is_refused_with_why(actor, today, cleo):
    lead = factories.record(kind=RecordKind.LEAD, email="lena@example.com")
    on_lead = added(lead, actor, 2)
    [on_client] = added(cleo, actor)
    outcome = share([*on_lead, on_client], actor, today)
    assert outcome.done == [on_client]
    assert outcome.refused == [(d, LEAD_REFUSAL) for d in on_lead]
    assert "lead" in LEAD_REFUSAL and "client" in LEAD_REFUSAL
    assert not any(d.shared for d in on_lead)
    assert [e.record_id for e in entries("staff.document.shared")] == [cleo.id]


def test_an_expiry_in_the_past_is_refused(actor, today, cleo):
    [document] = added(cleo, actor)
    with pytest.raises(ValidationError, match="from today on") as refused:
        document_sharing.share(
            [document], actor=actor, today=today, expires_on=today - timedelta(1)
        )
    assert refused.value.field == "expires_on"
    assert document.shared is False
    with pytest.raises(ValidationError):
        document_sharing.set_expiry([document], today - timedelta(days=1), today=today)


def test_unsharing_takes_it_away_at_once(staff, actor, today, cleo):
    account = portal_account(cleo, staff)
    batch = added(cleo, actor, 2)
    share(batch, actor, today, expires_on=today + timedelta(days=3))
    assert client_documents.for_client(account, batch[0].id) == batch[0]
    outcome = document_sharing.unshare(batch, actor=actor)
    db.session.commit()
    assert outcome.done == batch
    for document in batch:
        assert (document.shared, document.share_expires_on) == (False, None)
        assert document_access.history(document)[0].action == AccessAction.UNSHARED
        with pytest.raises(NotFound):
            client_documents.for_client(account, document.id)
    assert len(entries("staff.document.unshared")) == 1
    # Unsharing what is not shared does nothing and logs nothing.
    assert document_sharing.unshare(batch, actor=actor).done == []
    assert len(entries("staff.document.unshared")) == 1


def test_expiry_is_the_last_day_the_client_sees_it(staff, actor, today, cleo):
    account = portal_account(cleo, staff)
    [ending_today, ended] = added(cleo, actor, 2)
    share([ending_today, ended], actor, today, expires_on=today)
    ended.share_expires_on = today - timedelta(days=1)
    db.session.commit()
    assert client_documents.for_client(account, ending_today.id) == ending_today
    assert ended.expired(today) and not ending_today.expired(today)
    with pytest.raises(NotFound):
        client_documents.for_client(account, ended.id)
    assert client_documents.shared_with(account) == [ending_today]
    # Tomorrow the last one is gone too.
    tomorrow = today + timedelta(days=1)
    query = client_documents.visible_to_client(cleo.id, tomorrow)
    assert list(db.session.scalars(query)) == []


# -- telling the client -----------------------------------------------------------------------


def test_one_email_for_a_batch_of_three(app, mailbox, staff, actor, today, cleo):
    portal_account(cleo, staff)
    ready_for_mail(app, mailbox)
    batch = added(cleo, actor, 3)
    share(batch, actor, today)
    outcome = document_sharing.notify(batch, EMAIL, actor=actor, today=today)
    db.session.commit()
    assert outcome.done == batch and outcome.refused == []
    run_jobs(app)
    [mail] = mailbox.wait_for(1)
    assert mailbox.wait_for(2, timeout=0.5) == [mail]
    assert "cleo@example.com" in mail["To"]
    body = body_of(mail)
    assert "portal" in body.lower() and "http://portico.test/portal" in body
    assert "doc 0" in body and "doc 2" in body
    for document in batch:
        assert document.last_notified_at is not None
        entry = document_access.history(document)[0]
        assert (entry.action, entry.detail) == (AccessAction.NOTIFIED, EMAIL)
    [event] = entries("staff.document.notified_email")
    assert event.record_id == cleo.id


def test_two_records_get_one_email_each(app, mailbox, staff, actor, today, cleo):
    otto = factories.record(first_name="Otto", email="otto@example.com")
    portal_account(cleo, staff)
    portal_account(otto, staff)
    ready_for_mail(app, mailbox)
    batch = added(cleo, actor, 2) + added(otto, actor, 2)
    share(batch, actor, today)
    document_sharing.notify(batch, EMAIL, actor=actor, today=today)
    db.session.commit()
    run_jobs(app)
    mails = mailbox.wait_for(2)
    assert sorted(m["X-Envelope-To"] for m in mails) == ["cleo@example.com", "otto@example.com"]


def test_sharing_without_a_notice_sends_nothing(app, mailbox, staff, actor, today, cleo):
    portal_account(cleo, staff)
    ready_for_mail(app, mailbox)
    share(added(cleo, actor, 3), actor, today)  # the staff member chose Cancel: no notify call
    run_jobs(app)
    assert mailbox.wait_for(1, timeout=0.5) == []
    sent = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.event_key.like("staff.document.%"))
    ).all()
    assert sent == []


def test_a_text_goes_to_the_mobile_when_staff_choose_it(app, mailbox, staff, actor, today, cleo):
    # Cleo prefers email; the staff member's choice of a text wins.
    portal_account(cleo, staff)
    ready_for_mail(app, mailbox)
    batch = added(cleo, actor, 3)
    share(batch, actor, today)
    outcome = document_sharing.notify(batch, TEXT, actor=actor, today=today)
    db.session.commit()
    assert outcome.done == batch and outcome.refused == []
    [text] = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.event_key == "staff.document.notified_text")
    ).all()
    assert (text.channel, text.recipient) == (Channel.SMS, "+12025550143")
    assert "portal" in text.body_text.lower()
    run_jobs(app)
    assert mailbox.wait_for(1, timeout=0.5) == []
    assert document_access.history(batch[0])[0].detail == TEXT


@pytest.mark.parametrize(
    ("changes", "why"),
    [
        ({"mobile": None}, "no mobile number or has not agreed"),
        ({"sms_opt_in": False}, "no mobile number or has not agreed"),
    ],
)
def test_a_text_is_refused_without_a_mobile_or_agreement(staff, actor, today, cleo, changes, why):
    portal_account(cleo, staff)
    for name, value in changes.items():
        setattr(cleo, name, value)
    batch = added(cleo, actor, 2)
    share(batch, actor, today)
    outcome = document_sharing.notify(batch, TEXT, actor=actor, today=today)
    db.session.commit()
    assert outcome.done == []
    assert [d for d, _ in outcome.refused] == batch
    assert all(why in reason for _, reason in outcome.refused)
    assert (
        db.session.scalars(select(OutboxMessage).where(OutboxMessage.channel == Channel.SMS)).all()
        == []
    )
    assert all(d.last_notified_at is None for d in batch)
    assert entries("staff.document.notified_text") == []


@pytest.mark.parametrize("channel", [EMAIL, TEXT])
def test_a_notice_needs_portal_access(app, mailbox, staff, actor, today, cleo, channel):
    batch = added(cleo, actor, 2)
    share(batch, actor, today)
    outcome = document_sharing.notify(batch, channel, actor=actor, today=today)
    db.session.commit()
    assert outcome.done == [] and len(outcome.refused) == 2
    assert "no portal access" in outcome.refused[0][1]
    run_jobs(app)
    assert mailbox.wait_for(1, timeout=0.5) == []


def test_a_notice_is_refused_for_unshared_or_expired_documents(staff, actor, today, cleo):
    portal_account(cleo, staff)
    [unshared, expired, fine] = added(cleo, actor, 3)
    share([expired, fine], actor, today)
    expired.share_expires_on = today - timedelta(days=1)
    outcome = document_sharing.notify([unshared, expired, fine], EMAIL, actor=actor, today=today)
    assert outcome.done == [fine]
    assert [d for d, _ in outcome.refused] == [unshared, expired]
    assert "not shared" in outcome.refused[0][1]
    with pytest.raises(ValidationError, match="email or text"):
        document_sharing.notify([fine], "fax", actor=actor, today=today)


def test_email_when_chosen_though_the_client_prefers_texts(app, mailbox, staff, actor, today, cleo):
    cleo.preferred_contact = ContactMethod.SMS
    portal_account(cleo, staff)
    ready_for_mail(app, mailbox)
    batch = added(cleo, actor, 2)
    share(batch, actor, today)
    assert document_sharing.notify(batch, EMAIL, actor=actor, today=today).done == batch
    db.session.commit()
    notices = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.event_key.like("staff.document.notified%"))
    ).all()
    assert [(m.channel, m.recipient) for m in notices] == [(Channel.EMAIL, "cleo@example.com")]


def test_the_notice_can_be_sent_again_later(app, mailbox, staff, actor, today, cleo):
    portal_account(cleo, staff)
    ready_for_mail(app, mailbox)
    batch = added(cleo, actor, 2)
    share(batch, actor, today)
    for _ in range(2):
        document_sharing.notify(batch, EMAIL, actor=actor, today=today)
        db.session.commit()
        run_jobs(app)
    assert len(mailbox.wait_for(2)) == 2
    notified = [e for e in document_access.history(batch[0]) if e.action == AccessAction.NOTIFIED]
    assert len(notified) == 2


def test_a_matrix_that_tells_the_client_nothing_refuses_and_logs_no_notice(
    app, mailbox, staff, actor, today, cleo
):
    rule = db.session.scalar(
        select(NotificationRule).where(
            NotificationRule.event_key == "staff.document.notified_email"
        )
    )
    rule.customer_email = False
    portal_account(cleo, staff)
    ready_for_mail(app, mailbox)
    batch = added(cleo, actor, 2)
    share(batch, actor, today)
    outcome = document_sharing.notify(batch, EMAIL, actor=actor, today=today)
    db.session.commit()
    assert outcome.done == [] and len(outcome.refused) == 2
    assert "sends the client nothing" in outcome.refused[0][1]
    assert all(d.last_notified_at is None for d in batch)
    # The activity log does not say the client was told.
    assert entries("staff.document.notified_email") == []
    run_jobs(app)
    assert mailbox.wait_for(1, timeout=0.5) == []
