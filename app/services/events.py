"""Events: every action of a client, a staff member or the system, and who hears about it.

Services call :func:`emit` with an event key from :data:`CATALOGUE`; nothing else decides
notifications. The office's :class:`NotificationRule` for the key says whether the event is
logged, whether the agent, the client and the primary applicant are emailed (or texted, when
the client prefers it) and whether a task is created; security events (sign-ins, access,
changes to a client's details, approvals) are logged whatever the rule says. Events of
features not built yet are ``planned``: no switches, and emitting one is an error.
:func:`plan` works that out without writing anything (the admin's preview uses it);
:func:`emit` carries it out in the caller's transaction, so an action that rolls back leaves
no entry, task or message behind, and the messages are handed to the workers only after
commit.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from flask import g, has_app_context, has_request_context, request
from sqlalchemy import select

from app.services import activity, links, outbox, templates
from app.services.errors import ValidationError
from models import (
    ActivityEntry,
    Channel,
    ContactMethod,
    NotificationRule,
    PortalAccount,
    Record,
    Task,
    TaskKind,
    User,
    db,
    utcnow,
)

CLIENT, STAFF, SYSTEM = "client", "staff", "system"


@dataclass(frozen=True)
class Defaults:
    agent_email: bool = False
    customer_email: bool = False
    primary_applicant_email: bool = False
    create_task: bool = False
    log_activity: bool = True


@dataclass(frozen=True)
class EventType:
    key: str
    #: Short label for lists and subjects ("Change request (personal)").
    label: str
    #: Who causes it: client, staff or system.
    actor: str
    #: Completes "<actor> …" in the one-line summary.
    phrase: str
    #: What the event's details carry.
    carries: tuple[str, ...] = ()
    defaults: Defaults = field(default_factory=Defaults)
    #: The sentence a client reads when told about it.
    customer_message: str = ""
    #: Belongs to a feature that is not built yet: nothing emits it, so the notification
    #: matrix shows no switches for it and emitting it is an error. The feature that starts
    #: emitting it drops this flag (a test checks that every shown event is emitted).
    planned: bool = False
    #: Why the activity log of this event cannot be switched off (security events: sign-ins,
    #: access, changes to who a client is and how we reach them, approvals); empty when it can.
    always_logged: str = ""


_LOG = Defaults()
_TELL_AGENT = Defaults(agent_email=True)
_TELL_AGENT_TASK = Defaults(agent_email=True, create_task=True)
_TELL_BOTH_TASK = Defaults(agent_email=True, customer_email=True, create_task=True)
_TELL_AGENT_PRIMARY = Defaults(agent_email=True, primary_applicant_email=True)
_TELL_CUSTOMER = Defaults(customer_email=True)


def _event(
    key: str,
    label: str,
    actor: str,
    phrase: str,
    defaults: Defaults = _LOG,
    carries: tuple[str, ...] = (),
    customer_message: str = "",
    *,
    planned: bool = False,
    always_logged: str = "",
) -> EventType:
    return EventType(
        key, label, actor, phrase, carries, defaults, customer_message, planned, always_logged
    )


_SIGN_IN = "Sign-ins, failed sign-ins and pauses are always logged, so misuse can be traced."
_ACCESS = "Who was given or lost access to the portal is always logged."
_DETAILS = (
    "Changes to a client's details (they include the email and mobile used to sign in) "
    "are always logged."
)
_APPROVAL = "Approvals and refusals of a client's changes are always logged."


CATALOGUE: dict[str, EventType] = {
    e.key: e
    for e in (
        # -- client actions ----------------------------------------------------------------
        _event(
            "portal.login.email",
            "Signed in (code by email)",
            CLIENT,
            "signed in with a code sent by email",
            carries=("method",),
            always_logged=_SIGN_IN,
        ),
        _event(
            "portal.login.sms",
            "Signed in (code by text)",
            CLIENT,
            "signed in with a code sent by text message",
            carries=("method",),
            always_logged=_SIGN_IN,
        ),
        _event(
            "portal.login.password",
            "Signed in (password)",
            CLIENT,
            "signed in with a password",
            carries=("method",),
            always_logged=_SIGN_IN,
        ),
        _event(
            "portal.login.failed",
            "Failed sign-in",
            CLIENT,
            "failed to sign in",
            carries=("method", "failures"),
            always_logged=_SIGN_IN,
        ),
        _event(
            "portal.login.locked",
            "Sign-in paused",
            SYSTEM,
            "paused sign-in after repeated failures",
            carries=("until", "failures"),
            always_logged=_SIGN_IN,
        ),
        _event(
            "portal.invitation.accepted",
            "Invitation accepted",
            CLIENT,
            "accepted the portal invitation and chose a password",
            _TELL_AGENT,
            always_logged=_ACCESS,
        ),
        _event(
            "portal.password.changed",
            "Password changed",
            CLIENT,
            "changed their portal password",
            _TELL_CUSTOMER,
            ("how",),
            "The password of your client portal was changed. If this was not you, call "
            "us straight away.",
            always_logged=_SIGN_IN,
        ),
        _event(
            "portal.contact_change.requested",
            "Sign-in email or mobile change asked",
            CLIENT,
            "asked to change the email or mobile they sign in with (a code went to the new one)",
            carries=("field", "new"),
            always_logged=_DETAILS,
        ),
        _event(
            "portal.contact_change.refused",
            "Sign-in email or mobile change refused",
            CLIENT,
            "tried to change someone else's sign-in email or mobile (refused, nothing saved)",
            _TELL_AGENT,
            ("fields", "section"),
            always_logged=_SIGN_IN,
        ),
        _event(
            "portal.document.downloaded",
            "Document downloaded",
            CLIENT,
            "downloaded a document",
            carries=("document",),
            planned=True,
        ),
        _event(
            "portal.document.uploaded",
            "Document uploaded",
            CLIENT,
            "uploaded a document",
            _TELL_AGENT_TASK,
            ("document",),
            planned=True,
        ),
        _event(
            "portal.id_card.downloaded",
            "ID card downloaded",
            CLIENT,
            "downloaded an ID card",
            carries=("product",),
            planned=True,
        ),
        _event(
            "portal.contact_us",
            "Contact us",
            CLIENT,
            "sent a message",
            _TELL_BOTH_TASK,
            ("subject", "message"),
            "We received your message and will get back to you soon.",
            planned=True,
        ),
        _event(
            "portal.change_request.personal",
            "Change request (personal)",
            CLIENT,
            "asked for a change to a personal policy",
            _TELL_BOTH_TASK,
            ("product", "message"),
            "We received your change request and will be in touch.",
            planned=True,
        ),
        _event(
            "portal.change_request.commercial",
            "Change request (commercial)",
            CLIENT,
            "asked for a change to a commercial policy",
            _TELL_BOTH_TASK,
            ("product", "message"),
            "We received your change request and will be in touch.",
            planned=True,
        ),
        _event(
            "portal.request.general",
            "General request",
            CLIENT,
            "sent a request",
            _TELL_BOTH_TASK,
            ("subject", "message"),
            "We received your request and will be in touch.",
            planned=True,
        ),
        _event(
            "portal.request.replied",
            "Request answered",
            CLIENT,
            "replied to a request",
            _TELL_AGENT,
            ("request", "message"),
            planned=True,
        ),
        _event(
            "portal.profile.updated",
            "Personal details updated",
            CLIENT,
            "updated their personal details",
            _TELL_AGENT_PRIMARY,
            ("changes",),
            always_logged=_DETAILS,
        ),
        _event(
            "portal.contact_preferences.updated",
            "Contact preferences updated",
            CLIENT,
            "updated their contact preferences",
            _TELL_AGENT_PRIMARY,
            ("changes",),
            always_logged=_DETAILS,
        ),
        _event(
            "portal.co_applicant.updated",
            "Co-applicant updated",
            CLIENT,
            "updated the co-applicant's details",
            _TELL_AGENT_PRIMARY,
            ("changes",),
            always_logged=_DETAILS,
        ),
        _event(
            "portal.rx.updated",
            "Prescriptions updated",
            CLIENT,
            "updated their prescriptions",
            _TELL_AGENT,
            ("changes",),
        ),
        _event(
            "portal.providers.updated",
            "Providers updated",
            CLIENT,
            "updated their providers",
            _TELL_AGENT,
            ("changes",),
        ),
        _event(
            "portal.certificate_holder.added",
            "Certificate holder added",
            CLIENT,
            "added a certificate holder",
            _TELL_BOTH_TASK,
            ("holder", "certificate"),
            "Your certificate is ready in the portal.",
            planned=True,
        ),
        _event(
            "portal.certificate.downloaded",
            "Certificate downloaded",
            CLIENT,
            "downloaded a certificate",
            carries=("certificate",),
            planned=True,
        ),
        _event(
            "portal.certificate.requested",
            "Certificate requested",
            CLIENT,
            "asked for a new certificate",
            _TELL_BOTH_TASK,
            ("holder", "reason"),
            "We received your certificate request and will be in touch.",
            planned=True,
        ),
        _event(
            "portal.sign_request.signed",
            "Document signed",
            CLIENT,
            "signed a document",
            Defaults(agent_email=True, customer_email=True),
            ("document",),
            "Thank you: your signed document is in the portal.",
            planned=True,
        ),
        _event(
            "portal.review.submitted",
            "Review submitted",
            CLIENT,
            "left a review",
            _TELL_AGENT,
            ("rating", "comment"),
            planned=True,
        ),
        _event(
            "portal.referral",
            "Referral",
            CLIENT,
            "referred someone",
            _TELL_AGENT_TASK,
            ("name", "email", "phone"),
            planned=True,
        ),
        _event(
            "portal.feedback",
            "Feedback",
            CLIENT,
            "sent feedback",
            _TELL_AGENT,
            ("message",),
            planned=True,
        ),
        _event(
            "portal.claim_survey",
            "Claim experience survey",
            CLIENT,
            "answered the claim experience survey",
            _TELL_AGENT,
            ("answers",),
            planned=True,
        ),
        _event(
            "flow.completed",
            "Self-service journey completed",
            CLIENT,
            "completed a self-service journey",
            _TELL_BOTH_TASK,
            ("flow",),
            "Thank you: we received everything. A copy is attached for your records.",
            planned=True,
        ),
        # -- staff actions -------------------------------------------------------------------
        _event(
            "staff.login.failed",
            "Failed staff sign-in",
            STAFF,
            "typed a wrong password at the staff sign-in",
            carries=("failures",),
            always_logged=_SIGN_IN,
        ),
        _event(
            "staff.login.locked",
            "Staff sign-in paused",
            SYSTEM,
            "paused a staff account's sign-in after repeated wrong passwords",
            carries=("user", "until", "failures"),
            always_logged=_SIGN_IN,
        ),
        _event(
            "staff.self_service.enabled",
            "Self service enabled",
            STAFF,
            "enabled self service (new link and password sent)",
            carries=("link_channel",),
            always_logged=_ACCESS,
        ),
        _event(
            "staff.self_service.disabled",
            "Self service disabled",
            STAFF,
            "disabled self service",
            always_logged=_ACCESS,
        ),
        _event(
            "staff.self_service.viewed",
            "Self service viewed",
            STAFF,
            "viewed the client's portal",
            always_logged=_ACCESS,
        ),
        _event(
            "staff.self_service.invited",
            "Invited to the portal",
            STAFF,
            "sent a portal invitation",
            carries=("person", "email"),
            always_logged=_ACCESS,
        ),
        _event(
            "staff.document.shared",
            "Document shared",
            STAFF,
            "shared a document",
            _TELL_CUSTOMER,
            ("document",),
            "A new document is waiting for you in the portal.",
            planned=True,
        ),
        _event(
            "staff.document.unshared",
            "Document unshared",
            STAFF,
            "stopped sharing a document",
            carries=("document",),
            planned=True,
        ),
        _event(
            "staff.certificate.shared",
            "Certificate shared",
            STAFF,
            "shared a certificate",
            _TELL_CUSTOMER,
            ("certificate",),
            "A certificate is waiting for you in the portal.",
            planned=True,
        ),
        _event(
            "staff.request.created",
            "Request sent to client",
            STAFF,
            "sent the client a request",
            _TELL_CUSTOMER,
            ("subject",),
            "We have sent you a request in the portal.",
            planned=True,
        ),
        _event(
            "staff.sign_request.sent",
            "Signature requested",
            STAFF,
            "asked the client to sign a document",
            _TELL_CUSTOMER,
            ("document",),
            "A document is waiting for your signature in the portal.",
            planned=True,
        ),
        _event(
            "staff.review.requested",
            "Review requested",
            STAFF,
            "asked for a review",
            _TELL_CUSTOMER,
            (),
            "We would value your review of our service.",
            planned=True,
        ),
        _event(
            "staff.change.approved",
            "Change approved",
            STAFF,
            "approved a change the client asked for",
            _TELL_CUSTOMER,
            ("changes",),
            "Your changes were approved.",
            always_logged=_APPROVAL,
        ),
        _event(
            "staff.change.rejected",
            "Change rejected",
            STAFF,
            "did not approve a change the client asked for",
            _TELL_CUSTOMER,
            ("changes", "reason"),
            "Some of your changes could not be accepted.",
            always_logged=_APPROVAL,
        ),
        _event(
            "staff.tags.changed",
            "Tags changed",
            STAFF,
            "changed the record's tags",
            carries=("tag", "change"),
        ),
        _event(
            "staff.product.changed",
            "Product or policy changed",
            STAFF,
            "changed a product or policy",
            carries=("product", "change", "changes"),
        ),
        _event(
            "staff.workflow.stopped",
            "Workflow stopped",
            STAFF,
            "stopped a workflow for the record",
            carries=("workflow", "stopped"),
        ),
        _event(
            "staff.workflow.changed",
            "Workflow changed",
            STAFF,
            "changed a workflow",
            carries=("workflow", "change"),
        ),
        # -- system --------------------------------------------------------------------------
        _event(
            "workflow.action.fired",
            "Workflow action",
            SYSTEM,
            "ran a workflow action",
            carries=("workflow", "action", "outcome", "status"),
        ),
        _event(
            "workflow.run.stopped",
            "Workflow stopped by itself",
            SYSTEM,
            "stopped",
            carries=("workflow", "reason"),
        ),
        _event(
            "system.notification.skipped",
            "Notification not sent",
            SYSTEM,
            "could not send a notification",
            carries=("event", "skipped"),
        ),
    )
}

#: The events something in the code emits: the ones the notification matrix offers switches for.
EMITTED: dict[str, EventType] = {key: e for key, e in CATALOGUE.items() if not e.planned}

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


@dataclass(frozen=True)
class Actor:
    kind: str
    label: str
    user_id: int | None = None
    account_id: int | None = None
    email: str | None = None
    #: For clients: True when the acting account is the primary applicant's.
    is_primary: bool = True

    @classmethod
    def staff(cls, user: User) -> Actor:
        return cls(STAFF, user.full_name, user_id=int(user.id), email=str(user.email))

    @classmethod
    def client(cls, account: PortalAccount) -> Actor:
        email = account.email or (account.record.email if account.is_primary else None)
        return cls(
            CLIENT,
            account.person_name,
            account_id=account.id,
            email=email,
            is_primary=account.is_primary,
        )

    @classmethod
    def system(cls, label: str = "Portico") -> Actor:
        return cls(SYSTEM, label)


# -- rules ----------------------------------------------------------------------------------


def default_rule(key: str) -> NotificationRule:
    spec = CATALOGUE[key]
    return NotificationRule(
        event_key=key,
        agent_email=spec.defaults.agent_email,
        customer_email=spec.defaults.customer_email,
        primary_applicant_email=spec.defaults.primary_applicant_email,
        create_task=spec.defaults.create_task,
        log_activity=spec.defaults.log_activity,
        task_due_hours=24,
        **DEFAULT_TEMPLATES,
    )


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
    """Put the default switches and templates back for ``keys`` (all when None)."""
    wanted = keys if keys is not None else list(CATALOGUE)
    restored = []
    for key in wanted:
        if key not in CATALOGUE:
            continue
        fresh = default_rule(key)
        stored = db.session.scalar(
            select(NotificationRule).where(NotificationRule.event_key == key)
        )
        if stored is None:
            db.session.add(fresh)
        else:
            for name in (
                "agent_email",
                "customer_email",
                "primary_applicant_email",
                "create_task",
                "log_activity",
                "task_due_hours",
                *DEFAULT_TEMPLATES,
            ):
                setattr(stored, name, getattr(fresh, name))
        restored.append(key)
    db.session.flush()
    return restored


def ensure_rules() -> list[str]:
    """Create the rules that are missing; never touch edited ones."""
    existing = set(db.session.scalars(select(NotificationRule.event_key)))
    return restore_rules([key for key in CATALOGUE if key not in existing])


def logs(rule: NotificationRule) -> bool:
    """Whether an event of this rule goes in the activity log: security events always do,
    whatever the stored switch says."""
    return bool(rule.log_activity or CATALOGUE[rule.event_key].always_logged)


def save_switches(switches: dict[str, dict[str, bool]]) -> None:
    """Set the matrix's switches: ``switches`` maps an emitted event's key to its switches
    (name: on). Refuses to switch off the log of a security event; events not named keep
    theirs (the caller commits)."""
    stored = rules()
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
        rule = stored[key]
        for name in SWITCHES:
            if name in values:
                setattr(rule, name, bool(values[name]))
        if spec.always_logged:
            rule.log_activity = True
        db.session.add(rule)
    db.session.flush()


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
        spec = templates.spec_for(key)
        found = stored.channel if stored else (spec.channel if spec else None)
        if found is None:
            raise ValidationError(f"There is no template {key!r}.", field=name)
        if found != channel:
            raise ValidationError(f"{key} is not a {channel.label.lower()} template.", field=name)
    if not 0 <= int(rule.task_due_hours) <= 24 * 90:
        raise ValidationError(
            "Tasks are due between 0 hours and 90 days after the event.", field="task_due_hours"
        )


# -- planning and emitting ----------------------------------------------------------------------


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


def _emittable(key: str) -> EventType:
    spec = CATALOGUE.get(key)
    if spec is None:
        raise ValueError(f"unknown event key {key!r}; add it to the catalogue first")
    if spec.planned:
        raise ValueError(
            f"{key} is marked planned in the catalogue: drop the flag now that it is emitted, "
            "so the notification matrix shows its switches"
        )
    return spec


def plan(
    key: str, record: Record | None, actor: Actor, rule: NotificationRule | None = None
) -> Plan:
    """Who would hear about this event, and what would be recorded (nothing is written)."""
    spec = _emittable(key)
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
        if rule.customer_email:
            acting_client = actor.kind == CLIENT
            to = actor.email if acting_client else record.email
            name = actor.label if acting_client else record.full_name
            wants_text = (
                record.preferred_contact == ContactMethod.SMS
                and record.mobile
                and record.sms_opt_in
                and (not acting_client or actor.is_primary)
            )
            if wants_text:
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
) -> Emitted:
    """Record an event and fan it out per its rule (the caller commits)."""
    the_plan = plan(key, record, actor)
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
        context = _context(spec, record, actor, summary, details)
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
                    reply_to=templates.reply_address(record),
                )
            )
    if task is not None or messages:
        db.session.flush()
    return Emitted(entry, task, messages, the_plan.skipped)


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
    spec = _emittable(key)
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


def _context(
    spec: EventType, record: Record | None, actor: Actor, summary: str, details: dict[str, Any]
) -> dict[str, Any]:
    context = templates.base_context(record)
    context.update(
        event={"key": spec.key, "label": spec.label},
        summary=summary,
        detail_lines=detail_lines(details),
        actor={"label": actor.label},
        customer_message=spec.customer_message or summary,
        record_url=links.record(record.id) if record else links.home(),
    )
    return context


def _request_origin() -> tuple[str | None, str | None]:
    if not has_request_context():
        return None, None
    return request.remote_addr, request.user_agent.string or None
