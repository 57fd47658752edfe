"""Events: every action of a client, a staff member or the system, recorded and fanned out.

Services call :func:`emit` with an event key from the catalogue
(:mod:`app.services.event_catalogue`) and the :class:`Actor` who acted; nothing else decides
notifications. The event's rule (:mod:`app.services.notification_rules`) says what follows: an
activity log entry, a task, messages to the agent, the client and the primary applicant.
:func:`emit` carries that out in the caller's transaction, so an action that rolls back leaves
no entry, task or message behind, and the messages are handed to the workers only after
commit. :func:`preview` shows what an event would do for a record, writing nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from flask import has_request_context, request

from app.services import activity, links, outbox, templates
from app.services.actors import CLIENT, STAFF, SYSTEM, Actor
from app.services.event_catalogue import EventType, emittable
from app.services.notification_rules import (
    Plan,
    PlannedMessage,
    cached_rules,
    logs,
    plan,
    rule_for,
)
from app.services.templates import Rendered
from models import ActivityEntry, Channel, Record, Task, TaskKind, db, utcnow

#: Who acts and the kinds of actor are part of what :func:`emit` takes.
__all__ = [
    "CLIENT",
    "STAFF",
    "SYSTEM",
    "Actor",
    "Emitted",
    "Preview",
    "detail_lines",
    "emit",
    "emit_many",
    "message_context",
    "preview",
    "summary_for",
]


@dataclass
class Emitted:
    entry: ActivityEntry | None
    task: Task | None
    messages: list[Any]
    skipped: list[dict[str, str]]


def summary_for(spec: EventType, actor: Actor, details: dict[str, Any] | None) -> str:
    text = f"{actor.label} {spec.phrase}"
    subject = (details or {}).get("document") or (details or {}).get("subject")
    if isinstance(subject, str) and subject:
        text += f": {subject}"
    return text if text.endswith((".", "!", "?")) else text + "."


def detail_lines(details: dict[str, Any] | None) -> list[str]:
    lines = []
    for field_name, change in ((details or {}).get("changes") or {}).items():
        if isinstance(change, list | tuple) and len(change) == 2:
            lines.append(f"{field_name}: {change[0] or '—'} → {change[1] or '—'}")
    for name in ("message", "reason", "comment"):
        value = (details or {}).get(name)
        if isinstance(value, str) and value:
            lines.append(value)
    return lines


def emit(
    key: str,
    *,
    actor: Actor,
    record: Record | None = None,
    details: dict[str, Any] | None = None,
    customer_channel: Channel | None = None,
    customer_to: tuple[str, str] | None = None,
) -> Emitted:
    """Record an event and fan it out per its rule (the caller commits); ``customer_channel``
    is the channel a staff member chose for the client's message, if any; ``customer_to``
    the (address, name) of the record's person who hears in place of its client."""
    the_plan = plan(key, record, actor, customer_channel=customer_channel, customer_to=customer_to)
    spec = the_plan.event
    details = activity.jsonable(details or {})
    summary = summary_for(spec, actor, details)
    if the_plan.skipped:
        details = {**details, "notifications_skipped": the_plan.skipped}
    ip, user_agent = _request_origin()
    entry = None
    if the_plan.log:
        entry = activity.append(
            event_key=key,
            actor_kind=actor.kind,
            actor_label=actor.label,
            actor_user_id=actor.user_id,
            actor_account_id=actor.account_id,
            record_id=record.id if record else None,
            record_label=record.display_name if record else None,
            summary=summary,
            details=details,
            ip=ip,
            user_agent=user_agent,
        )
    elif the_plan.skipped and key != "system.notification.skipped":
        emit(
            "system.notification.skipped",
            actor=Actor.system(),
            record=record,
            details={"event": key, "skipped": the_plan.skipped},
        )

    task = None
    if the_plan.task is not None and record is not None:
        task = Task(
            title=the_plan.task.title[:200],
            kind=TaskKind.TODO,
            record_id=record.id,
            assignee_id=the_plan.task.assignee_id,
            due_at=utcnow() + timedelta(hours=the_plan.task.due_in_hours),
            notes="\n".join([summary, *detail_lines(details)]),
        )
        db.session.add(task)

    messages = []
    if the_plan.messages:
        if entry is not None:
            db.session.flush()  # the entry's id keys the messages
        occurrence = entry.id if entry is not None else uuid.uuid4().hex
        context = message_context(spec, record, actor, summary, details)
        for planned in the_plan.messages:
            messages.append(
                outbox.send_template(
                    planned.template_key,
                    context,
                    key=f"event:{key}:{occurrence}:{planned.audience}",
                    to=planned.to,
                    to_name=planned.to_name,
                    record_id=record.id if record else None,
                    event_key=key,
                    reply_to=_reply_to(planned, actor, record),
                )
            )
    if task is not None or messages:
        db.session.flush()
    return Emitted(entry, task, messages, the_plan.skipped)


