"""What a workflow action can do: one class per :class:`~models.ActionKind`, found by key.

Each class holds its settings (the fields of the action it reads, each with its help text),
checks them before a workflow is saved, says in words what a scheduled action of its kind will
do, and performs it when it fires. A new kind of action is a new class here, registered with
``@kind``, and a member of ``ActionKind``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import select

from app.services import (
    outbox,
    portal_accounts,
    portal_credentials,
    system_templates,
    tagging,
    templates,
)
from app.services.errors import ValidationError
from app.services.events import Actor
from app.services.workflows.runs import evaluate
from models import (
    ActionKind,
    ActionStatus,
    ActionTarget,
    Channel,
    ContactMethod,
    MessageTemplate,
    Record,
    ScheduledAction,
    Tag,
    Task,
    TaskKind,
    User,
    Workflow,
    WorkflowAction,
    db,
)

Outcome = tuple[ActionStatus, str]


class ActionType:
    """One kind of action. Subclasses set ``key`` and ``settings`` and override what differs."""

    key: ClassVar[ActionKind]
    #: The fields of a :class:`~models.WorkflowAction` this kind reads (besides its delay and
    #: target), each with what it is for: the admin form's help, and what :meth:`check` checks.
    settings: ClassVar[dict[str, str]] = {}
    #: Performing it puts tags on or off the record (so its matches are checked afresh).
    changes_tags: ClassVar[bool] = False

    @property
    def label(self) -> str:
        return self.key.label

    def check(self, action: WorkflowAction) -> None:
        """Raise ValidationError if the action's settings do not do for this kind."""

    def describe(
        self, action: ScheduledAction, record: Record, template_names: dict[str, str] | None
    ) -> str:
        """What the scheduled action will do, in words for staff ("" when the label says it)."""
        return ""

    def perform(
        self, action: ScheduledAction, workflow: Workflow, record: Record, now: datetime
    ) -> Outcome:
        raise NotImplementedError


REGISTRY: dict[ActionKind, ActionType] = {}


def kind(cls: type[ActionType]) -> type[ActionType]:
    """Register the class as the one for its key."""
    if cls.key in REGISTRY:
        raise RuntimeError(f"two classes for the action kind {cls.key.value}")
    REGISTRY[cls.key] = cls()
    return cls


def action_type(key: ActionKind | str) -> ActionType:
    """The registered class (its one instance) for an action kind, by member or by value."""
    return REGISTRY[ActionKind(key)]


def setting_help(name: str) -> str:
    """The admin form's help for one setting: which kinds use it, and what for."""
    users = [t for t in REGISTRY.values() if name in t.settings]
    if not users:
        return ""
    return f"For {', '.join(t.label.lower() for t in users)}: {users[0].settings[name]}"


def template_names_by_key() -> dict[str, str]:
    rows = db.session.execute(select(MessageTemplate.key, MessageTemplate.name))
    return {key: name for key, name in rows}


def recipient(action: ScheduledAction, record: Record) -> User | None:
    """The staff member a scheduled action is for (its target), if any."""
    target = action.params.get("target")
    if target == ActionTarget.AGENT.value:
        return record.assigned_agent
    if target == ActionTarget.STAFF.value:
        return db.session.get(User, action.params.get("staff_user_id") or 0)
    return None


@kind
class EnableSelfService(ActionType):
    key = ActionKind.ENABLE_SELF_SERVICE

    def perform(
        self, action: ScheduledAction, workflow: Workflow, record: Record, now: datetime
    ) -> Outcome:
        account = portal_credentials.primary_account(record)
        if account is not None and account.status.value == "enabled":
            return ActionStatus.SKIPPED, "Self service was already enabled."
        by_text = (
            record.preferred_contact == ContactMethod.SMS and record.sms_opt_in and record.mobile
        )
        if not by_text and not record.email_opt_in:
            # Someone who never agreed to email (a friend a client referred, say) gets no
            # portal access by automation; staff can still enable it from the record.
            return ActionStatus.SKIPPED, (
                "The client has not agreed to email: a workflow does not send them portal "
                "access (staff can, from the record)."
            )
        try:
            portal_accounts.enable_self_service(record, Actor.system(f"Workflow: {workflow.name}"))
        except ValidationError as exc:
            return ActionStatus.SKIPPED, exc.message
        return ActionStatus.DONE, "Self service enabled: link and password sent."


