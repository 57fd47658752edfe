"""The PIN a visitor's email receives, and its check: a one-time code
(:mod:`app.services.one_time_codes`) whose purpose is the session (``flow-<public id>``), valid
for the journey's minutes and tries as the session's copy has them. :mod:`.visitors`
re-exports these.

A right PIN verifies the session: the record the email matches is found (or a lead made),
the funnel and the trail note it, and ``flow.started`` is logged on the record. Every try is
counted in the database before the PIN is compared; the caller commits even when the answer
is no, so the try stays counted.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from flask_babel import gettext as _
from sqlalchemy import select

from app.services import events, one_time_codes, templates
from app.services.errors import NotFound, ValidationError
from app.services.journeys import matching
from app.services.journeys.progress import actor, log, milestone
from models import Channel, JourneySession, LoginCode, SessionStatus, db, utcnow

#: The system template of the PIN email.
PIN_TEMPLATE = "journey.pin"
#: PINs one email address receives, whichever journey, session or IP asked: anyone may type
#: an address into a welcome form, so without it a stranger could flood an inbox (a new
#: session per welcome, a few new PINs per session, from many IPs).
EMAIL_RATE = "10 per hour;30 per day"

Reason = Literal["ok", "wrong", "expired", "locked"]


@dataclass(frozen=True)
class PinOutcome:
    """What a PIN entry came to. ``locked``: no tries left (or no PIN to try): the visitor
    must start again from the welcome page; ``expired``: a new PIN can be sent."""

    ok: bool
    reason: Reason


def purpose(session: JourneySession) -> str:
    return f"flow-{session.public_id}"


def send_pin(session: JourneySession, ip: str | None = None) -> LoginCode:
    """Email the visitor a new PIN (an earlier one stops working). A visitor who used up a
    PIN's tries before ever getting in starts again from the welcome page instead (a new PIN
    here would give them as many tries again). Raises
    :class:`~app.services.one_time_codes.TooManyCodes` once the address had
    :data:`EMAIL_RATE`."""
    if session.status == SessionStatus.COMPLETED:
        raise NotFound(_("This page does not exist."))
    if session.verified_at is None and locked(session):
        raise ValidationError(_("Too many wrong PINs: please start again."), field="code")
    one_time_codes.spend(one_time_codes.Limit("journey-pin", EMAIL_RATE, session.email))
    definition = session.definition or {}
    context = templates.base_context(None)
    context.update(journey_name=definition.get("name", ""), visitor_name=session.name)
    row = one_time_codes.issue(
        purpose(session),
        Channel.EMAIL,
        session.email,
        template=PIN_TEMPLATE,
        context=context,
        # The name is the typist's until the PIN proves the address (see messages.PIN).
        to_name=session.name if session.verified_at is not None else None,
        record_id=session.record_id,
        valid_minutes=int(definition.get("pin_minutes") or 10),
        max_attempts=int(definition.get("pin_attempts") or 5),
    )
    log(session, "PIN sent by email", ip or session.ip)
    db.session.flush()
    return row


def locked(session: JourneySession) -> bool:
    """Whether the session's latest PIN ran out of tries."""
    key = one_time_codes.code_key(purpose(session), session.email)
    latest = db.session.scalar(
        select(LoginCode)
        .where(LoginCode.channel == Channel.EMAIL, LoginCode.identifier == key)
        .order_by(LoginCode.id.desc())
        .limit(1)
    )
    return latest is not None and latest.attempts >= latest.max_attempts


def _live_code(session: JourneySession) -> LoginCode | None:
    """The session's latest PIN not yet used nor replaced."""
    key = one_time_codes.code_key(purpose(session), session.email)
    return db.session.scalar(
        select(LoginCode)
        .where(
            LoginCode.channel == Channel.EMAIL,
            LoginCode.identifier == key,
            LoginCode.used_at.is_(None),
            LoginCode.superseded_at.is_(None),
        )
        .order_by(LoginCode.id.desc())
        .limit(1)
    )


def verify_pin(
    session: JourneySession,
    code: str | None,
    *,
    ip: str | None,
    user_agent: str | None,
    now: datetime | None = None,
) -> PinOutcome:
    """Check the PIN the visitor typed. Right: the session is verified (status in progress,
    its record matched, ``flow.started`` logged). Wrong, expired or out of tries: said so,
    and noted in the trail. A verified session asked again (a resumed one) is verified anew
    and gets a new ``public_id``: the caller binds the browser to ``session.public_id``."""
    if session.status == SessionStatus.COMPLETED:
        raise NotFound(_("This page does not exist."))
    now = now or utcnow()
    live = _live_code(session)
    if live is None or live.attempts >= live.max_attempts:
        log(session, "PIN refused: no tries left", ip, now)
        return PinOutcome(False, "locked")
    if live.expires_at <= now:
        log(session, "PIN refused: expired", ip, now)
        return PinOutcome(False, "expired")
    if not one_time_codes.check(purpose(session), Channel.EMAIL, session.email, code or "", now):
        db.session.refresh(live, ["attempts"])
        if live.attempts >= live.max_attempts:
            one_time_codes.retire(LoginCode, live.id, now)
            log(session, "PIN wrong; no tries left", ip, now)
            return PinOutcome(False, "locked")
        log(session, "PIN wrong", ip, now)
        return PinOutcome(False, "wrong")
    _verified(session, ip=ip, user_agent=user_agent, now=now)
    return PinOutcome(True, "ok")


def _verified(
    session: JourneySession, *, ip: str | None, user_agent: str | None, now: datetime
) -> None:
    resumed = session.verified_at is not None
    if session.status == SessionStatus.ABANDONED:
        session.abandoned_at = None
    session.status = SessionStatus.IN_PROGRESS
    session.verified_at = session.verified_at or now
    session.last_seen_at = now
    if ip:
        session.ip = ip[:45]
    if user_agent:
        session.user_agent = user_agent[:400]
    log(session, "PIN verified" + (" (resumed)" if resumed else ""), ip, now)
    if resumed:
        # A fresh PIN (the emailed link back) gives the session a new id: the browser that
        # typed it goes on alone, and one that held the old id (a shared computer, say)
        # opens nothing any more.
        session.public_id = secrets.token_urlsafe(16)
        db.session.flush()
        return
    record = matching.record_for(session)
    milestone(session, "verified", now)
    events.emit(
        "flow.started",
        actor=actor(session),
        record=record,
        details={
            "flow": (session.definition or {}).get("name"),
            "subject": (session.definition or {}).get("name"),
            "journey_id": session.journey_id,
            "session_id": session.id,
        },
    )
    db.session.flush()
