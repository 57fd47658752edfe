"""The shape of an event type, the notification presets events start from, and why some
events are always logged."""

from __future__ import annotations

from dataclasses import dataclass, field

from app.services.actors import CLIENT, STAFF, SYSTEM

__all__ = ["CLIENT", "STAFF", "SYSTEM", "Defaults", "EventType", "event"]


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
    #: Templates this event's rule ships with instead of the general ones, as
    #: (rule setting, template key) pairs: a notice that says more than the general one.
    templates: tuple[tuple[str, str], ...] = ()


LOG = Defaults()
TELL_AGENT = Defaults(agent_email=True)
TELL_AGENT_TASK = Defaults(agent_email=True, create_task=True)
TELL_BOTH_TASK = Defaults(agent_email=True, customer_email=True, create_task=True)
TELL_AGENT_PRIMARY = Defaults(agent_email=True, primary_applicant_email=True)
TELL_CUSTOMER = Defaults(customer_email=True)
#: The agent, the client who acted and (the household rule: when a co-applicant or a contact
#: person acted) the primary applicant; and a task.
TELL_HOUSEHOLD_TASK = Defaults(
    agent_email=True, customer_email=True, primary_applicant_email=True, create_task=True
)


def event(
    key: str,
    label: str,
    actor: str,
    phrase: str,
    defaults: Defaults = LOG,
    carries: tuple[str, ...] = (),
    customer_message: str = "",
    *,
    planned: bool = False,
    always_logged: str = "",
    templates: tuple[tuple[str, str], ...] = (),
) -> EventType:
    return EventType(
        key,
        label,
        actor,
        phrase,
        carries,
        defaults,
        customer_message,
        planned,
        always_logged,
        templates,
    )


SIGN_IN = "Sign-ins, failed sign-ins and pauses are always logged, so misuse can be traced."
ACCESS = "Who was given or lost access to the portal is always logged."
DETAILS = (
    "Changes to a client's details (they include the email and mobile used to sign in) "
    "are always logged."
)
APPROVAL = "Approvals and refusals of a client's changes are always logged."
