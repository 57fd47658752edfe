"""Sharing documents with the client, taking them back, and telling the client.

Staff share one document or many (ticked rows); each record of the batch gets one event, not
one per file. Sharing is refused on a lead ("files only for clients") and says why. After
sharing, the staff member chooses how the client hears: by email, by text (only when the
client has a mobile and agreed to texts) or not at all; that notice is an event of its own
(``staff.document.notified_email`` / ``_text``), whose rule in the notification matrix
decides the rest (a task, the agent copied, the log). Unsharing takes effect at once: the
client's next request for the document is a 404.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date

from flask_babel import gettext as _

from app.services import document_access, events
from app.services.actors import Actor
from app.services.errors import ValidationError
from app.services.notification_rules import plan
from app.services.portal_credentials import primary_account
from models import AccessAction, AccountStatus, Channel, Document, Record, RecordKind, db, utcnow

EMAIL, TEXT = "email", "text"
_NOTICE_EVENTS = {EMAIL: "staff.document.notified_email", TEXT: "staff.document.notified_text"}

LEAD_REFUSAL = "Files are shared only with clients: make this lead a client first."


@dataclass
class Outcome:
    """What a bulk operation did: the documents it changed, and those it refused and why."""

    done: list[Document] = field(default_factory=list)
    refused: list[tuple[Document, str]] = field(default_factory=list)

    @property
    def records(self) -> list[Record]:
        seen: dict[int, Record] = {}
        for document in self.done:
            seen.setdefault(document.record_id, document.record)
        return list(seen.values())


def _by_record(documents: Iterable[Document]) -> dict[int, list[Document]]:
    grouped: dict[int, list[Document]] = defaultdict(list)
    for document in documents:
        grouped[document.record_id].append(document)
    return grouped


def _details(documents: Sequence[Document], **more: object) -> dict[str, object]:
    titles = [document.title for document in documents]
    subject = ", ".join(titles[:5]) + (f" and {len(titles) - 5} more" if len(titles) > 5 else "")
    return {
        "documents": titles,
        "document_ids": [d.id for d in documents],
        "subject": subject,
        **more,
    }


def check_expiry(expires_on: date | None, today: date) -> date | None:
    if expires_on is not None and expires_on < today:
        raise ValidationError(_("Choose an expiry day from today on."), field="expires_on")
    return expires_on


def share(
    documents: Sequence[Document],
    *,
    actor: Actor,
    today: date,
    expires_on: date | None = None,
) -> Outcome:
    """Give the client access to ``documents`` (until ``expires_on``, the last day it shows,
    when given). Documents of leads are refused; those already shared get the new expiry."""
    check_expiry(expires_on, today)
    outcome = Outcome()
    now = utcnow()
    for document in documents:
        if document.record.kind != RecordKind.CLIENT:
            outcome.refused.append((document, LEAD_REFUSAL))
            continue
        if not document.shared:
            document.shared = True
            document.shared_at = now
            document.shared_by_id = actor.user_id
            document_access.log(document, AccessAction.SHARED, actor)
        document.share_expires_on = expires_on
        outcome.done.append(document)
    db.session.flush()
    for batch in _by_record(outcome.done).values():
        events.emit(
            "staff.document.shared",
            actor=actor,
            record=batch[0].record,
            details=_details(batch, expires=expires_on.isoformat() if expires_on else None),
        )
    return outcome


def unshare(documents: Sequence[Document], *, actor: Actor) -> Outcome:
    """Take ``documents`` away from the client at once."""
    outcome = Outcome()
    for document in documents:
        if not document.shared:
            continue
        document.shared = False
        document.share_expires_on = None
        document_access.log(document, AccessAction.UNSHARED, actor)
        outcome.done.append(document)
    db.session.flush()
    for batch in _by_record(outcome.done).values():
        events.emit(
            "staff.document.unshared", actor=actor, record=batch[0].record, details=_details(batch)
        )
    return outcome


def set_expiry(
    documents: Sequence[Document], expires_on: date | None, *, today: date
) -> list[Document]:
    """Change the last day the client sees these documents (None: no end)."""
    check_expiry(expires_on, today)
    for document in documents:
        document.share_expires_on = expires_on
    db.session.flush()
    return list(documents)


def can_text(record: Record) -> bool:
    """A text may go to this client: a mobile number, and their agreement to texts."""
    return bool(record.mobile and record.sms_opt_in)


def notify(documents: Sequence[Document], channel: str, *, actor: Actor, today: date) -> Outcome:
    """Tell each client of ``documents`` (shared, not expired) about them: one message per
    record, by ``channel`` ("email" or "text"). Documents not shared are refused; a record
    without an email address (or mobile and agreement, for a text) is refused with why."""
    if channel not in _NOTICE_EVENTS:
        raise ValidationError(_("Choose email or text."), field="channel")
    outcome = Outcome()
    ready = []
    for document in documents:
        if document.record.kind != RecordKind.CLIENT:
            outcome.refused.append((document, LEAD_REFUSAL))
        elif not document.shared or document.expired(today):
            outcome.refused.append((document, "It is not shared with the client."))
        else:
            ready.append(document)
    for batch in _by_record(ready).values():
        record = batch[0].record
        missing = _cannot_reach(record, channel)
        if missing:
            outcome.refused.extend((document, missing) for document in batch)
            continue
        key, chosen = _NOTICE_EVENTS[channel], Channel.SMS if channel == TEXT else Channel.EMAIL
        # Planned first: a notice that would not reach the client is refused before anything
        # is logged or sent (the log would say the client was told; the agent might hear so).
        planned = plan(key, record, actor, customer_channel=chosen)
        if not any(message.audience == "customer" for message in planned.messages):
            why = "; ".join(s.get("why", "") for s in planned.skipped) or (
                "the notification matrix sends the client nothing for this event"
            )
            outcome.refused.extend((document, why) for document in batch)
            continue
        events.emit(
            key, actor=actor, record=record, details=_details(batch), customer_channel=chosen
        )
        now = utcnow()
        for document in batch:
            document.last_notified_at = now
            document_access.log(document, AccessAction.NOTIFIED, actor, detail=channel)
        outcome.done.extend(batch)
    db.session.flush()
    return outcome


def _cannot_reach(record: Record, channel: str) -> str:
    account = primary_account(record)
    if account is None or account.status == AccountStatus.DISABLED:
        return "The client has no portal access: enable self service first."
    if channel == TEXT and not can_text(record):
        return "The client has no mobile number or has not agreed to texts."
    if channel == EMAIL and not record.email:
        return "The client has no email address."
    return ""
