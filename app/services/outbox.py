"""The outbox: every email and text is a row first, then a worker delivers it.

Delivery is at least once per idempotency key, and recognisably so. A job claims a row
(queued → sending, attempts +1, the worker's name) and the claim is committed before anything
leaves; a second job, or a replay after Redis lost its queue, finds the row claimed or sent and
does nothing. The outcome is recorded after the send, with retries (:mod:`jobs.delivery`). A
failure puts the row back with a later ``next_attempt_at`` (the delay doubles) until the
attempts run out; the sweeper queues it when that time comes, so no retry waits for RQ's
scheduler.

A row left in "sending" (its worker was killed mid-send, or could not record the outcome)
becomes "unknown": it may or may not have arrived. It is sent again on its own with the same
``Message-ID`` (derived from the idempotency key), which lets mail programs tell the second
copy for the same message, and staff see it as "may or may not have arrived".
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import Select, and_, func, select, update
from sqlalchemy.exc import IntegrityError

from app.queue import WorkerJudge, enqueue_after_commit
from app.services import mail, sms, templates
from app.services.errors import ValidationError
from app.services.mail import PermanentDeliveryError
from app.services.templates import Rendered
from app.services.validation import normalise_email, normalise_phone
from models import Channel, OutboxMessage, OutboxStatus, db, utcnow

log = logging.getLogger(__name__)

REDACTED = "[This message carried a password, link or code. Its text was removed once delivered.]"
#: A claim older than this without an outcome: the send is over one way or another (longer
#: than any send may take; the SMTP timeout is 30 s). A claim whose worker is dead (by its
#: heartbeat) is not waited for at all.
STALE_CLAIM = timedelta(minutes=2)
INTERRUPTED = (
    "Interrupted while sending: it may or may not have arrived. It is sent again on its own, "
    "with the same Message-ID."
)
RESENT = (
    "Sent again after an interrupted try that may also have arrived (same Message-ID, so the "
    "recipient's mail program can tell it is the same message)."
)
#: Statuses a worker may claim for sending.
SENDABLE = (OutboxStatus.QUEUED, OutboxStatus.UNKNOWN)
BASE_DELAY = timedelta(seconds=30)


#: Delivery jobs per channel that may run at once (each on its own worker). A job delivers
#: every due message of its channel, one after another: one job (one fork, one database
#: connection) for a burst of mail instead of one per message. A delivery job makes way for
#: a workflow batch that no other worker took (jobs.delivery).
DELIVERY_SLOTS = 2


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
    attachment_document_id: int | None = None,
) -> OutboxMessage:
    """Add a message (or return the one already there under ``key``) and deliver after commit.
    ``attachment_document_id``: a document whose file goes with an email (mail.build)."""
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
        attachment_document_id=attachment_document_id,
        attachment_title=mail.attachment_title(attachment_document_id),
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


def send_template(
    template_key: str, context: dict[str, Any], *, key: str, to: str, **kwargs: Any
) -> OutboxMessage:
    """Render the template stored under ``template_key`` with ``context`` and put the result
    in the outbox under the idempotency ``key`` (see :func:`put` for the rest)."""
    return put_rendered(templates.render(template_key, context), key=key, to=to, **kwargs)


def _schedule(message: OutboxMessage) -> None:
    """Queue the delivery now if it is due; a later one is queued by the sweep once due."""
    if message.next_attempt_at > utcnow():
        return
    _enqueue_delivery(message.channel, message.id % DELIVERY_SLOTS)


def _enqueue_delivery(channel: Channel, slot: int) -> None:
    """The delivery job has a fixed id per channel and slot: enqueueing twice runs once."""
    enqueue_after_commit(
        "jobs.delivery.deliver_due",
        channel.value,
        queue=queue_for(channel),
        job_id=f"portico-deliver-{channel.value}-{slot}",
    )


# -- delivery (called by jobs.delivery, which commits between the steps) ----------------------


def next_due(channel: Channel, now: datetime | None = None) -> int | None:
    """The id of the message of ``channel`` to send next, if any is due."""
    query = (
        select(OutboxMessage.id)
        .where(
            OutboxMessage.channel == channel,
            OutboxMessage.status.in_(SENDABLE),
            OutboxMessage.next_attempt_at <= (now or utcnow()),
        )
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(1)
    )
    if db.session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)  # another job's pick is not ours
    return db.session.scalar(query)


def claim(
    message_id: int, now: datetime | None = None, worker: str | None = None
) -> OutboxMessage | None:
    """Take a due message (queued, or of unknown outcome) for sending; None if it is not ours
    to send. ``worker``: the claiming worker's name, so its death is noticed."""
    now = now or utcnow()
    result = db.session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.id == message_id,
            OutboxMessage.status.in_(SENDABLE),
            OutboxMessage.next_attempt_at <= now,
        )
        .values(
            status=OutboxStatus.SENDING,
            attempts=OutboxMessage.attempts + 1,
            claimed_at=now,
            claimed_by=worker,
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
    provider_id: str | None = None


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
    return Outcome(True, provider_id=provider_id)


def record_outcome(message: OutboxMessage, outcome: Outcome, now: datetime | None = None) -> None:
    now = now or utcnow()
    if outcome.sent:
        message.status = OutboxStatus.SENT
        message.sent_at = now
        message.provider_id = outcome.provider_id or message.provider_id
        message.last_error = RESENT if message.last_error == INTERRUPTED else None
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


def resume_after_outage(now: datetime) -> int:
    """A channel works again (a message went out after others failed): the messages waiting
    out its outage are due now rather than at the end of their backoff. Run by the sweep."""
    resumed = 0
    for channel in Channel:
        latest_sent = db.session.scalar(
            select(func.max(OutboxMessage.sent_at)).where(
                OutboxMessage.status == OutboxStatus.SENT,
                OutboxMessage.next_attempt_at > now - timedelta(hours=1),
                OutboxMessage.channel == channel,
            )
        )
        if latest_sent is None:
            continue
        result = db.session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.status == OutboxStatus.QUEUED,
                OutboxMessage.next_attempt_at > now,
                OutboxMessage.channel == channel,
                OutboxMessage.attempts > 0,
                OutboxMessage.claimed_at < latest_sent,  # failed before the last success
            )
            .values(next_attempt_at=now)
            .execution_options(synchronize_session=False)
        )
        resumed += int(result.rowcount)  # type: ignore[attr-defined]
    return resumed


