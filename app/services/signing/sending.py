"""Telling signers: each email carries a fresh personal link (its token is kept only as a
SHA-256, so an older link stops working), and sending, the next signer's turn, reminders and
cancelling are the staff intents that email or silence signers. :mod:`.requests` re-exports
the intents; the caller commits, and the outbox delivers after commit.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select

from app.services import events, links, outbox, templates
from app.services.actors import Actor
from app.services.errors import ValidationError
from app.services.signing import layouts, saved_layouts
from app.services.signing.access import TURN_STATUSES, token_hash
from models import (
    SignerStatus,
    SignFieldKind,
    SignRequest,
    SignRequestSigner,
    SignRequestStatus,
    db,
    utcnow,
)

#: A signer in one of these can sign now (it is their turn, and they have not finished).
#: Signers whose turn it is (the one rule, in access).
TURN = TURN_STATUSES


# -- dates --------------------------------------------------------------------------------------


def _office_zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["PORTICO_TIMEZONE"])


def end_of_day(day: date) -> datetime:
    """The last second of ``day`` in the office's time zone, as an aware datetime."""
    return datetime.combine(day, time(23, 59, 59), tzinfo=_office_zone())


def expires_on(request: SignRequest) -> date:
    """The last day the request can be signed, in office time."""
    return request.expires_at.astimezone(_office_zone()).date()


def next_reminder(request: SignRequest, now: datetime) -> datetime | None:
    """When the signers are next reminded: ``remind_every_days`` from ``now``, if that is
    before the request expires; otherwise never."""
    if not request.remind_every_days:
        return None
    due = now + timedelta(days=request.remind_every_days)
    return due if due < request.expires_at else None


# -- tokens and emails --------------------------------------------------------------------------


def _new_token(signer: SignRequestSigner) -> str:
    token = secrets.token_urlsafe(32)
    signer.token_hash = token_hash(token)
    return token


def _email(signer: SignRequestSigner, template_key: str) -> None:
    """Email ``signer`` the template with a fresh link; their previous link stops working."""
    request = signer.request
    record = request.record
    token = _new_token(signer)
    db.session.flush()
    context = templates.base_context(record)
    context.update(
        signer=signer.name,
        title=request.title,
        message=request.message,
        sign_url=links.sign_link(token),
        expires_on=expires_on(request).strftime("%d %B %Y"),
    )
    outbox.send_template(
        template_key,
        context,
        key=f"{template_key}:{signer.id}:{str(signer.token_hash)[:12]}",
        to=signer.email,
        to_name=signer.name,
        record_id=record.id,
        reply_to=templates.reply_address(record),
    )


def _tell(signers: Iterable[SignRequestSigner], now: datetime) -> None:
    for signer in signers:
        signer.status = SignerStatus.SENT
        signer.notified_at = now
        _email(signer, "sign.requested")


# -- intents ------------------------------------------------------------------------------------


def _check_draft(request: SignRequest) -> None:
    if request.status != SignRequestStatus.DRAFT:
        raise ValidationError(_("This sign request was sent already."))


def send(request: SignRequest, *, actor: Actor, save_as_template: str | None = None) -> None:
    """Send a draft: signers whose turn it is get their email (in order: the first signer;
    otherwise all), the others wait. Refused while a signer has no signature field, or when
    the expiry day has passed. ``save_as_template`` also keeps the layout under that name."""
    _check_draft(request)
    now = utcnow()
    if request.expires_at <= now:
        raise ValidationError(
            _("The expiry date has passed: start a new request with a later one."),
            field="expires_on",
        )
    specs = [
        layouts.FieldSpec(
            page=f.page,
            x=f.x,
            y=f.y,
            width=f.width,
            height=f.height,
            kind=f.kind,
            signer=f.signer.position,
        )
        for f in request.fields
        if f.kind == SignFieldKind.SIGNATURE
    ]
    layouts.check_each_signer_signs(specs, len(request.signers))
    if save_as_template:
        saved_layouts.save_from_request(request, save_as_template, actor=actor)
    request.status = SignRequestStatus.SENT
    request.next_reminder_at = next_reminder(request, now)
    signers = list(request.signers)
    for signer in signers:
        signer.status = SignerStatus.WAITING
    _tell(signers[:1] if request.in_order else signers, now)
    events.emit(
        "staff.sign_request.sent",
        actor=actor,
        record=request.record,
        details={
            "document": request.title,
            "sign_request": request.id,
            "signers": [signer.name for signer in signers],
        },
    )
    db.session.flush()


def notify_next(request: SignRequest) -> None:
    """In order: the next waiting signer's turn comes (after the one before signed); they
    get their email. Nothing happens when the request is no longer open or no one waits."""
    if not request.is_open:
        return
    waiting = [s for s in request.signers if s.status == SignerStatus.WAITING]
    if waiting:
        _tell(waiting[:1], utcnow())
        db.session.flush()


def remind_now(request: SignRequest, *, actor: Actor) -> int:
    """Remind every signer whose turn it is (a new link each; the old one stops working).
    Returns how many were reminded."""
    if not request.is_open:
        raise ValidationError(_("Only a request still waiting for signatures can be reminded."))
    count = remind(request, utcnow())
    if count == 0:
        raise ValidationError(_("No signer is waiting to sign just now."))
    return count


def lock(request_id: int) -> None:
    """Take the request's row lock and read the request and its signers afresh, so what
    another signer committed meanwhile is seen (PostgreSQL; SQLite has one writer anyway)."""
    db.session.execute(
        select(SignRequest)
        .where(SignRequest.id == request_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    db.session.scalars(
        select(SignRequestSigner)
        .where(SignRequestSigner.sign_request_id == request_id)
        .execution_options(populate_existing=True)
    ).all()


def remind(request: SignRequest, now: datetime) -> int:
    """Email the reminder to the signers whose turn it is; the next automatic reminder then
    counts from ``now``. Under the request's lock: a signer finishing at the same moment is
    not sent a new link."""
    lock(request.id)
    count = 0
    for signer in request.signers:
        if signer.status in TURN:
            signer.reminded_at = now
            _email(signer, "sign.reminder")
            count += 1
    request.next_reminder_at = next_reminder(request, now)
    db.session.flush()
    return count


def close_signers(request: SignRequest, status: SignerStatus) -> None:
    """Signers not done yet get ``status``; every link of the request stops working."""
    for signer in request.signers:
        if not signer.is_done:
            signer.status = status
        signer.token_hash = None
    request.next_reminder_at = None


def cancel(request: SignRequest, *, actor: Actor) -> None:
    """Staff withdraw an open request: nobody can sign it any more (their links stop working)."""
    if not request.is_open:
        raise ValidationError(_("Only a request still waiting for signatures can be cancelled."))
    request.status = SignRequestStatus.CANCELLED
    request.cancelled_at = utcnow()
    close_signers(request, SignerStatus.CANCELLED)
    events.emit(
        "staff.sign_request.cancelled",
        actor=actor,
        record=request.record,
        details={"document": request.title, "sign_request": request.id},
    )
    db.session.flush()
