"""Every event key, every switch: exactly the entries, tasks and messages the rule asks for."""

import re
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.services import events, notification_rules
from app.services.errors import ValidationError
from app.services.event_catalogue import CATALOGUE, EMITTED
from app.services.event_catalogue.base import event
from app.services.events import Actor
from app.services.portal_settings import get_settings
from models import (
    ActivityEntry,
    Channel,
    Contact,
    ContactMethod,
    ContactRole,
    NotificationRule,
    OutboxMessage,
    Task,
    db,
)
from tests import factories

KEYS = sorted(CATALOGUE)
EMITTED_KEYS = sorted(EMITTED)
ROOT = Path(__file__).resolve().parents[2]
SWITCHES = (
    "agent_email",
    "customer_email",
    "primary_applicant_email",
    "create_task",
    "log_activity",
)


def count(model):
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def household(ctx):
    agent = factories.staff(email="agent.amy@example.com", first_name="Amy")
    record = factories.record(
        first_name="Paula",
        last_name="Primary",
        email="paula@example.com",
        assigned_agent_id=agent.id,
    )
    contact = Contact(
        record_id=record.id,
        role=ContactRole.CONTACT_PERSON,
        first_name="Cole",
        last_name="Contact",
        email="cole@example.com",
    )
    db.session.add(contact)
    db.session.commit()
    return {"agent": agent, "record": record, "contact": contact}


def actor_for(key, household):
    spec = CATALOGUE[key]
    if spec.actor == "staff":
        return Actor.staff(household["agent"])
    if spec.actor == "system":
        return Actor.system()
    contact = household["contact"]
    return Actor(
        "client", contact.full_name, account_id=None, email=contact.email, is_primary=False
    )


@pytest.mark.parametrize("key", KEYS)
def test_every_event_has_a_stored_default_rule(ctx, key):
    rule = db.session.scalar(select(NotificationRule).where(NotificationRule.event_key == key))
    assert rule is not None, f"{key} has no seeded rule: add it to the catalogue's defaults"
    defaults = CATALOGUE[key].defaults
    assert [getattr(rule, s) for s in SWITCHES] == [getattr(defaults, s) for s in SWITCHES]


@pytest.mark.parametrize("key", EMITTED_KEYS)
@pytest.mark.parametrize("switch", SWITCHES)
def test_each_switch_does_exactly_its_job(household, key, switch):
    rule = notification_rules.rule_for(key)
    for name in SWITCHES:
        setattr(rule, name, False)
    db.session.add(rule)
    db.session.commit()
    record, actor = household["record"], actor_for(key, household)
    always = 1 if CATALOGUE[key].always_logged else 0

    events.emit(key, actor=actor, record=record, details={"message": "hello"})
    db.session.commit()
    assert (count(ActivityEntry), count(Task), count(OutboxMessage)) == (always, 0, 0)

    setattr(rule, switch, True)
    db.session.commit()
    emitted = events.emit(key, actor=actor, record=record, details={"message": "hello"})
    db.session.commit()
    entries = db.session.scalars(select(ActivityEntry).order_by(ActivityEntry.id)).all()[always:]
    tasks = db.session.scalars(select(Task)).all()
    messages = db.session.scalars(select(OutboxMessage)).all()

    assert len(entries) == (1 if switch == "log_activity" or always else 0)
    if entries:
        assert entries[0].event_key == key and entries[0].record_id == record.id
        assert entries[0].actor_label == actor.label
    assert len(tasks) == (1 if switch == "create_task" else 0)
    if tasks:
        assert tasks[0].assignee_id == household["agent"].id
        who = "Cole Contact, for Paula Primary" if actor.kind == "client" else "Paula Primary"
        assert tasks[0].title == f"{CATALOGUE[key].label}: {who}"
    expected = {
        "agent_email": ["agent.amy@example.com"],
        "customer_email": ["cole@example.com" if actor.kind == "client" else "paula@example.com"],
        "primary_applicant_email": ["paula@example.com"] if actor.kind == "client" else [],
    }.get(switch, [])
    assert [m.recipient for m in messages] == expected
    assert all(m.event_key == key and m.record_id == record.id for m in messages)
    assert len(emitted.messages) == len(expected)


def test_primary_applicant_hears_only_when_someone_else_acted(household):
    rule = notification_rules.rule_for("portal.profile.updated")
    rule.agent_email = False
    db.session.add(rule)
    record = household["record"]
    primary = Actor("client", "Paula Primary", email="paula@example.com", is_primary=True)
    events.emit("portal.profile.updated", actor=primary, record=record)
    assert count(OutboxMessage) == 0
    events.emit(
        "portal.profile.updated",
        actor=actor_for("portal.profile.updated", household),
        record=record,
    )
    assert [m.recipient for m in db.session.scalars(select(OutboxMessage))] == ["paula@example.com"]


