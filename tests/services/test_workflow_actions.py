"""The registry of workflow action kinds: one class per kind, each checking and describing the
settings it reads."""

import pytest

from app.services.errors import ValidationError
from app.services.workflows import actions
from app.services.workflows.actions import REGISTRY, ActionType, action_type, setting_help
from models import (
    ActionKind,
    ActionStatus,
    ActionTarget,
    Channel,
    ContactMethod,
    DelayUnit,
    MessageTemplate,
    ScheduledAction,
    SignTemplate,
    Workflow,
    WorkflowAction,
    db,
    utcnow,
)
from tests import factories


def _classes(base: type[ActionType]) -> list[type[ActionType]]:
    found = []
    for cls in base.__subclasses__():
        if "key" in vars(cls):
            found.append(cls)
        found += _classes(cls)
    return found


def test_every_action_kind_has_exactly_one_class():
    keys = [cls.key for cls in _classes(ActionType)]
    assert sorted(k.value for k in keys) == sorted(k.value for k in ActionKind)
    assert len(keys) == len(set(keys))
    assert all(type(REGISTRY[kind]).key == kind for kind in ActionKind)
    assert action_type("send_sms") is REGISTRY[ActionKind.SEND_SMS]


def test_every_setting_is_a_field_of_the_action_with_help():
    for found in REGISTRY.values():
        for name, help_text in found.settings.items():
            assert hasattr(WorkflowAction, name) and help_text.endswith(".")
            assert found.label.lower() in setting_help(name)
    assert setting_help("nothing") == ""


def _step(kind, **values):
    return WorkflowAction(
        kind=kind,
        delay_amount=0,
        delay_unit=DelayUnit.MINUTES,
        target=values.pop("target", ActionTarget.RECORD),
        **values,
    )


def _scheduled(kind, **params):
    return ScheduledAction(kind=kind, params={"target": "record", **params})


def test_each_kind_checks_its_settings(ctx):
    db.session.add(
        MessageTemplate(key="hello.email", channel=Channel.EMAIL, name="Hello", body="Hi")
    )
    tag = factories.tag("Registry check")
    db.session.flush()
    # (kind, settings it refuses -> message, settings it takes)
    cases = [
        (ActionKind.ENABLE_SELF_SERVICE, None, {}),
        (
            ActionKind.SEND_EMAIL,
            ({}, "Send email: choose an email template."),
            {"template_key": "hello.email"},
        ),
        (
            ActionKind.SEND_SMS,
            ({"template_key": "hello.email"}, "choose a text message template"),
            None,
        ),
        (ActionKind.CREATE_TASK, ({"task_title": "{{ oops"}, "Create task: "), {}),
        (
            ActionKind.CREATE_CALL,
            ({"task_title": "{% if %}"}, "Create call task: "),
            {"task_title": "Call {{ record.full_name }}"},
        ),
        (ActionKind.ADD_TAG, ({}, "Add tag: choose the tag."), {"tag_id": tag.id}),
        (ActionKind.REMOVE_TAG, ({}, "Remove tag: choose the tag."), {"tag": tag}),
        (
            ActionKind.SEND_SIGN_REQUEST,
            ({"sign_template_id": 0}, "Send sign request: choose the saved sign request."),
            {"sign_template": SignTemplate(name="Annual disclosure")},
        ),
    ]
    assert {case[0] for case in cases} == set(ActionKind)
    for kind, refused, taken in cases:
        if refused is not None:
            values, message = refused
            with pytest.raises(ValidationError, match=message.replace("{", "\\{")):
                action_type(kind).check(_step(kind, **values))
        if taken is not None:
            action_type(kind).check(_step(kind, **taken))


def test_each_kind_describes_a_scheduled_action(ctx):
    record = factories.record(first_name="Ada", last_name="Lovelace")
    tag = factories.tag("Registry check")
    names = {"hello.email": "Hello"}
    described = {
        kind: actions.describe(
            _scheduled(kind, template_key="hello.email", tag_id=tag.id), record, names
        )
        for kind in ActionKind
    }
    assert described == {
        ActionKind.ENABLE_SELF_SERVICE: "",
        ActionKind.SEND_EMAIL: "“Hello”",
        ActionKind.SEND_SMS: "“Hello”",
        ActionKind.CREATE_TASK: "Follow up with Ada Lovelace",
        ActionKind.CREATE_CALL: "Call Ada Lovelace",
        ActionKind.ADD_TAG: "Registry check",
        ActionKind.REMOVE_TAG: "Registry check",
        ActionKind.SEND_SIGN_REQUEST: "(a saved sign request since deleted)",
    }
    to_agent = ScheduledAction(
        kind=ActionKind.SEND_SMS, params={"target": "agent", "template_key": "gone"}
    )
    assert actions.describe(to_agent, record, names) == "“gone” to the agent"


def test_a_workflow_gives_no_portal_access_to_someone_who_never_agreed_to_email(ctx, app):
    """A friend a client referred is a lead without consent to email: a workflow that
    enables self service (on the Referral tag, or on every new record) must not mail a
    stranger a portal link and password. Staff can still enable it by hand."""
    from app.services import portal_credentials

    enable = action_type(ActionKind.ENABLE_SELF_SERVICE)
    workflow = Workflow(name="Welcome new leads")
    stranger = factories.record(email="friend@example.com", email_opt_in=False)
    outcome = enable.perform(
        _scheduled(ActionKind.ENABLE_SELF_SERVICE), workflow, stranger, utcnow()
    )
    assert outcome[0] == ActionStatus.SKIPPED and "not agreed to email" in outcome[1]
    assert portal_credentials.primary_account(stranger) is None
    # Someone who takes texts gets the link by text, as enabling always does.
    texter = factories.record(
        email="texter@example.com",
        email_opt_in=False,
        mobile="+12025550143",
        sms_opt_in=True,
        preferred_contact=ContactMethod.SMS,
    )
    outcome = enable.perform(_scheduled(ActionKind.ENABLE_SELF_SERVICE), workflow, texter, utcnow())
    assert outcome[0] == ActionStatus.DONE
