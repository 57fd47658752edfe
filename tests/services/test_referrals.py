"""Referrals: a client's friend becomes a lead of the client's agent, with its source, note and
tag, waking the workflows any new lead wakes; someone the office knows is not added twice; the
friend is never written to."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import func, select

from app.services import events, invitations, notification_rules, portal_accounts, referrals
from app.services.errors import NotFound, ValidationError
from jobs.sweeper import sweep
from models import (
    ActionKind,
    ActionStatus,
    ActionTarget,
    ActivityEntry,
    Channel,
    Contact,
    ContactMethod,
    ContactRole,
    DelayUnit,
    MessageTemplate,
    OutboxMessage,
    Record,
    RecordKind,
    ScheduledAction,
    Tag,
    Task,
    Workflow,
    WorkflowAction,
    WorkflowRun,
    db,
)
from tests import factories
from tests.conftest import run_jobs

T0 = datetime(2026, 9, 1, 12, 0, tzinfo=UTC)  # a Tuesday, 08:00 in the office


@pytest.fixture
def cora(ctx):
    agent = factories.staff(email="amy.agent@example.com", first_name="Amy")
    record = factories.record(
        first_name="Cora",
        last_name="Client",
        email="cora@example.com",
        assigned_agent_id=agent.id,
    )
    account = portal_accounts.enable_self_service(record, agent).account
    db.session.commit()
    return {"agent": agent, "record": record, "account": account}


def friend(**values):
    values = {
        "first_name": " Fran ",
        "last_name": "Friend",
        "email": "Fran@Example.com",
        "phone": "(202) 555-0188",
        "note": "Turning 65 in March.\r\nCall after 5.",
        **values,
    }
    return referrals.check_friend(**values)


def entries(key):
    return db.session.scalars(
        select(ActivityEntry).where(ActivityEntry.event_key == key).order_by(ActivityEntry.id)
    ).all()


def leads():
    return db.session.scalars(select(Record).where(Record.kind == RecordKind.LEAD)).all()


def messages_to(address):
    return db.session.scalars(
        select(OutboxMessage).where(func.lower(OutboxMessage.recipient) == address.lower())
    ).all()


def runs_of(record):
    return db.session.scalars(select(WorkflowRun).where(WorkflowRun.record_id == record.id)).all()


def refer(account, **values):
    done = referrals.refer(account, friend(**values))
    db.session.commit()
    return done


def test_a_referral_becomes_a_lead_of_the_clients_agent(cora):
    done = refer(cora["account"])

    [lead] = leads()
    assert done.lead is lead
    assert (lead.first_name, lead.last_name) == ("Fran", "Friend")
    assert lead.email == "Fran@example.com" and lead.phone == "+12025550188"
    assert lead.source == "Referral"
    assert lead.assigned_agent_id == cora["agent"].id
    assert lead.notes == "Referred by Cora Client.\n\nTurning 65 in March.\nCall after 5."
    assert [tag.name for tag in lead.tags] == ["Referral"]
    assert not lead.email_opt_in and not lead.sms_opt_in  # they agreed to nothing

    [on_client] = entries("portal.referral")
    assert on_client.record_id == cora["record"].id
    assert on_client.summary == "Cora Client referred someone: Fran Friend."
    assert on_client.details["email"] == "Fran@example.com"
    [on_lead] = entries("portal.referral.received")
    assert on_lead.record_id == lead.id
    assert on_lead.summary == "Cora Client referred this person to the office."
    assert on_lead.details["referred_by"] == "Referred by Cora Client"

    [task] = db.session.scalars(select(Task).where(Task.record_id == cora["record"].id)).all()
    assert task.assignee_id == cora["agent"].id and task.title == "Referral: Cora Client"
    assert "Turning 65 in March." in task.notes
    assert [m.template_key for m in messages_to("amy.agent@example.com")] == ["notify.agent"]
    assert messages_to("fran@example.com") == []


def test_the_lead_wakes_the_workflows_of_its_tag_and_of_a_new_lead(cora):
    tag = db.session.scalar(select(Tag).where(Tag.name == "Referral"))
    on_tag = workflow("Thank the referrer", tag_id=tag.id)
    on_created = workflow("New lead", on_record_created=True, for_clients=False)
    elsewhere = workflow("Clients only", on_record_created=True, for_leads=False)

    lead = refer(cora["account"]).lead

    started = {
        run.workflow_id
        for run in db.session.scalars(select(WorkflowRun).where(WorkflowRun.record_id == lead.id))
    }
    assert started == {on_tag.id, on_created.id} and elsewhere.id not in started


def test_a_phone_number_alone_is_enough(cora):
    lead = refer(cora["account"], email=" ").lead
    assert lead.email is None and lead.phone == "+12025550188"
    assert lead.preferred_contact == ContactMethod.PHONE


def test_without_the_referral_tag_the_lead_is_made_untagged(cora):
    tag = db.session.scalar(select(Tag).where(Tag.name == "Referral"))
    db.session.delete(tag)
    db.session.commit()
    lead = refer(cora["account"]).lead
    assert lead.tags == [] and lead.source == "Referral"


@pytest.mark.parametrize(
    ("known", "values"),
    [
        ({"email": "FRAN@example.com"}, {}),
        ({"email": "other@example.com", "mobile": "+12025550188"}, {"email": ""}),
        ({"email": "other@example.com", "phone": "+12025550188"}, {"email": "new@example.com"}),
    ],
)
def test_someone_the_office_knows_is_not_added_again(cora, known, values):
    existing = factories.record(first_name="Bea", last_name="Known", kind=RecordKind.LEAD, **known)
    before = db.session.scalar(select(func.count(Record.id)))

    done = refer(cora["account"], **values)

    assert done.lead is None
    assert db.session.scalar(select(func.count(Record.id))) == before
    [entry] = entries("portal.referral")
    assert entry.record_id == cora["record"].id and entry.details["known"] is True
    assert (
        entry.summary
        == "Cora Client referred someone: Fran Friend (already known: lead Bea Known)."
    )
    assert entries("portal.referral.received") == []
    assert db.session.get(Record, existing.id).notes is None
    assert messages_to("fran@example.com") == messages_to(existing.email) == []


def test_a_person_on_a_record_counts_as_known(cora):
    other = factories.record(first_name="Olga", last_name="Other")
    db.session.add(
        Contact(
            record_id=other.id,
            role=ContactRole.CONTACT_PERSON,
            first_name="Fran",
            last_name="Friend",
            email="fran@example.com",
        )
    )
    db.session.commit()
    assert refer(cora["account"], phone="").lead is None
    assert "already known: client Olga Other" in entries("portal.referral")[0].summary


def test_the_client_is_told_the_same_whatever_happened(cora):
    """With every switch on, the client's notice (and the household's) reads the same for a
    new lead and for someone known: the summary that says "already known" goes to staff."""
    rule = notification_rules.rule_for("portal.referral")
    rule.customer_email = True
    db.session.add(rule)
    db.session.commit()
    refer(cora["account"])
    refer(cora["account"], first_name="Fran")  # the same person again: known now
    notices = messages_to("cora@example.com")
    notices = [m for m in notices if m.event_key == "portal.referral"]
    assert len(notices) == 2
    assert notices[0].subject == notices[1].subject and notices[0].body_text == notices[1].body_text
    assert "already known" not in notices[1].body_text


def test_a_co_applicants_referral_tells_the_primary_applicant(cora):
    carl = Contact(
        record_id=cora["record"].id,
        role=ContactRole.CO_APPLICANT,
        first_name="Carl",
        last_name="Partner",
        email="carl@example.com",
    )
    db.session.add(carl)
    db.session.flush()
    account = invitations.invite(cora["record"], cora["agent"], contact=carl)
    db.session.commit()

    lead = refer(account).lead

    assert lead.notes.startswith("Referred by Carl Partner, for Cora Client.")
    [primary] = [m for m in messages_to("cora@example.com") if m.event_key == "portal.referral"]
    assert primary.template_key == "notify.primary" and "Carl Partner" in primary.body_text
    assert messages_to("fran@example.com") == []


def test_no_switch_of_the_leads_event_writes_to_the_friend(cora):
    """The lead's own entry is the referring client's act: with every switch on, the agent and
    the referrer may hear, never the person referred."""
    rule = notification_rules.rule_for("portal.referral.received")
    for switch in notification_rules.SWITCHES:
        setattr(rule, switch, True)
    db.session.add(rule)
    carl = Contact(
        record_id=cora["record"].id,
        role=ContactRole.CO_APPLICANT,
        first_name="Carl",
        last_name="Partner",
        email="carl@example.com",
    )
    db.session.add(carl)
    db.session.flush()
    account = invitations.invite(cora["record"], cora["agent"], contact=carl)
    db.session.commit()

    refer(account)

    assert messages_to("fran@example.com") == []
    assert any(m.event_key == "portal.referral.received" for m in messages_to("carl@example.com"))


def test_a_leads_account_cannot_refer(cora):
    cora["record"].kind = RecordKind.LEAD
    db.session.commit()
    with pytest.raises(NotFound):
        referrals.refer(cora["account"], friend())
    assert leads() == [cora["record"]] and entries("portal.referral") == []


@pytest.mark.parametrize(
    ("values", "field", "message"),
    [
        ({"email": "", "phone": "  "}, "email", "Give an email address or a phone number."),
        ({"email": "not an address"}, "email", "Enter a valid email address"),
        ({"phone": "12"}, "phone", "phone number"),
        ({"first_name": "  "}, "first_name", "Enter a name."),
        ({"last_name": "x" * 81}, "last_name", "80 characters"),
        ({"last_name": "Friend\nBcc: x@example.com"}, "last_name", "one line"),
        ({"note": "x" * 2001}, "note", "2000 characters"),
        ({"note": "a\x00b"}, "note", "control character"),
    ],
)
def test_bad_details_are_refused_naming_the_field(ctx, values, field, message):
    with pytest.raises(ValidationError) as refused:
        friend(**values)
    assert refused.value.field == field and message in refused.value.message


def test_a_phone_number_is_read_in_the_clients_country(ctx):
    assert friend(phone="020 7946 0958", region="GB").phone == "+442079460958"
    assert friend(email="", phone="+44 20 7946 0958").email is None


def test_the_events_are_in_the_catalogue_with_the_household_rule():
    from app.services.event_catalogue import CATALOGUE, EMITTED

    spec = EMITTED["portal.referral"]
    assert spec.defaults.agent_email and spec.defaults.create_task
    assert spec.defaults.primary_applicant_email and not spec.defaults.customer_email
    assert "portal.referral.received" in EMITTED
    assert not CATALOGUE["portal.referral.received"].defaults.agent_email
    assert events.summary_for(spec, events.Actor.system("X"), {}) == "X referred someone."


# -- helpers ------------------------------------------------------------------------------------


def workflow(name, **values):
    item = Workflow(name=name, active=True, **values)
    item.actions = [
        WorkflowAction(
            position=0,
            delay_amount=1,
            delay_unit=DelayUnit.DAYS,
            kind=ActionKind.CREATE_TASK,
            target=ActionTarget.AGENT,
            task_title="Call the lead",
        )
    ]
    db.session.add(item)
    db.session.commit()
    return item


def test_a_workflows_email_to_the_new_lead_waits_for_consent(app, cora, mailbox):
    """A workflow greeting every new lead by email starts for the friend too, and its email
    is skipped: they never agreed to our mail (staff record it once they have spoken)."""
    db.session.add(
        MessageTemplate(
            key="lead.welcome",
            channel=Channel.EMAIL,
            name="Welcome",
            subject="Welcome, {{ record.first_name }}",
            body="Hello",
        )
    )
    flow = Workflow(name="Greet new leads", active=True, on_record_created=True, for_clients=False)
    flow.actions = [
        WorkflowAction(
            position=0,
            delay_amount=1,
            delay_unit=DelayUnit.MINUTES,
            kind=ActionKind.SEND_EMAIL,
            template_key="lead.welcome",
            target=ActionTarget.RECORD,
        )
    ]
    db.session.add(flow)
    db.session.commit()
    with time_machine.travel(T0, tick=False) as clock:
        lead = refer(cora["account"]).lead
        assert [run.workflow_id for run in runs_of(lead)] == [flow.id]
        clock.shift(timedelta(minutes=2))
        sweep()
        db.session.commit()
        run_jobs(app)
    db.session.expire_all()
    [action] = db.session.scalars(select(ScheduledAction)).all()
    assert action.status == ActionStatus.SKIPPED
    assert messages_to("fran@example.com") == [] and mailbox.to("fran@example.com") == []
