"""Notification rules: per event, what the office wants to follow it.

The office's :class:`NotificationRule` for an event key says whether the event is logged,
whether the agent, the client and the primary applicant are emailed (or texted, when the client
prefers it) and whether a task is created, and with which templates. Each event type of the
catalogue ships with default switches; the admin edits them in the notification matrix, and
security events (sign-ins, access, changes to a client's details, approvals) are logged
whatever the rule says. :func:`plan` works out what an event would do without writing anything;
:mod:`app.services.events` carries the plan out.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from flask import g, has_app_context
from sqlalchemy import select

from app.services import defaults, templates
from app.services.actors import CLIENT, Actor
from app.services.errors import ValidationError
from app.services.event_catalogue import CATALOGUE, EMITTED, EventType, emittable
from app.services.system_templates import spec_for
from models import Channel, ContactMethod, NotificationRule, Record, db

#: The switches of a notification rule, in the matrix's order.
SWITCHES = (
    "agent_email",
    "customer_email",
    "primary_applicant_email",
    "create_task",
    "log_activity",
)

DEFAULT_TEMPLATES = {
    "agent_template_key": "notify.agent",
    "customer_template_key": "notify.customer",
    "customer_sms_template_key": "notify.customer.sms",
    "primary_template_key": "notify.primary",
}

#: What the matrix's "Templates…" page sets on a rule.
TEMPLATE_SETTINGS = (*DEFAULT_TEMPLATES, "task_due_hours")


def _shipped(key: str) -> dict[str, Any]:
    """The switches and templates a rule for ``key`` ships with."""
    spec = CATALOGUE[key]
    return {
        "agent_email": spec.defaults.agent_email,
        "customer_email": spec.defaults.customer_email,
        "primary_applicant_email": spec.defaults.primary_applicant_email,
        "create_task": spec.defaults.create_task,
        "log_activity": spec.defaults.log_activity,
        "task_due_hours": 24,
        **DEFAULT_TEMPLATES,
        **dict(spec.templates),
    }


def default_rule(key: str) -> NotificationRule:
    """The rule ``key`` ships with (not added to the session)."""
    return NotificationRule(event_key=key, **_shipped(key))


def rules() -> dict[str, NotificationRule]:
    stored = {rule.event_key: rule for rule in db.session.scalars(select(NotificationRule))}
    return {key: stored.get(key) or default_rule(key) for key in CATALOGUE}


def rule_for(key: str) -> NotificationRule:
    """The rule for an event (its defaults if none is stored)."""
    cache: dict[str, NotificationRule] | None = (
        g.get("_notification_rules") if has_app_context() else None
    )
    if cache is not None and key in cache:
        return cache[key]
    stored = db.session.scalar(select(NotificationRule).where(NotificationRule.event_key == key))
    rule = stored or default_rule(key)
    if cache is not None:
        cache[key] = rule
    return rule


@contextmanager
def cached_rules() -> Iterator[None]:
    """Inside this block each rule is read once: for jobs that emit thousands of events.
    Blocks nest: the outermost one owns the cache."""
    if g.get("_notification_rules") is not None:
        yield
        return
    g._notification_rules = {}
    try:
        yield
    finally:
        g.pop("_notification_rules", None)


def restore_rules(keys: list[str] | None = None) -> list[str]:
    """The matrix's "Restore default(s)": put the shipped switches and templates back for
    ``keys`` (all when None), creating missing rules. Returns the keys restored."""
    shipped = {key: _shipped(key) for key in CATALOGUE}
    return defaults.restore(NotificationRule, "event_key", shipped, keys)


def ensure_rules() -> list[str]:
    """Create the rules that are missing; never touch edited ones (seeding)."""
    shipped = {key: _shipped(key) for key in CATALOGUE}
    return defaults.restore(NotificationRule, "event_key", shipped, missing_only=True)


def logs(rule: NotificationRule) -> bool:
    """Whether an event of this rule goes in the activity log: security events always do,
    whatever the stored switch says."""
    return bool(rule.log_activity or CATALOGUE[rule.event_key].always_logged)


def save_switches(switches: dict[str, dict[str, bool]]) -> None:
    """Set the matrix's switches: ``switches`` maps an emitted event's key to its switches
    (name: on). Refuses, before changing anything, to switch off the log of a security event;
    events not named keep theirs (the caller commits)."""
    for key, values in switches.items():
        spec = EMITTED.get(key)
        if spec is None:
            raise ValidationError(f"There are no switches for the event {key!r}.")
        if spec.always_logged and values.get("log_activity") is False:
            raise ValidationError(
                f"The activity log of {spec.label} cannot be switched off: "
                f"{spec.always_logged[0].lower()}{spec.always_logged[1:]}",
                field=key,
            )
    stored = rules()
    for key, values in switches.items():
        rule = stored[key]
        for name in SWITCHES:
            if name in values:
                setattr(rule, name, bool(values[name]))
        if EMITTED[key].always_logged:
            rule.log_activity = True
        db.session.add(rule)
    db.session.flush()


def save_templates(key: str, values: Mapping[str, Any]) -> NotificationRule:
    """The matrix's "Templates…" page: set the templates and the task's due hours of an
    emitted event's rule (:data:`TEMPLATE_SETTINGS`; others named are ignored). Checked with
    :func:`check_rule` before anything changes; the caller commits."""
    if key not in EMITTED:
        raise ValidationError(f"There are no settings for the event {key!r}.")
    rule = rule_for(key)
    wanted = {name: values[name] for name in TEMPLATE_SETTINGS if name in values}
    current = {name: getattr(rule, name) for name in TEMPLATE_SETTINGS}
    check_rule(NotificationRule(event_key=key, **{**current, **wanted}))
    for name, value in wanted.items():
        setattr(rule, name, value)
    db.session.add(rule)
    db.session.flush()
    return rule


def check_rule(rule: NotificationRule) -> None:
    """Template keys must exist and be of the right channel; due hours sensible."""
    wanted = {
        "agent_template_key": Channel.EMAIL,
        "customer_template_key": Channel.EMAIL,
        "primary_template_key": Channel.EMAIL,
        "customer_sms_template_key": Channel.SMS,
    }
    for name, channel in wanted.items():
        key = getattr(rule, name)
        stored = templates.get_template(key)
        spec = spec_for(key)
        found = stored.channel if stored else (spec.channel if spec else None)
        if found is None:
            raise ValidationError(f"There is no template {key!r}.", field=name)
        if found != channel:
            raise ValidationError(f"{key} is not a {channel.label.lower()} template.", field=name)
    if not 0 <= int(rule.task_due_hours) <= 24 * 90:
        raise ValidationError(
            "Tasks are due between 0 hours and 90 days after the event.", field="task_due_hours"
        )


# -- planning -------------------------------------------------------------------------------


@dataclass
class PlannedMessage:
    audience: str  # agent, customer, primary
    channel: Channel
    to: str
    to_name: str
    template_key: str


@dataclass
class PlannedTask:
    title: str
    assignee_id: int | None
    due_in_hours: int


@dataclass
class Plan:
    event: EventType
    log: bool
    messages: list[PlannedMessage]
    task: PlannedTask | None
    skipped: list[dict[str, str]]


def plan(
    key: str,
    record: Record | None,
    actor: Actor,
    rule: NotificationRule | None = None,
    *,
    customer_channel: Channel | None = None,
    customer_to: tuple[str, str] | None = None,
) -> Plan:
    """Who would hear about this event, and what would be recorded (nothing is written).
    ``customer_channel`` is the channel a staff member chose for the client's message (a
    notice of shared documents "by email" or "by text"); otherwise the client's preference
    decides. A text goes only to a mobile whose owner agreed to texts. ``customer_to``
    (address, name) is the person of the record a staff member answers (a contact person who
    wrote to the office): they hear by email, in place of the record's client."""
    spec = emittable(key)
    rule = rule or rule_for(key)
    messages: list[PlannedMessage] = []
    skipped: list[dict[str, str]] = []
    addressed: set[str] = set()

    def add(
        audience: str, channel: Channel, to: str | None, name: str, template: str, missing: str
    ) -> None:
        if not to:
            skipped.append({"to": audience, "why": missing})
            return
        if to.lower() in addressed:
            return  # nobody hears twice about one event
        addressed.add(to.lower())
        messages.append(PlannedMessage(audience, channel, to, name, template))

    if record is None and (
        rule.agent_email or rule.customer_email or rule.primary_applicant_email or rule.create_task
    ):
        skipped.append({"to": "everyone", "why": "the event is not about a record"})
    if record is not None:
        if rule.agent_email:
            agent = record.assigned_agent
            office = templates.office_context()["email"]
            to = str(agent.email) if agent and agent.active else office
            add(
                "agent",
                Channel.EMAIL,
                to,
                agent.full_name if agent else "Office",
                rule.agent_template_key,
                "no agent is assigned and no office address is set",
            )
        if rule.customer_email and customer_to is not None:
            add(
                "customer",
                Channel.EMAIL,
                customer_to[0],
                customer_to[1],
                rule.customer_template_key,
                "no email address for the client",
            )
        elif rule.customer_email:
            acting_client = actor.kind == CLIENT
            to = actor.email if acting_client else record.email
            name = actor.label if acting_client else record.full_name
            wants_text = (
                record.preferred_contact == ContactMethod.SMS
                and record.mobile
                and record.sms_opt_in
                and (not acting_client or actor.is_primary)
            )
            if customer_channel == Channel.SMS and not (record.mobile and record.sms_opt_in):
                skipped.append(
                    {"to": "customer", "why": "the client has no mobile or has not agreed to texts"}
                )
            elif customer_channel == Channel.SMS or (customer_channel is None and wants_text):
                add(
                    "customer",
                    Channel.SMS,
                    record.mobile,
                    name,
                    rule.customer_sms_template_key,
                    "no mobile number",
                )
            else:
                add(
                    "customer",
                    Channel.EMAIL,
                    to,
                    name,
                    rule.customer_template_key,
                    "no email address for the client",
                )
        if rule.primary_applicant_email and actor.kind == CLIENT and not actor.is_primary:
            add(
                "primary",
                Channel.EMAIL,
                record.email,
                record.full_name,
                rule.primary_template_key,
                "the primary applicant has no email address",
            )
    task = None
    if rule.create_task and record is not None:
        # Name who acted: a co-applicant's sign-in is theirs, not the primary applicant's.
        who = record.display_name
        if actor.kind == CLIENT and not actor.is_primary:
            who = f"{actor.label}, for {record.display_name}"
        task = PlannedTask(f"{spec.label}: {who}", record.assigned_agent_id, rule.task_due_hours)
    return Plan(spec, logs(rule), messages, task, skipped)
