"""Every event key, every switch: exactly the entries, tasks and messages the rule asks for."""

import pytest
from sqlalchemy import func, select

from app.services import events
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

KEYS = sorted(events.CATALOGUE)
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
    spec = events.CATALOGUE[key]
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
    defaults = events.CATALOGUE[key].defaults
    assert [getattr(rule, s) for s in SWITCHES] == [getattr(defaults, s) for s in SWITCHES]


@pytest.mark.parametrize("key", KEYS)
@pytest.mark.parametrize("switch", SWITCHES)
def test_each_switch_does_exactly_its_job(household, key, switch):
    rule = events.rule_for(key)
    for name in SWITCHES:
        setattr(rule, name, False)
    db.session.add(rule)
    db.session.commit()
    record, actor = household["record"], actor_for(key, household)

    events.emit(key, actor=actor, record=record, details={"message": "hello"})
    db.session.commit()
    assert (count(ActivityEntry), count(Task), count(OutboxMessage)) == (0, 0, 0)

    setattr(rule, switch, True)
    db.session.commit()
    emitted = events.emit(key, actor=actor, record=record, details={"message": "hello"})
    db.session.commit()
    entries = db.session.scalars(select(ActivityEntry)).all()
    tasks = db.session.scalars(select(Task)).all()
    messages = db.session.scalars(select(OutboxMessage)).all()

    assert len(entries) == (1 if switch == "log_activity" else 0)
    if entries:
        assert entries[0].event_key == key and entries[0].record_id == record.id
        assert entries[0].actor_label == actor.label
    assert len(tasks) == (1 if switch == "create_task" else 0)
    if tasks:
        assert tasks[0].assignee_id == household["agent"].id
        assert tasks[0].title == f"{events.CATALOGUE[key].label}: Paula Primary"
    expected = {
        "agent_email": ["agent.amy@example.com"],
        "customer_email": ["cole@example.com" if actor.kind == "client" else "paula@example.com"],
        "primary_applicant_email": ["paula@example.com"] if actor.kind == "client" else [],
    }.get(switch, [])
    assert [m.recipient for m in messages] == expected
    assert all(m.event_key == key and m.record_id == record.id for m in messages)
    assert len(emitted.messages) == len(expected)


def test_primary_applicant_hears_only_when_someone_else_acted(household):
    rule = events.rule_for("portal.profile.updated")
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
    rule = events.rule_for("staff.document.shared")
    rule.agent_email = rule.customer_email = True
    db.session.add(rule)
    events.emit(
        "staff.document.shared",
        actor=Actor.staff(household["agent"]),
        record=record,
        details={"document": "Policy.pdf"},
    )
    assert count(OutboxMessage) == 1


def test_no_email_address_means_no_email_and_a_note_why(household):
    record = household["record"]
    record.email = None
    events.emit("staff.review.requested", actor=Actor.staff(household["agent"]), record=record)
    assert count(OutboxMessage) == 0
    entry = db.session.scalar(select(ActivityEntry))
    assert entry.details["notifications_skipped"] == [
        {"to": "customer", "why": "no email address for the client"}
    ]


def test_a_skipped_notification_is_noted_even_when_the_event_is_not_logged(household):
    record = household["record"]
    record.email = None
    rule = events.rule_for("staff.review.requested")
    rule.log_activity = False
    db.session.add(rule)
    events.emit("staff.review.requested", actor=Actor.staff(household["agent"]), record=record)
    [entry] = db.session.scalars(select(ActivityEntry)).all()
    assert entry.event_key == "system.notification.skipped"
    assert entry.details["event"] == "staff.review.requested"


def test_agent_email_falls_back_to_the_office(household):
    record = household["record"]
    record.assigned_agent_id = None
    db.session.flush()
    db.session.expire(record)
    get_settings().office_email = "office@example.com"
    events.emit(
        "portal.contact_us",
        actor=actor_for("portal.contact_us", household),
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
        "staff.document.shared",
        actor=Actor.staff(household["agent"]),
        record=record,
        details={"document": "ID card"},
    )
    [message] = db.session.scalars(select(OutboxMessage)).all()
    assert (message.channel, message.recipient) == (Channel.SMS, "+12025550143")
    assert "A new document is waiting for you in the portal." in message.body_text


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
    assert agent_mail.reply_to == "agent.amy@example.com"


def test_an_action_that_rolls_back_leaves_nothing(app):
    from app.redis import get_redis

    with app.app_context():
        record = factories.record(email="roll@example.com")
        events.emit(
            "staff.request.created",
            actor=Actor.system("Test"),
            record=record,
            details={"subject": "Please sign"},
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