class SendMessage(ActionType):
    """An email or a text from a template, to the client or to staff."""

    channel: ClassVar[Channel]
    which: ClassVar[str]  # "an email", "a text message"
    settings = {"template_key": "the template to send (not one that carries credentials)."}
    #: A message to the client: the record's address for it, the consent it needs, and what
    #: to say when the consent or the address is missing.
    address: ClassVar[str]
    consent: ClassVar[str]
    no_consent: ClassVar[str]
    no_address: ClassVar[str]
    #: Why a dry run counts some records as not reached.
    skip_reason: ClassVar[str]

    def check(self, action: WorkflowAction) -> None:
        spec = system_templates.spec_for(action.template_key or "")
        stored = templates.get_template(action.template_key or "")
        found = stored.channel if stored else (spec.channel if spec else None)
        if found != self.channel:
            raise ValidationError(f"{self.label}: choose {self.which} template.", field="actions")
        if spec is not None and spec.required:
            raise ValidationError(
                f"{self.label}: {action.template_key} carries credentials "
                "and is sent only by its own feature.",
                field="actions",
            )

    def describe(
        self, action: ScheduledAction, record: Record, template_names: dict[str, str] | None
    ) -> str:
        params = action.params or {}
        to = {
            ActionTarget.AGENT.value: " to the agent",
            ActionTarget.STAFF.value: " to chosen staff",
        }.get(params.get("target") or "", "")
        key = params.get("template_key") or ""
        names = template_names if template_names is not None else template_names_by_key()
        return f"“{names.get(key, key)}”{to}"

    def perform(
        self, action: ScheduledAction, workflow: Workflow, record: Record, now: datetime
    ) -> Outcome:
        """Queue the email or text, or say why not. The client's own choices come first: a
        client who opted out of email or has not agreed to texts is skipped (staff always get
        theirs). A message meant for staff never goes to the client: with no agent assigned
        (or the chosen staff member gone or deactivated) an email goes to the office address,
        a text is skipped."""
        target = action.params.get("target")
        for_staff = target in (ActionTarget.AGENT.value, ActionTarget.STAFF.value)
        staff = recipient(action, record)
        who = ""
        if for_staff and (staff is None or not staff.active):
            staff = None
            who = (
                "the record has no active agent"
                if target == ActionTarget.AGENT.value
                else "the chosen staff member is no longer active"
            )
        to_name = staff.full_name if staff else ("Office" if for_staff else record.full_name)
        if not for_staff:
            to = getattr(record, self.address)
            if not getattr(record, self.consent):
                return ActionStatus.SKIPPED, self.no_consent
            if not to:
                return ActionStatus.SKIPPED, self.no_address
        else:
            to, refused = self.staff_address(staff, who)
            if refused:
                return ActionStatus.SKIPPED, refused
        message = outbox.send_template(
            action.params.get("template_key") or "",
            templates.base_context(record),
            key=f"workflow-action:{action.id}",
            to=str(to),
            to_name=to_name if self.channel == Channel.EMAIL else None,
            record_id=record.id,
            event_key="workflow.action.fired",
        )
        return ActionStatus.DONE, self.queued(message.subject, str(to))

    def staff_address(self, staff: User | None, who: str) -> tuple[Any, str]:
        """Where a message for staff goes, or why it is not sent."""
        raise NotImplementedError

    def queued(self, subject: str | None, to: str) -> str:
        raise NotImplementedError


@kind
class SendEmail(SendMessage):
    key = ActionKind.SEND_EMAIL
    channel = Channel.EMAIL
    which = "an email"
    address, consent = "email", "email_opt_in"
    no_consent = "The client has opted out of email."
    no_address = "No email address to send to."
    skip_reason = "opted out of email, or no address"

    def staff_address(self, staff: User | None, who: str) -> tuple[Any, str]:
        to = staff.email if staff else templates.office_context()["email"]
        return to, "" if to else f"Not sent: {who} and no office address is set."

    def queued(self, subject: str | None, to: str) -> str:
        return f"Email “{subject}” queued to {to}."


@kind
class SendSms(SendMessage):
    key = ActionKind.SEND_SMS
    channel = Channel.SMS
    which = "a text message"
    address, consent = "mobile", "sms_opt_in"
    no_consent = "The client has not agreed to text messages."
    no_address = "No mobile number to text."
    skip_reason = "no consent to texts, or no mobile number"

    def staff_address(self, staff: User | None, who: str) -> tuple[Any, str]:
        to = staff.phone if staff else None
        if to:
            return to, ""
        reason = who if staff is None else f"{staff.full_name} has no phone number"
        return None, f"Not sent: {reason}."

    def queued(self, subject: str | None, to: str) -> str:
        return f"Text message queued to {to}."