def settle(
    message_id: int, claimed_at: datetime | None, outcome: Outcome, now: datetime | None = None
) -> OutboxMessage | None:
    """Record the outcome of a send on a fresh load of the row (the delivery job calls this
    again after a failed commit). Only while the row is still the claim that sent it: if it
    was meanwhile judged unknown and taken again, the later claim records its own outcome."""
    message = db.session.get(OutboxMessage, message_id, populate_existing=True)
    if message is None or message.status != OutboxStatus.SENDING:
        return None
    if claimed_at is not None and message.claimed_at != claimed_at:
        return None
    record_outcome(message, outcome, now)
    return message


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


def retry_many(ids: list[int]) -> tuple[int, list[str]]:
    """Try the chosen messages again (those that failed); returns how many were queued and
    why others were refused."""
    retried, refused = 0, []
    for message in db.session.scalars(select(OutboxMessage).where(OutboxMessage.id.in_(ids))):
        try:
            retried += retry(message)
        except ValidationError as exc:
            refused.append(exc.message)
    return retried, refused


# -- what the sweeper looks at ------------------------------------------------------------------


def due(now: datetime, limit: int = 500) -> Select[tuple[OutboxMessage]]:
    """Messages to send whose time has come (Redis may have lost their job, or their retry
    was never queued: the sweep queues retries)."""
    return (
        select(OutboxMessage)
        .where(OutboxMessage.status.in_(SENDABLE), OutboxMessage.next_attempt_at <= now)
        .order_by(OutboxMessage.next_attempt_at)
        .limit(limit)
    )


def mark_unknown_outcomes(now: datetime, *, judge_workers: bool = True) -> int:
    """Sends that will never report back: their worker died (by its heartbeat), or the claim
    is older than :data:`STALE_CLAIM`. They may or may not have arrived: they become
    "unknown" and are due again at once (same Message-ID), unless their tries are used up:
    then they fail, saying so, for a person to look at."""
    claims = db.session.execute(
        select(OutboxMessage.id, OutboxMessage.claimed_by, OutboxMessage.claimed_at).where(
            OutboxMessage.status == OutboxStatus.SENDING
        )
    ).all()
    judge = WorkerJudge()
    over = [
        message_id
        for message_id, worker, claimed_at in claims
        if claimed_at is None
        or claimed_at < now - STALE_CLAIM
        or (judge_workers and judge.gone(worker, claimed_at))
    ]
    if not over:
        return 0
    max_attempts = int(current_app.config["PORTICO_OUTBOX_MAX_ATTEMPTS"])
    interrupted = and_(OutboxMessage.id.in_(over), OutboxMessage.status == OutboxStatus.SENDING)
    db.session.execute(
        update(OutboxMessage)
        .where(interrupted, OutboxMessage.attempts >= max_attempts)
        .values(status=OutboxStatus.FAILED, last_error=INTERRUPTED.split(". It is")[0] + ".")
        .execution_options(synchronize_session=False)
    )
    result = db.session.execute(
        update(OutboxMessage)
        .where(interrupted)
        .values(status=OutboxStatus.UNKNOWN, last_error=INTERRUPTED, next_attempt_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def requeue_due(now: datetime) -> int:
    """Make sure a delivery job waits for each channel that has due messages (Redis may have
    lost it, or a retry came due); the fixed job ids make a duplicate a no-op. Returns how
    many messages are due."""
    total = 0
    for channel, count in db.session.execute(
        select(OutboxMessage.channel, func.count())
        .where(OutboxMessage.status.in_(SENDABLE), OutboxMessage.next_attempt_at <= now)
        .group_by(OutboxMessage.channel)
    ).all():
        total += int(count)
        for slot in range(DELIVERY_SLOTS):
            _enqueue_delivery(channel, slot)
    return total