def test_nobody_hears_twice_about_one_event(household):
    record = household["record"]
    record.email = household["agent"].email  # the agent is also the client here
    rule = notification_rules.rule_for("staff.change.approved")
    rule.agent_email = rule.customer_email = True
    db.session.add(rule)
    events.emit(
        "staff.change.approved",
        actor=Actor.staff(household["agent"]),
        record=record,
        details={"changes": {"Phone": ["1", "2"]}},
    )
    assert count(OutboxMessage) == 1


def test_no_email_address_means_no_email_and_a_note_why(household):
    record = household["record"]
    record.email = None
    events.emit("staff.change.approved", actor=Actor.staff(household["agent"]), record=record)
    assert count(OutboxMessage) == 0
    entry = db.session.scalar(select(ActivityEntry))
    assert entry.details["notifications_skipped"] == [
        {"to": "customer", "why": "no email address for the client"}
    ]


def test_a_skipped_notification_is_noted_even_when_the_event_is_not_logged(household):
    record = household["record"]
    record.email = None
    rule = notification_rules.rule_for("staff.tags.changed")
    rule.log_activity = False
    rule.customer_email = True
    db.session.add(rule)
    events.emit("staff.tags.changed", actor=Actor.staff(household["agent"]), record=record)
    [entry] = db.session.scalars(select(ActivityEntry)).all()
    assert entry.event_key == "system.notification.skipped"
    assert entry.details["event"] == "staff.tags.changed"


def test_agent_email_falls_back_to_the_office(household):
    record = household["record"]
    record.assigned_agent_id = None
    db.session.flush()
    db.session.expire(record)
    get_settings().office_email = "office@example.com"
    events.emit(
        "portal.rx.updated",
        actor=actor_for("portal.rx.updated", household),
        record=record,
        details={"message": "Call me"},
    )
    recipients = {m.recipient for m in db.session.scalars(select(OutboxMessage))}
    assert "office@example.com" in recipients


def test_clients_who_prefer_texts_get_a_text(household):
    record = household["record"]
    record.preferred_contact = ContactMethod.SMS
    record.mobile = "+12025550143"
    record.sms_opt_in = True
    events.emit(
        "staff.change.approved",
        actor=Actor.staff(household["agent"]),
        record=record,
        details={"changes": {"Phone": ["1", "2"]}},
    )
    [message] = db.session.scalars(select(OutboxMessage)).all()
    assert (message.channel, message.recipient) == (Channel.SMS, "+12025550143")
    assert "Your changes were approved." in message.body_text


def test_messages_say_what_happened(household):
    events.emit(
        "portal.profile.updated",
        actor=actor_for("portal.profile.updated", household),
        record=household["record"],
        details={"changes": {"Phone": ["(202) 555-0143", "(202) 555-0199"]}},
    )
    agent_mail = db.session.scalar(
        select(OutboxMessage).where(OutboxMessage.recipient == "agent.amy@example.com")
    )
    assert agent_mail.subject == "Personal details updated: Paula Primary"
    assert "Cole Contact updated their personal details." in agent_mail.body_text
    assert "Phone: (202) 555-0143 → (202) 555-0199" in agent_mail.body_text
    # The agent answers the client who acted straight from the email.
    assert agent_mail.reply_to == "cole@example.com"


def test_an_action_that_rolls_back_leaves_nothing(app):
    from app.redis import get_redis

    with app.app_context():
        record = factories.record(email="roll@example.com")
        events.emit(
            "staff.change.approved",
            actor=Actor.system("Test"),
            record=record,
            details={"subject": "Phone"},
        )
        db.session.rollback()
        assert (count(ActivityEntry), count(OutboxMessage)) == (0, 0)
        assert get_redis().llen("rq:queue:email") == 0


def test_unknown_event_keys_are_a_programming_error(ctx):
    with pytest.raises(ValueError, match="unknown event key"):
        events.emit("portal.teleported", actor=Actor.system())


def test_request_origin_is_recorded(app):
    with app.test_request_context(
        environ_base={"REMOTE_ADDR": "203.0.113.9"}, headers={"User-Agent": "TestBrowser/1.0"}
    ):
        record = factories.record()
        entry = events.emit("staff.self_service.viewed", actor=Actor.system(), record=record).entry
        assert (entry.ip, entry.user_agent) == ("203.0.113.9", "TestBrowser/1.0")
        db.session.rollback()


# -- what the matrix shows, and what is always logged ------------------------------------------


