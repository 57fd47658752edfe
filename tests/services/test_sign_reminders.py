"""Automatic reminders and expiry, as the sweeper runs them, by a fixed ``now``: who is
reminded and when, who never is, and what an expired request leaves behind."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.services.actors import Actor
from app.services.signing import reminders
from app.services.signing import requests as sign_requests
from jobs.sweeper import sweep
from models import OutboxMessage, SignerStatus, SignRequestStatus, db
from tests import factories, sign_factories
from tests.conftest import body_of, run_jobs
from tests.services.test_documents import entries
from tests.services.test_sign_requests import link_token

DAY = timedelta(days=1)


@pytest.fixture
def actor(ctx):
    sign_factories.link_route()
    return Actor.staff(factories.staff(email="sid.staff@example.com"))


@pytest.fixture
def pair(actor):
    """A request to Paula then Cody, in order, reminding every 3 days, expiring in 10."""
    record = factories.record(first_name="Paula", email="paula@example.com")
    co = sign_factories.co_applicant(record, email="cody@example.com")
    return sign_factories.sign_request(
        record, signers=[None, co], actor=actor, expires_in_days=10, remind_every_days=3
    )


def reminder_count() -> int:
    return db.session.scalar(
        select(func.count())
        .select_from(OutboxMessage)
        .where(OutboxMessage.template_key == "sign.reminder")
    )


def test_nothing_is_due_before_the_day(pair):
    sent_at = pair.signers[0].notified_at
    assert abs(pair.next_reminder_at - (sent_at + 3 * DAY)) < timedelta(seconds=5)
    assert reminders.send_due(pair.next_reminder_at - timedelta(seconds=1)) == 0
    assert reminders.expire_due(pair.expires_at - timedelta(seconds=1)) == 0
    assert reminder_count() == 0


def test_the_signer_whose_turn_it_is_is_reminded_every_n_days(app, mailbox, pair):
    first, second = pair.signers
    old = first.token_hash
    due = pair.next_reminder_at
    assert reminders.send_due(due) == 1
    db.session.commit()
    assert reminder_count() == 1 and first.reminded_at == due and second.reminded_at is None
    assert first.token_hash != old
    assert pair.next_reminder_at == due + 3 * DAY
    assert reminders.send_due(due + DAY) == 0  # not again until the next one is due
    run_jobs(app)
    reminder = next(m for m in mailbox.wait_for(2) if "Reminder" in m["Subject"])
    assert "paula@example.com" in reminder["To"]
    assert hashlib.sha256(link_token(reminder).encode()).hexdigest() == first.token_hash
    assert "no longer works" in body_of(reminder)
    assert not mailbox.to("cody@example.com")


def test_no_reminder_is_set_past_the_last_day(pair):
    due = pair.next_reminder_at
    reminders.send_due(due)
    reminders.send_due(due + 3 * DAY)
    reminders.send_due(due + 6 * DAY)  # the next would fall after the expiry
    assert reminder_count() == 3 and pair.next_reminder_at is None
    assert reminders.send_due(pair.expires_at - timedelta(seconds=1)) == 0


def test_requests_without_reminders_are_never_reminded(actor):
    request = sign_factories.sign_request(factories.record(), actor=actor)
    assert request.next_reminder_at is None
    assert reminders.send_due(request.expires_at - timedelta(seconds=1)) == 0


def test_a_draft_or_a_cancelled_request_is_neither_reminded_nor_expired(actor, pair):
    draft = sign_factories.sign_request(
        factories.record(), actor=actor, send=False, remind_every_days=1
    )
    sign_requests.cancel(pair, actor=actor)
    db.session.commit()
    later = pair.expires_at + DAY
    assert reminders.send_due(later) == 0 and reminders.expire_due(later) == 0
    assert draft.status == SignRequestStatus.DRAFT
    assert pair.status == SignRequestStatus.CANCELLED


def test_a_request_past_its_last_day_expires(pair):
    first, second = pair.signers
    first.status, first.token_hash = SignerStatus.SIGNED, None
    sign_requests.notify_next(pair)
    db.session.commit()
    assert second.token_hash is not None
    assert reminders.expire_due(pair.expires_at) == 1
    db.session.commit()
    assert pair.status == SignRequestStatus.EXPIRED and pair.next_reminder_at is None
    assert (first.status, second.status) == (SignerStatus.SIGNED, SignerStatus.EXPIRED)
    assert second.token_hash is None
    [entry] = entries("sign_request.expired")
    assert entry.record_id == pair.record_id and entry.details["sign_request"] == pair.id
    assert reminders.expire_due(pair.expires_at + DAY) == 0  # once


def test_the_sweeper_runs_both(pair):
    result = sweep(pair.next_reminder_at, judge_workers=False)
    assert result["sign_reminders_sent"] == 1 and result["sign_requests_expired"] == 0
    result = sweep(pair.expires_at + timedelta(seconds=1), judge_workers=False)
    assert result["sign_requests_expired"] == 1
    assert pair.status == SignRequestStatus.EXPIRED
