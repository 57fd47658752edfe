"""Sessions left halfway: a visitor not seen for :data:`ABANDON_AFTER` has abandoned the
journey. The sweeper (:mod:`jobs.sweeper`) calls :func:`sweep` with its ``now``; each session
is claimed with one UPDATE, so two sweepers at the same moment abandon it once, and a visitor
who verified their email gets one email with a link back (while the journey allows resuming).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select, update

from app.services import events, outbox, templates
from app.services.errors import ValidationError
from app.services.journeys import messages, visitors
from models import JourneySession, OutboxMessage, SessionStatus, db, utcnow

#: A session not seen for this long is abandoned.
ABANDON_AFTER = timedelta(hours=24)
#: Sessions abandoned per sweep (the next sweep, a second later, takes the rest).
BATCH = 100
OPEN = (SessionStatus.STARTED, SessionStatus.IN_PROGRESS)
#: Links a visitor may ask for ("Finish later") per session.
LATER_MAX = 3


def sweep(now: datetime | None = None) -> int:
    """Abandon the open sessions not seen for a day: status ABANDONED, the funnel's
    ``abandoned`` milestone, ``flow.abandoned`` on the record when the PIN was in (before it,
    nobody is known), and the resume email to a verified visitor when the journey lets
    them come back. Returns how many sessions were abandoned."""
    now = now or utcnow()
    due = db.session.scalars(
        select(JourneySession)
        .where(JourneySession.status.in_(OPEN), JourneySession.last_seen_at <= now - ABANDON_AFTER)
        .order_by(JourneySession.last_seen_at)
        .limit(BATCH)
    ).all()
    abandoned = 0
    for session in due:
        # The visitor may have come back since the read: their session is theirs again.
        claimed = db.session.execute(
            update(JourneySession)
            .where(
                JourneySession.id == session.id,
                JourneySession.status == session.status,
                JourneySession.last_seen_at == session.last_seen_at,
            )
            .values(status=SessionStatus.ABANDONED, abandoned_at=now)
            .execution_options(synchronize_session=False)
        )
        if claimed.rowcount != 1:  # type: ignore[attr-defined]
            continue
        db.session.refresh(session)
        _abandoned(session, now)
        abandoned += 1
    db.session.flush()
    return abandoned


def _abandoned(session: JourneySession, now: datetime) -> None:
    visitors.milestone(session, "abandoned", at=now)
    name = str((session.definition or {}).get("name") or session.journey.name)
    if session.record is not None:
        events.emit(
            "flow.abandoned",
            actor=visitors.actor(session),
            record=session.record,
            details={
                "flow": name,
                "subject": name,
                "journey_id": session.journey_id,
                "session_id": session.id,
                "step": session.step_index,
            },
        )
    days = int((session.definition or {}).get("resume_days") or 0)
    if session.verified_at is not None and days > 0 and session.resume_sent_at is None:
        send_resume_email(session, now)


def finish_later(session: JourneySession, now: datetime | None = None) -> datetime:
    """The visitor asks to finish later: a link back to the step they reached is emailed now
    (the link before stops working; the session stays open and is abandoned after
    :data:`ABANDON_AFTER` like any other, without a second link). At most
    :data:`LATER_MAX` a session. Returns until when the link works."""
    if session.status != SessionStatus.IN_PROGRESS or session.verified_at is None:
        raise ValidationError(_("This journey is not under way: there is nothing to finish."))
    if int((session.definition or {}).get("resume_days") or 0) <= 0:
        raise ValidationError(
            _("This journey cannot be finished later: please finish it now, or start again.")
        )
    sent = db.session.scalar(
        select(func.count())
        .select_from(OutboxMessage)
        .where(OutboxMessage.idempotency_key.like(f"journey-later:{session.id}:%"))
    )
    if (sent or 0) >= LATER_MAX:
        raise ValidationError(
            _(
                "We have emailed you a link %(count)d times already: use the newest one.",
                count=LATER_MAX,
            )
        )
    send_resume_email(session, now, key=f"journey-later:{session.id}:{(sent or 0) + 1}")
    assert session.resume_until is not None
    return session.resume_until


def send_resume_email(
    session: JourneySession, now: datetime | None = None, *, key: str | None = None
) -> None:
    """Email the visitor a new link back to where they left off (the link before stops
    working); once per session (its outbox key is the session's) unless ``key`` names
    another sending (the visitor asked: :func:`finish_later`)."""
    now = now or utcnow()
    link = visitors.resume_link(session, now)
    until = session.resume_until or now
    day = until.astimezone(ZoneInfo(current_app.config["PORTICO_TIMEZONE"]))
    outbox.send_template(
        messages.RESUME,
        {
            **templates.base_context(session.record),
            "journey_name": (session.definition or {}).get("name") or session.journey.name,
            "visitor_name": session.name,
            "resume_url": link,
            "resume_until": f"{day:%d %B %Y}".lstrip("0"),
        },
        key=key or f"journey-resume:{session.id}",
        to=session.email,
        to_name=session.name,
        reply_to=templates.reply_address(session.record),
        record_id=session.record_id,
    )
    session.resume_sent_at = now
    visitors.log(session, "Emailed a link to come back", None, now)
    db.session.flush()