def reachable_kinds() -> dict[ActionKind, SendMessage]:
    """The kinds that message the client, who may not be reachable (a dry run counts them)."""
    return {k: t for k, t in REGISTRY.items() if isinstance(t, SendMessage)}


class CreateTask(ActionType):
    """A to-do (or a call) for the target staff member, else the record's agent."""

    task_kind: ClassVar[TaskKind] = TaskKind.TODO
    default_title: ClassVar[str] = "Follow up with {{ record.full_name }}"
    settings = {"task_title": "the task's title; may use {{ record.full_name }}."}

    def check(self, action: WorkflowAction) -> None:
        if not action.task_title:
            return
        try:
            templates.render_text(action.task_title, templates.base_context(None))
        except ValidationError as exc:
            raise ValidationError(f"{self.label}: {exc.message}", field="actions") from None

    def title(self, action: ScheduledAction, record: Record) -> str:
        raw = action.params.get("task_title") or self.default_title
        try:
            return templates.render_text(raw, templates.base_context(record))[:200]
        except ValidationError:
            return raw[:200]

    def describe(
        self, action: ScheduledAction, record: Record, template_names: dict[str, str] | None
    ) -> str:
        return self.title(action, record)

    def perform(
        self, action: ScheduledAction, workflow: Workflow, record: Record, now: datetime
    ) -> Outcome:
        staff = recipient(action, record)
        assignee = staff if action.params.get("target") != ActionTarget.RECORD.value else None
        assignee = assignee or record.assigned_agent
        title = self.title(action, record)
        db.session.add(
            Task(
                title=title,
                kind=self.task_kind,
                record_id=record.id,
                assignee_id=assignee.id if assignee else None,
                due_at=now,
                notes=f"From the workflow {workflow.name}.",
            )
        )
        return ActionStatus.DONE, f"Task created: {title}" + (
            f" for {assignee.full_name}." if assignee else " (nobody assigned)."
        )


@kind
class CreateTodo(CreateTask):
    key = ActionKind.CREATE_TASK


@kind
class CreateCall(CreateTask):
    key = ActionKind.CREATE_CALL
    task_kind = TaskKind.CALL
    default_title = "Call {{ record.full_name }}"


class ChangeTag(ActionType):
    """Put a tag on the record or take it off; the workflows the tag concerns follow."""

    settings = {"tag": "the tag to put on or take off."}
    changes_tags = True
    change: ClassVar[Callable[[list[int], Tag], list[int]]]
    done: ClassVar[tuple[str, str]]  # (changed, unchanged), formatted with the tag's name

    def check(self, action: WorkflowAction) -> None:
        if not (action.tag_id or action.tag):
            raise ValidationError(f"{self.label}: choose the tag.", field="actions")

    def describe(
        self, action: ScheduledAction, record: Record, template_names: dict[str, str] | None
    ) -> str:
        tag = db.session.get(Tag, (action.params or {}).get("tag_id") or 0)
        return tag.name if tag else "(a tag since deleted)"

    def perform(
        self, action: ScheduledAction, workflow: Workflow, record: Record, now: datetime
    ) -> Outcome:
        tag = db.session.get(Tag, action.params.get("tag_id") or 0)
        if tag is None:
            return ActionStatus.SKIPPED, "The tag no longer exists."
        changed = type(self).change([record.id], tag)
        if changed:
            evaluate(changed, tag_ids={tag.id})
        return ActionStatus.DONE, self.done[0 if changed else 1].format(tag.name)


@kind
class AddTag(ChangeTag):
    key = ActionKind.ADD_TAG
    change = tagging.put
    done = ("Tagged {}.", "Already tagged {}.")


@kind
class RemoveTag(ChangeTag):
    key = ActionKind.REMOVE_TAG
    change = tagging.take_off
    done = ("Removed the tag {}.", "Was not tagged {}.")


def describe(
    action: ScheduledAction, record: Record, template_names: dict[str, str] | None = None
) -> str:
    """What a scheduled action will do, in words for staff: the template it sends (by name),
    the task it makes (its title, filled in for the record), the tag it puts or takes off."""
    return action_type(action.kind).describe(action, record, template_names)


def perform(action: ScheduledAction, workflow: Workflow, record: Record, now: datetime) -> Outcome:
    found = REGISTRY.get(action.kind)
    if found is None:
        return ActionStatus.SKIPPED, f"Unknown action {action.kind}."
    return found.perform(action, workflow, record, now)


# Kinds kept in modules of their own register themselves on import (they import this one).
from app.services.workflows import sign_action  # noqa: E402, F401
