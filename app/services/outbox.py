"""The outbox: every email and text is a row first, then a worker delivers it.

Delivery is at most once per idempotency key. A job claims a row (queued → sending, attempts
+1) and the claim is committed before anything leaves; a second job, or a replay after Redis
lost its queue, finds the row claimed or sent and does nothing. A failure puts the row back
with a later ``next_attempt_at`` (the delay doubles) until the attempts run out; a row left in
"sending" by a killed worker is marked failed for a person to look at, never resent on its own.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import Select, or_, select, update
from sqlalchemy.exc import IntegrityError

from app.queue import enqueue_after_commit
from app.services import mail, sms
from app.services.errors import ValidationError
from app.services.mail import PermanentDeliveryError
from app.services.templates import Rendered
from app.services.validation import normalise_email, normalise_phone
from models import Channel, OutboxMessage, OutboxStatus, db, utcnow

log = logging.getLogger(__name__)

REDACTED = "[This message carried a password, link or code. Its text was removed once delivered.]"
#: A claim older than this without an outcome means the worker died mid-send.
STALE_CLAIM = timedelta(minutes=10)
BASE_DELAY = timedelta(seconds=30)


def job_id(message: OutboxMessage) -> str:
    return f"outbox-{message.id}-{message.attempts}"


def queue_for(channel: Channel) -> str:
    return "email" if channel == Channel.EMAIL else "sms"


def put(
    *,
    key: str,
    channel: Channel,
    to: str,
    text: str,
    subject: str = "",
    html: str | None = None,
    to_name: str | None = None,
    reply_to: str | None = None,
    record_id: int | None = None,
    template_key: str | None = None,
    event_key: str | None = None,
    sensitive: bool = False,
) -> OutboxMessage:
    """Add a message (or return the one already there under ``key``) and deliver after commit."""
    existing = db.session.scalar(select(OutboxMessage).where(OutboxMessage.idempotency_key == key))
    if existing is not None:
        return existing
    to = _checked_recipient(channel, to)
    message = OutboxMessage(
        idempotency_key=key,
        channel=channel,
        recipient=to,
        recipient_name=to_name,
        reply_to=reply_to,
        subject=subject if channel == Channel.EMAIL else "",
        body_text=text,
        body_html=html,
        sensitive=sensitive,
        record_id=record_id,
        template_key=template_key,
        event_key=event_key,
        status=OutboxStatus.QUEUED,
        next_attempt_at=utcnow(),
    )
    try:
        with db.session.begin_nested():
            db.session.add(message)
    except IntegrityError:  # another transaction added the same key first
        found = db.session.scalar(select(OutboxMessage).where(OutboxMessage.idempotency_key == key))
        if found is None:
            raise
        return found
    _schedule(message)
    return message


def _checked_recipient(channel: Channel, to: str | None) -> str:
    if channel == Channel.EMAIL:
        address = normalise_email(to)
        if not address:
            raise ValidationError("A message needs a recipient.")
        return address
    number = normalise_phone(to, None) if (to or "").startswith("+") else normalise_phone(to)
    if not number:
        raise ValidationError("A text message needs a phone number.")
    return number


def put_rendered(rendered: Rendered, *, key: str, to: str, **kwargs: Any) -> OutboxMessage:
    return put(
        key=key,
        channel=rendered.channel,
        to=to,
        subject=rendered.subject,
        text=rendered.text,
        html=rendered.html,
        template_key=rendered.template_key,
        sensitive=rendered.sensitive,
        **kwargs,
    )


def _schedule(message: OutboxMessage) -> None:
    enqueue_after_commit(
        "jobs.delivery.deliver",
        message.id,
        queue=queue_for(message.channel),
        job_id=job_id(message),
        at=message.next_attempt_at if message.next_attempt_at > utcnow() else None,
    )


# -- delivery (called by jobs.delivery, which commits between the steps) ----------------------


def claim(message_id: int, now: datetime | None = None) -> OutboxMessage | None:
    """Take a due, queued message for sending; None if it is not ours to send."""
    now = now or utcnow()
    result = db.session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.id == message_id,
            OutboxMessage.status == OutboxStatus.QUEUED,
            OutboxMessage.next_attempt_at <= now,
        )
        .values(
            status=OutboxStatus.SENDING,
            attempts=OutboxMessage.attempts + 1,
            claimed_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return None
    message = db.session.get(OutboxMessage, message_id)
    if message is not None:
        db.session.refresh(message)
    return message


@dataclass(frozen=True)
class Outcome:
    sent: bool
    error: str | None = None
    retry_at: datetime | None = None


def transmit(message: OutboxMessage) -> Outcome:
    """Hand a claimed message to its transport (no database writes here)."""
    try:
        if message.channel == Channel.EMAIL:
            provider_id = mail.send(message)
        else:
            provider_id = sms.provider().send(message)
    except PermanentDeliveryError as exc:
        return Outcome(False, f"{exc}")
    except Exception as exc:
        log.warning("delivery of outbox message %s failed: %s", message.id, exc)
        return Outcome(False, f"{type(exc).__name__}: {exc}"[:1000], retry_at=utcnow())
    message.provider_id = provider_id
    return Outcome(True)


def record_outcome(message: OutboxMessage, outcome: Outcome, now: datetime | None = None) -> None:
    now = now or utcnow()
    if outcome.sent:
        message.status = OutboxStatus.SENT
        message.sent_at = now
        message.last_error = None
        if message.sensitive:
            message.body_text = REDACTED
            message.body_html = None
        return
    message.last_error = outcome.error
    max_attempts = int(current_app.config["PORTICO_OUTBOX_MAX_ATTEMPTS"])
    if outcome.retry_at is None or message.attempts >= max_attempts:
        message.status = OutboxStatus.FAILED
        return
    message.status = OutboxStatus.QUEUED
    message.next_attempt_at = now + BASE_DELAY * (2 ** (message.attempts - 1))
    _schedule(message)


def retry(message: OutboxMessage) -> bool:
    """A person asks to try a failed message again (from the Outbox view)."""
    if message.status != OutboxStatus.FAILED:
        return False
    if message.sensitive and message.body_text == REDACTED:
        raise ValidationError(
            "This message carried credentials and was delivered; send new ones instead."
        )
    message.status = OutboxStatus.QUEUED
    message.next_attempt_at = utcnow()
    message.claimed_at = None
    _schedule(message)
    return True


# -- what the sweeper looks at ------------------------------------------------------------------


def due(now: datetime, limit: int = 500) -> Select[tuple[OutboxMessage]]:
    """Queued messages whose time has come (Redis may have lost their job)."""
    return (
        select(OutboxMessage)
        .where(OutboxMessage.status == OutboxStatus.QUEUED, OutboxMessage.next_attempt_at <= now)
        .order_by(OutboxMessage.next_attempt_at)
        .limit(limit)
    )


def fail_stale_claims(now: datetime) -> int:
    """Claims with no outcome after STALE_CLAIM: the worker died while sending. Whether the
    message left is unknown, so it is not resent on its own: it fails with a clear note."""
    result = db.session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.status == OutboxStatus.SENDING,
            or_(OutboxMessage.claimed_at.is_(None), OutboxMessage.claimed_at < now - STALE_CLAIM),
        )
        .values(
            status=OutboxStatus.FAILED,
            last_error="Interrupted while sending: it may or may not have arrived. "
            "Check with the recipient before retrying.",
        )
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def requeue_due(now: datetime) -> int:
    """Put due messages back on the queue; the job id makes a duplicate a no-op."""
    count = 0
    messages: list[OutboxMessage] = list(db.session.scalars(due(now)))
    for message in messages:
        _schedule(message)
        count += 1
    return count