def _reply_to(planned: PlannedMessage, actor: Actor, record: Record | None) -> str | None:
    """Where a reply to an event's message goes: to the client who acted, for the office's
    own mail (the agent answers them straight from the email); otherwise to their agent."""
    if planned.audience == "agent" and actor.kind == CLIENT and actor.email:
        return actor.email
    return templates.reply_address(record)


def emit_many(
    key: str,
    *,
    actor: Actor,
    records: Iterable[Record],
    details_for: Callable[[Record], dict[str, Any]],
) -> int:
    """One event per record, for bulk changes (the caller commits). When the event's rule only
    logs, the entries go in with one insert; otherwise each is emitted in full. Returns how
    many events."""
    spec = emittable(key)
    rule = rule_for(key)
    records = list(records)
    if rule.agent_email or rule.customer_email or rule.primary_applicant_email or rule.create_task:
        with cached_rules():
            for record in records:
                emit(key, actor=actor, record=record, details=details_for(record))
        return len(records)
    if not logs(rule):
        return len(records)
    ip, user_agent = _request_origin()
    entries = []
    for record in records:
        details = activity.jsonable(details_for(record))
        entries.append(
            {
                "event_key": key,
                "actor_kind": actor.kind,
                "actor_label": actor.label,
                "actor_user_id": actor.user_id,
                "actor_account_id": actor.account_id,
                "record_id": record.id,
                "record_label": record.display_name,
                "summary": summary_for(spec, actor, details),
                "details": details,
                "ip": ip,
                "user_agent": user_agent,
            }
        )
    return activity.append_many(entries)


def message_context(
    spec: EventType, record: Record | None, actor: Actor, summary: str, details: dict[str, Any]
) -> dict[str, Any]:
    """What an event's messages are filled in with."""
    context = templates.base_context(record)
    context.update(
        event={"key": spec.key, "label": spec.label},
        summary=summary,
        detail_lines=detail_lines(details),
        actor={"label": actor.label},
        customer_message=spec.customer_message or summary,
        documents=[str(title) for title in details.get("documents") or ()],
        subject=str(details.get("subject") or ""),
        message=str(details.get("message") or ""),
        record_url=links.record(record.id) if record else links.home(),
        review_url=links.review(),
        request_url=_request_url(details.get("conversation")),
        conversation_url=_conversation_url(details.get("conversation"), record),
    )
    return context


def _conversation_url(conversation_id: object, record: Record | None) -> str:
    """The office's page of the conversation an event is about (the record's otherwise)."""
    if isinstance(conversation_id, int):
        return links.staff_conversation(conversation_id)
    return links.record(record.id) if record else links.home()


def _request_url(conversation_id: object) -> str:
    """The client's page of the conversation an event is about (their portal otherwise)."""
    if isinstance(conversation_id, int):
        return links.portal_request(conversation_id)
    return links.portal()


@dataclass
class Preview:
    """What an event would produce for a record: the plan, and each message as it would read."""

    plan: Plan
    rendered: list[tuple[PlannedMessage, Rendered]]
    actor: Actor


def preview(key: str, record: Record, actor: Actor) -> Preview:
    """The notification matrix's preview: what ``key`` would log, task and send for
    ``record`` when ``actor`` acts, its messages rendered strictly (a template that fails
    raises :class:`~app.services.errors.ValidationError`). Nothing is written."""
    the_plan = plan(key, record, actor)
    summary = summary_for(the_plan.event, actor, {})
    context = message_context(the_plan.event, record, actor, summary, {})
    rendered = [
        (message, templates.render(message.template_key, context, strict=True))
        for message in the_plan.messages
    ]
    return Preview(the_plan, rendered, actor)


def _request_origin() -> tuple[str | None, str | None]:
    if not has_request_context():
        return None, None
    return request.remote_addr, request.user_agent.string or None
