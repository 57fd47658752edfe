"""Sessions left halfway, swept with a fixed ``now``: a day without the visitor abandons the
session (the funnel and the record hear), a verified visitor gets one email with a link back
that works, and a visitor who came back in time, or finished, is left alone."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import func, select

from app.services.journeys import abandoning, visitors
from jobs import sweeper
from models import (
    ActivityEntry,
    JourneyMilestone,
    JourneySession,
    OutboxMessage,
    SessionStatus,
    db,
    utcnow,
)
from tests.conftest import body_of, run_jobs
from tests.services.test_journey_completion import client_record, journey, session_on


def left(session: JourneySession, hours: float, now):
    session.last_seen_at = now - timedelta(hours=hours)
    db.session.flush()
    return session


def resume_mails() -> list[OutboxMessage]:
    return list(
        db.session.scalars(
            select(OutboxMessage).where(OutboxMessage.template_key == "journey.resume")
        )
    )


def stages(session) -> set[str]:
    return set(
        db.session.scalars(
            select(JourneyMilestone.stage).where(JourneyMilestone.session_id == session.id)
        )
    )


def test_a_day_away_abandons_the_session_and_sends_one_link_back_that_works(app, ctx, mailbox):
    now = utcnow()
    record = client_record("away@example.com")
    item = journey(record.assigned_agent, resume_days=5)
    session = left(session_on(item, record), 24.5, now)
    fresh = left(session_on(item, record, email="fresh@example.com"), 23, now)
    db.session.commit()

    assert abandoning.sweep(now) == 1
    db.session.commit()
    assert session.status == SessionStatus.ABANDONED and session.abandoned_at == now
    assert fresh.status == SessionStatus.IN_PROGRESS
    assert "abandoned" in stages(session) and "abandoned" not in stages(fresh)
    [entry] = db.session.scalars(
        select(ActivityEntry).where(ActivityEntry.event_key == "flow.abandoned")
    ).all()
    assert entry.record_id == record.id and entry.details["session_id"] == session.id
    [mail] = resume_mails()
    assert mail.recipient == "away@example.com" and mail.sensitive
    assert session.resume_sent_at == now
    assert session.resume_until - now == timedelta(days=5)
    assert session.trail[-1]["what"] == "Emailed a link to come back"

    # A second sweep, a little later: nothing more, and no second email.
    assert abandoning.sweep(now + timedelta(minutes=30)) == 0
    assert len(resume_mails()) == 1

    run_jobs(app)
    [delivered] = mailbox.wait_for(1)
    assert str(delivered["Subject"]) == "Finish Renew your policy where you left off"
    link = re.search(r"https?://\S+/f/renew/resume/(\S+)", body_of(delivered))
    assert link, body_of(delivered)
    assert visitors.from_resume_token(item, link.group(1)) == session


def test_resumed_and_left_again_is_abandoned_again_without_a_second_email(ctx):
    now = utcnow()
    record = client_record("twice@example.com")
    session = left(session_on(journey(record.assigned_agent), record), 30, now)
    assert abandoning.sweep(now) == 1
    session.status = SessionStatus.IN_PROGRESS  # came back by the link, then left again
    left(session, 25, now + timedelta(days=2))
    assert abandoning.sweep(now + timedelta(days=2)) == 1
    assert session.status == SessionStatus.ABANDONED
    assert len(resume_mails()) == 1


def test_who_gets_no_email(ctx):
    now = utcnow()
    record = client_record("quiet@example.com")
    no_resume = left(session_on(journey(record.assigned_agent, resume_days=0), record), 25, now)
    item = journey(record.assigned_agent, slug="claims")
    unverified = left(session_on(item, record, email="pin@example.com"), 25, now)
    unverified.status, unverified.verified_at, unverified.record = SessionStatus.STARTED, None, None
    done = left(session_on(item, record, email="done@example.com"), 48, now)
    done.status = SessionStatus.COMPLETED
    db.session.flush()

    assert abandoning.sweep(now) == 2
    assert no_resume.status == unverified.status == SessionStatus.ABANDONED
    assert done.status == SessionStatus.COMPLETED
    assert resume_mails() == []
    # Nobody is known before the PIN: no event on any record for that one.
    sessions = db.session.scalars(
        select(ActivityEntry.details).where(ActivityEntry.event_key == "flow.abandoned")
    ).all()
    assert [details["session_id"] for details in sessions] == [no_resume.id]


def test_the_sweeper_abandons_with_its_own_now(ctx):
    now = utcnow()
    record = client_record("sweeper@example.com")
    session = left(session_on(journey(record.assigned_agent), record), 25, now)
    db.session.commit()
    assert sweeper.sweep(now - timedelta(hours=2))["journeys_abandoned"] == 0
    assert sweeper.sweep(now)["journeys_abandoned"] == 1
    db.session.refresh(session)
    assert session.status == SessionStatus.ABANDONED
    assert (
        db.session.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.template_key == "journey.resume")
        )
        == 1
    )
