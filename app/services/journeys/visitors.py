"""A visitor's intents on a journey, one call each (each flushes; the view commits): start
from the welcome form, prove the email with the PIN (:mod:`.pins`), go through the steps (a
form: :func:`save_form`; files: :mod:`.uploads`; a signature: :mod:`.sign_step`), and come
back by the emailed resume link; the last step done completes the session
(:mod:`.completion`). The trail and milestones are in :mod:`.progress`; all of these are
re-exported here, so the web side imports this module.

A session is found by its random ``public_id`` and only by a browser that holds it in its
journey cookie (:func:`for_browser`): the id in an address alone opens nothing. It goes
through the copy of the journey it started on (``session.definition``).
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Collection
from datetime import datetime, timedelta

from flask_babel import gettext as _
from flask_wtf import FlaskForm
from sqlalchemy import select

from app.services import links, one_time_codes
from app.services.errors import NotFound, ValidationError
from app.services.journeys import completion, definitions, sign_step, steps, uploads
from app.services.journeys.pins import PinOutcome, send_pin, verify_pin
from app.services.journeys.progress import (
    actor,
    check_open,
    log,
    milestone,
    step_def,
    steps_of,
    touch,
)
from app.services.journeys.sign_step import sign_request_for
from app.services.journeys.uploads import add_uploads
from app.services.validation import check_single_line, normalise_email, visible
from models import Journey, JourneySession, SessionStatus, StepKind, db, utcnow

__all__ = [
    "PinOutcome",
    "actor",
    "add_uploads",
    "for_browser",
    "from_resume_token",
    "log",
    "milestone",
    "resume_link",
    "save_form",
    "send_pin",
    "sign_done",
    "sign_request_for",
    "start",
    "step_done",
    "touch",
    "uploads_done",
    "verify_pin",
]

NAME_MAX = 200


def _name(value: str | None) -> str:
    try:
        name = " ".join(visible(check_single_line(value)).split())
    except ValidationError as exc:
        raise ValidationError(exc.message, field="name") from None
    if not name:
        raise ValidationError(_("Enter your name."), field="name")
    if len(name) > NAME_MAX:
        raise ValidationError(
            _("Keep it to %(most)d characters or fewer.", most=NAME_MAX), field="name"
        )
    return name


def _email(value: str | None) -> str:
    try:
        email = normalise_email(value)
    except ValidationError as exc:
        raise ValidationError(exc.message, field="email") from None
    if not email:
        raise ValidationError(_("Enter your email address."), field="email")
    return email.lower()


def start(
    journey: Journey,
    *,
    name: str | None,
    email: str | None,
    ip: str | None,
    user_agent: str | None,
    next_url: str | None = None,
) -> JourneySession:
    """The visitor sent the welcome form: a new session on a copy of the journey as it is
    now, and a PIN emailed to them. The answer is the same whatever the email (no record is
    looked for before the PIN is in). ``next_url`` replaces the journey's redirect when it
    is on an allowed host (ignored otherwise)."""
    if not journey.active:
        raise ValidationError(_("This journey is closed."))
    visitor_name, address = _name(name), _email(email)
    definition = definitions.snapshot(journey)
    allowed_next = definitions.allowed_redirect(next_url)
    if allowed_next:
        definition["redirect_url"] = allowed_next
    now = utcnow()
    session = JourneySession(
        journey=journey,
        journey_id=journey.id,
        public_id=secrets.token_urlsafe(16),
        version=journey.version,
        definition=definition,
        name=visitor_name,
        email=address,
        status=SessionStatus.STARTED,
        step_index=0,
        answers={},
        trail=[],
        started_at=now,
        last_seen_at=now,
        ip=(ip or None) and ip[:45],
        user_agent=(user_agent or None) and user_agent[:400],
    )
    db.session.add(session)
    db.session.flush()
    log(session, "Welcome form sent", ip, now)
    milestone(session, "started", now)
    try:
        send_pin(session, ip)
    except one_time_codes.TooManyCodes as refused:
        # Said on the welcome form like any refusal (the caller's savepoint undoes the row).
        raise ValidationError(refused.message) from refused
    return session


def save_form(session: JourneySession, index: int, form: FlaskForm, ip: str | None = None) -> None:
    """The visitor's validated answers to form step ``index`` (``form`` from the step's
    ``form_class``) are kept, and the step is done. Sent again after going back, they
    replace the earlier ones."""
    check_open(session)
    step = step_def(session, index)
    if step["kind"] != StepKind.FORM.value:
        raise ValidationError(_("This step has no questions."))
    answers = form.answers()
    session.answers = {**(session.answers or {}), str(index): answers}
    db.session.flush()
    step_done(session, index, ip)


def for_browser(journey: Journey, public_id: str, bound: Collection[str]) -> JourneySession:
    """The session ``public_id`` of ``journey``, for the browser whose journey cookie holds
    the ids in ``bound``; NotFound for any other (another visitor's id is not found)."""
    if not public_id or public_id not in bound:
        raise NotFound(_("This page does not exist."))
    session = db.session.scalar(
        select(JourneySession).where(
            JourneySession.public_id == public_id, JourneySession.journey_id == journey.id
        )
    )
    if session is None:
        raise NotFound(_("This page does not exist."))
    return session


def step_done(session: JourneySession, index: int, ip: str | None = None) -> None:
    """The visitor finished step ``index``: the next one opens (a step done again after going
    back leaves them where they were), the funnel and the trail note it, and the last step
    done completes the session."""
    check_open(session)
    step = step_def(session, index)
    if not steps.get(step["kind"]).is_done_ok(session, step):
        raise ValidationError(_("Finish this step first."))
    session.step_index = max(session.step_index, index + 1)
    milestone(session, f"step:{index}")
    log(session, f"Step {index + 1} done: {step['title']}", ip or session.ip)
    db.session.flush()
    if index == len(steps_of(session)) - 1:
        completion.complete(session)


def uploads_done(session: JourneySession, index: int, ip: str | None = None) -> None:
    """The visitor finished upload step ``index``: refused (ValidationError naming the
    first empty slot's field) while a required slot has no file."""
    uploads.check_slots(session, index)
    step_done(session, index, ip)


def sign_done(session: JourneySession, index: int, ip: str | None = None) -> None:
    """The visitor signed (their signer is *signed*): the step is done."""
    request = sign_step.check_signed(session, index)
    log(session, f"Signed: {request.title}", ip)
    step_done(session, index, ip)


# -- resume -----------------------------------------------------------------------------------


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def resume_link(session: JourneySession, now: datetime | None = None) -> str:
    """A new emailed link back into the session (the one before stops working), good for
    the journey's resume days."""
    days = int((session.definition or {}).get("resume_days") or 0)
    if days <= 0:
        raise ValidationError(_("This journey cannot be resumed."))
    token = secrets.token_urlsafe(32)
    session.resume_token_hash = _token_hash(token)
    session.resume_until = (now or utcnow()) + timedelta(days=days)
    db.session.flush()
    return links.external("journeys.resume", slug=session.journey.slug, token=token)


def from_resume_token(
    journey: Journey,
    token: str | None,
    *,
    ip: str | None = None,
    now: datetime | None = None,
    log_it: bool = True,
) -> JourneySession:
    """The session of an emailed resume link while it works, else NotFound (unknown,
    expired, or the session completed). The visitor still needs a fresh PIN: the web side
    sends one, and binds the browser once it is right. ``log_it=False`` for a mere look at
    the link (a GET, which mail scanners make too, and nothing limits): the trail notes
    only the visitor asking to come back."""
    if not token or len(token) > 200:
        raise NotFound(_("This link does not work any more."))
    session = db.session.scalar(
        select(JourneySession).where(
            JourneySession.resume_token_hash == _token_hash(token),
            JourneySession.journey_id == journey.id,
        )
    )
    if (
        session is None
        or session.status == SessionStatus.COMPLETED
        or session.resume_until is None
        or session.resume_until <= (now or utcnow())
    ):
        raise NotFound(_("This link does not work any more."))
    if log_it:
        log(session, "Resumed by the emailed link", ip, now)
        db.session.flush()
    return session