def _source_outside_the_catalogue():
    """Our Python source, less the catalogue (naming a key there emits nothing). Models
    count: a request type's event is a choice of the model's (RequestEvent), emitted as such."""
    catalogue = ROOT / "app" / "services" / "event_catalogue"
    for folder in ("app", "models", "portal", "admin_views", "jobs"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            if not path.is_relative_to(catalogue):
                yield path, path.read_text(encoding="utf-8")


def test_every_event_the_matrix_shows_is_emitted_somewhere():
    """A switch for an event nothing emits does nothing: when a feature lands, it drops the
    event's ``planned`` flag and this test sees the key in its code."""
    sources = list(_source_outside_the_catalogue())
    for key in EMITTED:
        users = [path.name for path, text in sources if f'"{key}"' in text]
        assert users, f"nothing emits {key}: mark it planned=True in the catalogue"
    for key in set(CATALOGUE) - set(EMITTED):
        users = [path.name for path, text in sources if f'"{key}"' in text]
        assert not users, f"{key} is emitted in {users}: drop planned=True from the catalogue"


def test_emitted_keys_in_the_code_are_in_the_catalogue():
    pattern = re.compile(r'\bemit(?:_many)?\(\s*"([a-z_.]+)"')
    for _, text in _source_outside_the_catalogue():
        for key in pattern.findall(text):
            assert key in EMITTED, key


#: Every event of the catalogue is built now: a stand-in for the next feature's event.
PLANNED = event("future.example", "Something planned", "client", "did something", planned=True)


@pytest.fixture
def planned(monkeypatch):
    monkeypatch.setitem(CATALOGUE, PLANNED.key, PLANNED)
    return PLANNED.key


def test_planned_events_have_no_switches_and_cannot_be_emitted(household, planned):
    assert planned not in EMITTED
    with pytest.raises(ValueError, match="planned"):
        events.emit(planned, actor=Actor.system(), record=household["record"])
    with pytest.raises(ValueError, match="planned"):
        events.emit_many(
            planned,
            actor=Actor.system(),
            records=[household["record"]],
            details_for=lambda record: {},
        )


SECURITY = (
    "portal.login.email",
    "portal.login.sms",
    "portal.login.password",
    "portal.login.failed",
    "portal.login.locked",
    "portal.password.changed",
    "portal.invitation.accepted",
    "portal.profile.updated",
    "portal.contact_preferences.updated",
    "staff.self_service.enabled",
    "staff.self_service.disabled",
    "staff.self_service.invited",
    "staff.change.approved",
    "staff.change.rejected",
)


@pytest.mark.parametrize("key", SECURITY)
def test_security_events_are_logged_whatever_the_stored_switch_says(household, key):
    assert CATALOGUE[key].always_logged
    rule = notification_rules.rule_for(key)
    rule.log_activity = False  # a row switched off before this rule existed, or by hand
    db.session.add(rule)
    db.session.commit()
    actor = actor_for(key, household)
    assert notification_rules.plan(key, household["record"], actor).log
    events.emit(key, actor=actor, record=household["record"])
    events.emit_many(key, actor=actor, records=[household["record"]], details_for=lambda record: {})
    keys = list(db.session.scalars(select(ActivityEntry.event_key)))
    assert keys.count(key) == 2


def test_the_service_refuses_to_switch_off_a_security_log(ctx, planned):
    with pytest.raises(ValidationError, match="Failed sign-in cannot be switched off"):
        notification_rules.save_switches({"portal.login.failed": {"log_activity": False}})
    db.session.rollback()
    notification_rules.save_switches(
        {"staff.tags.changed": {"log_activity": False, "agent_email": True}}
    )
    rule = notification_rules.rule_for("staff.tags.changed")
    assert (rule.log_activity, rule.agent_email) == (False, True)
    with pytest.raises(ValidationError, match="no switches"):
        notification_rules.save_switches({planned: {"agent_email": True}})


def test_a_refused_switch_changes_no_other_rule(ctx):
    with pytest.raises(ValidationError, match="cannot be switched off"):
        notification_rules.save_switches(
            {
                "staff.tags.changed": {"agent_email": True},
                "portal.login.failed": {"log_activity": False},
            }
        )
    assert not notification_rules.rule_for("staff.tags.changed").agent_email


def test_a_rules_templates_are_checked_before_anything_changes(ctx, planned):
    with pytest.raises(ValidationError, match="is not a email template") as refused:
        notification_rules.save_templates(
            "portal.rx.updated", {"agent_template_key": "notify.customer.sms"}
        )
    assert refused.value.field == "agent_template_key"
    assert notification_rules.rule_for("portal.rx.updated").agent_template_key == "notify.agent"
    rule = notification_rules.save_templates(
        "portal.rx.updated", {"agent_template_key": "notify.primary", "task_due_hours": 4}
    )
    assert (rule.agent_template_key, rule.task_due_hours) == ("notify.primary", 4)
    with pytest.raises(ValidationError, match="no settings"):
        notification_rules.save_templates(planned, {"task_due_hours": 4})


def test_the_preview_renders_each_message_and_writes_nothing(household):
    notification_rules.save_switches({"portal.rx.updated": {"agent_email": True}})
    db.session.commit()
    actor = Actor(events.CLIENT, "Paula Primary", email="paula@example.com")
    shown = events.preview("portal.rx.updated", household["record"], actor)
    assert [message.audience for message, _ in shown.rendered] == ["agent"]
    assert shown.rendered[0][1].subject == "Prescriptions updated: Paula Primary"
    assert count(OutboxMessage) == 0 and count(ActivityEntry) == 0 and count(Task) == 0


def test_only_events_with_a_reason_are_always_logged():
    for spec in CATALOGUE.values():
        if spec.always_logged:
            assert spec.always_logged.endswith(".") and spec.defaults.log_activity
