"""Reviews: submitting (bounds, one answer per request, another record's request), the
follow-up task for a low rating, the household rule, and the list's average and trend."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from app.services import portal_accounts, reviews
from app.services.errors import NotFound, ValidationError
from app.services.portal_settings import get_settings
from models import (
    AccountStatus,
    ActivityEntry,
    Contact,
    ContactRole,
    OutboxMessage,
    PortalAccount,
    Review,
    Task,
    db,
)
from tests import factories


def _client(email: str = "rita@example.com", **values):
    agent = factories.staff(email=f"agent.{email}")
    record = factories.record(
        first_name="Rita", last_name="Rater", email=email, assigned_agent_id=agent.id, **values
    )
    portal_accounts.enable_self_service(record, agent)
    get_settings().module_reviews = True  # staff ask for reviews only while it is on
    db.session.flush()
    account = db.session.scalar(
        select(PortalAccount).where(
            PortalAccount.record_id == record.id, PortalAccount.contact_id.is_(None)
        )
    )
    return record, agent, account


def test_a_review_is_kept_logged_and_its_bounds_enforced(ctx):
    record, _agent, account = _client()
    for bad in (0, 6, -1, True, "3", None):
        with pytest.raises(ValidationError, match="1 to 5"):
            reviews.submit(account, bad)  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="2,000"):
        reviews.submit(account, 4, "x" * 2001)
    review = reviews.submit(account, 4, "  Quick and kind.\r\n ")
    assert review.rating == 4 and review.comment == "Quick and kind."
    assert review.review_request_id is None and review.account_id == account.id
    entry = db.session.scalar(
        select(ActivityEntry).where(ActivityEntry.event_key == "portal.review.submitted")
    )
    assert entry.record_id == record.id and "4 out of 5" in entry.summary
    assert entry.details["comment"] == "Quick and kind."
    assert db.session.scalar(select(Task).where(Task.record_id == record.id)) is None


def test_one_answer_per_request(ctx):
    record, agent, account = _client()
    request = reviews.request_review(record, agent)
    assert reviews.pending_request_for(account) is request
    assert reviews.request_review(record, agent) is request  # asked again: the same question
    reviews.submit(account, 5, request_id=request.id)
    assert request.answered_at is not None and reviews.pending_request_for(account) is None
    with pytest.raises(ValidationError, match="already answered"):
        reviews.submit(account, 1, request_id=request.id)
    assert db.session.scalar(select(db.func.count(Review.id))) == 1


def test_another_records_request_cannot_be_answered(ctx):
    record, agent, _account = _client()
    request = reviews.request_review(record, agent)
    _other, _, stranger = _client("sam@example.com")
    with pytest.raises(NotFound):
        reviews.submit(stranger, 5, request_id=request.id)
    assert request.answered_at is None


def test_only_clients_with_portal_access_are_asked(ctx):
    agent = factories.staff()
    no_portal = factories.record(email="nop@example.com")
    with pytest.raises(ValidationError, match="portal access"):
        reviews.request_review(no_portal, agent)
    record, agent, account = _client()
    account.status = AccountStatus.DISABLED
    with pytest.raises(ValidationError, match="portal access"):
        reviews.request_review(record, agent)


def test_a_low_rating_makes_a_task_for_the_agent_with_the_comment(ctx):
    record, agent, account = _client()
    assert get_settings().review_task_threshold == 2
    reviews.submit(account, 3, "Fine.")
    assert db.session.scalar(select(Task).where(Task.record_id == record.id)) is None
    reviews.submit(account, 2, "Nobody called me back about my claim.")
    task = db.session.scalar(select(Task).where(Task.record_id == record.id))
    assert task.assignee_id == agent.id and not task.done
    assert "2 out of 5" in task.title
    assert task.notes == "Nobody called me back about my claim."
    get_settings().review_task_threshold = 0
    reviews.submit(account, 1)
    assert len(db.session.scalars(select(Task).where(Task.record_id == record.id)).all()) == 1


def test_a_co_applicants_review_emails_the_primary_applicant(ctx):
    record, _agent, primary = _client()
    contact = Contact(
        record_id=record.id,
        role=ContactRole.CO_APPLICANT,
        first_name="Carl",
        last_name="Rater",
        email="carl@example.com",
    )
    db.session.add(contact)
    db.session.flush()
    co = PortalAccount(
        record_id=record.id,
        contact_id=contact.id,
        status=AccountStatus.ENABLED,
        email="carl@example.com",
    )
    db.session.add(co)
    db.session.flush()

    def recipients() -> list[str]:
        rows = db.session.scalars(
            select(OutboxMessage).where(OutboxMessage.event_key == "portal.review.submitted")
        )
        return sorted(message.recipient for message in rows)

    reviews.submit(primary, 5)
    assert recipients() == ["agent.rita@example.com"]  # the primary's own: no household email
    reviews.submit(co, 4, "Good.")
    assert recipients() == [
        "agent.rita@example.com",
        "agent.rita@example.com",
        "rita@example.com",
    ]


def test_average_and_trend(ctx):
    _record, _agent, account = _client()
    now = datetime(2026, 12, 15, 12, tzinfo=UTC)
    for rating, when in (
        (5, datetime(2026, 12, 2, 12, tzinfo=UTC)),
        (2, datetime(2026, 12, 10, 12, tzinfo=UTC)),
        (4, datetime(2026, 10, 5, 12, tzinfo=UTC)),
        (1, datetime(2026, 3, 5, 12, tzinfo=UTC)),  # before the six months
    ):
        review = reviews.submit(account, rating)
        review.created_at = when
    db.session.flush()
    assert reviews.average() == (3.0, 4)
    months = reviews.trend(now=now)
    assert [m.start.month for m in months] == [7, 8, 9, 10, 11, 12]
    assert [(m.average, m.count) for m in months] == [
        (None, 0),
        (None, 0),
        (None, 0),
        (4.0, 1),
        (None, 0),
        (3.5, 2),
    ]
