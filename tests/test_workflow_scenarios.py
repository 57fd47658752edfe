"""The two campaigns agencies run, end to end: a fixed clock, a real burst worker on real Redis,
a real SMTP server. Exactly what should arrive arrives, nothing after a stop, nothing twice."""

from datetime import UTC, datetime, timedelta

import time_machine
from sqlalchemy import select

from app.services import products as product_service
from app.services import tags as tag_service
from app.services import workflows
from jobs.sweeper import sweep
from models import (
    ActionKind,
    ActionTarget,
    Channel,
    DelayUnit,
    MessageTemplate,
    OutboxMessage,
    Product,
    ProductStatus,
    RecordKind,
    Tag,
    Task,
    TaskKind,
    Workflow,
    WorkflowAction,
    db,
)
from tests import factories
from tests.conftest import run_jobs

T0 = datetime(2026, 9, 1, 12, 0, tzinfo=UTC)  # September 1, 08:00 in the office (New York)


def step(amount, unit, kind, template=None, target=ActionTarget.RECORD, title=None):
    return WorkflowAction(
        delay_amount=amount,
        delay_unit=unit,
        kind=kind,
        template_key=template,
        target=target,
        task_title=title,
    )


def template(key, channel, subject, body):
    db.session.add(MessageTemplate(key=key, channel=channel, name=key, subject=subject, body=body))


def tick(app, clock, delta):
    """Time passes; the sweeper and a worker do their rounds (twice: nothing may double)."""
    clock.shift(delta)
    for _ in range(2):
        with app.app_context():
            sweep()
        run_jobs(app)


def sms_to(app, number):
    with app.app_context():
        return [
            m.body_text
            for m in db.session.scalars(
                select(OutboxMessage).where(
                    OutboxMessage.channel == Channel.SMS, OutboxMessage.recipient == number
                )
            )
        ]


def test_quote_follow_up(app, mailbox):
    with app.app_context():
        agent = factories.staff(email="agent.quinn@example.com", first_name="Quinn")
        ma = factories.coverage("Medicare Advantage")
        ms = factories.coverage("Medicare Supplement")
        template(
            "quote.followup",
            Channel.EMAIL,
            "Your plan quote, {{ record.first_name }}",
            "Hello {{ record.first_name }}, any questions about your quote? {{ agent.full_name }}",
        )
        template(
            "quote.followup.sms",
            Channel.SMS,
            "",
            "{{ agent.first_name }} here: shall we go over your quote?",
        )
        flow = Workflow(
            name="Quote follow-up MA",
            active=True,
            for_leads=True,
            for_clients=True,
            product_status=ProductStatus.QUOTED,
            coverage_type_id=ma.id,
            stop_when_unmatched=True,
        )
        flow.actions = [
            step(1, DelayUnit.MINUTES, ActionKind.ENABLE_SELF_SERVICE),
            step(2, DelayUnit.DAYS, ActionKind.SEND_EMAIL, "quote.followup"),
            step(3, DelayUnit.DAYS, ActionKind.SEND_SMS, "quote.followup.sms"),
            step(
                5,
                DelayUnit.DAYS,
                ActionKind.CREATE_CALL,
                target=ActionTarget.AGENT,
                title="Call {{ record.full_name }} about the quote",
            ),
        ]
        db.session.add(flow)
        db.session.commit()
        people = {}
        for name, mobile in (("Ava", "+12025550101"), ("Ben", "+12025550102")):
            record = factories.record(
                first_name=name,
                last_name="Lead",
                kind=RecordKind.LEAD,
                email=f"{name.lower()}@example.com",
                mobile=mobile,
                sms_opt_in=True,
                assigned_agent_id=agent.id,
            )
            people[name] = record.id
        ma_id, ms_id, flow_id, agent_id = ma.id, ms.id, flow.id, agent.id

    with time_machine.travel(T0, tick=False) as clock:
        with app.app_context():
            for name in ("Ava", "Ben"):
                db.session.add(
                    Product(
                        record_id=people[name],
                        carrier="Humana",
                        coverage_type_id=ma_id,
                        status=ProductStatus.QUOTED,
                    )
                )
                db.session.commit()
                product_service.after_change(people[name])
                db.session.commit()

        tick(app, clock, timedelta(minutes=1))
        subjects = sorted((str(m["To"]), m["Subject"]) for m in mailbox.wait_for(4))
        assert subjects == [
            ("Ava Lead <ava@example.com>", "Your client portal password"),
            ("Ava Lead <ava@example.com>", "Your secure client portal from Client portal"),
            ("Ben Lead <ben@example.com>", "Your client portal password"),
            ("Ben Lead <ben@example.com>", "Your secure client portal from Client portal"),
        ]

        tick(app, clock, timedelta(days=2))
        follow_ups = [m for m in mailbox.wait_for(6) if m["Subject"].startswith("Your plan")]
        assert sorted(m["Subject"] for m in follow_ups) == [
            "Your plan quote, Ava",
            "Your plan quote, Ben",
        ]

        with app.app_context():  # Ben declines: his remaining actions stop at once
            product = db.session.scalar(select(Product).where(Product.record_id == people["Ben"]))
            product.status = ProductStatus.DECLINED
            db.session.commit()
            product_service.after_change(people["Ben"])
            db.session.commit()

        tick(app, clock, timedelta(days=1))
        assert sms_to(app, "+12025550101") == ["Quinn here: shall we go over your quote?\n"]
        assert sms_to(app, "+12025550102") == []

        tick(app, clock, timedelta(days=2))
        tick(app, clock, timedelta(days=30))
        with app.app_context():
            tasks = [(t.title, t.kind, t.assignee_id) for t in db.session.scalars(select(Task))]
        assert tasks == [("Call Ava Lead about the quote", TaskKind.CALL, agent_id)]
        assert len(mailbox.messages) == 6  # nothing after the stop, nothing twice

        with app.app_context():  # the same campaign for Medicare Supplement
            copy = workflows.copy_workflow(db.session.get(Workflow, flow_id))
            copy.name, copy.coverage_type_id, copy.active = "Quote follow-up MS", ms_id, True
            db.session.commit()
            cleo = factories.record(
                first_name="Cleo", kind=RecordKind.LEAD, email="cleo@example.com"
            )
            db.session.add(
                Product(
                    record_id=cleo.id,
                    carrier="Aetna",
                    coverage_type_id=ms_id,
                    status=ProductStatus.QUOTED,
                )
            )
            db.session.commit()
            product_service.after_change(cleo.id)
            db.session.commit()
            started = {run.workflow.name for run in workflows.runs_of(cleo)}
        assert started == {"Quote follow-up MS"}


def test_annual_review(app, mailbox):
    with app.app_context():
        agent = factories.staff(email="agent.aria@example.com", first_name="Aria")
        aep = db.session.scalar(select(Tag).where(Tag.name == "AEP Review Needed"))
        template(
            "aep.first",
            Channel.EMAIL,
            "Your annual review is coming",
            "Hello {{ record.first_name }}, watch for your portal details.",
        )
        template("aep.sms", Channel.SMS, "", "Your portal details are on their way.")
        template(
            "aep.second",
            Channel.EMAIL,
            "Book your annual review",
            "{{ record.first_name }}, pick a time with {{ agent.full_name }}.",
        )
        flow = Workflow(
            name="AEP Review Needed - clients",
            active=True,
            for_leads=False,
            for_clients=True,
            tag_id=aep.id,
            stop_when_unmatched=True,
        )
        flow.actions = [
            step(1, DelayUnit.MINUTES, ActionKind.SEND_EMAIL, "aep.first"),
            step(30, DelayUnit.MINUTES, ActionKind.SEND_SMS, "aep.sms"),
            step(30, DelayUnit.MINUTES, ActionKind.ENABLE_SELF_SERVICE),
            step(7, DelayUnit.DAYS, ActionKind.SEND_EMAIL, "aep.second"),
            step(14, DelayUnit.DAYS, ActionKind.CREATE_CALL, target=ActionTarget.AGENT),
        ]
        db.session.add(flow)
        db.session.commit()
        clients = [
            factories.record(
                first_name=f"C{n}",
                last_name="Client",
                email=f"c{n}@example.com",
                mobile=f"+120255502{n:02d}",
                sms_opt_in=True,
                assigned_agent_id=agent.id,
            ).id
            for n in range(10)
        ]
        lead = factories.record(first_name="Lee", kind=RecordKind.LEAD, email="lee@example.com").id
        aep_id, agent_id = aep.id, agent.id

    with time_machine.travel(T0, tick=False) as clock:
        with app.app_context():  # September 1: bulk-tag everyone
            tag_service.add_tag([*clients, lead], db.session.get(Tag, aep_id))
            db.session.commit()
        tick(app, clock, timedelta(minutes=1))
        assert len(mailbox.wait_for(10)) == 10
        assert not mailbox.to("lee@example.com")  # leads are not in this campaign

        with app.app_context():  # C3 booked: the tag comes off and the rest stops
            tag_service.remove_tag([clients[3]], db.session.get(Tag, aep_id))
            db.session.commit()

        tick(app, clock, timedelta(minutes=30))
        assert len(mailbox.wait_for(10 + 18)) == 28  # 9 clients x (link + password)
        texted = [n for n in range(10) if sms_to(app, f"+120255502{n:02d}")]
        assert texted == [0, 1, 2, 4, 5, 6, 7, 8, 9]

        tick(app, clock, timedelta(days=7))
        tick(app, clock, timedelta(days=7))
        tick(app, clock, timedelta(days=60))
        assert len(mailbox.wait_for(37)) == 37
        assert [m["Subject"] for m in mailbox.to("c3@example.com")] == [
            "Your annual review is coming"
        ]
        with app.app_context():
            calls = db.session.scalars(select(Task).where(Task.kind == TaskKind.CALL)).all()
            assert len(calls) == 9 and {t.assignee_id for t in calls} == {agent_id}
        assert len(mailbox.messages) == 37


def test_the_demo_campaigns_run_as_seeded(app, mailbox):
    """What `make run` seeds works without touching it: a quoted lead gets the follow-up."""
    from seeds.campaigns import seed_campaigns

    with app.app_context():
        seed_campaigns()
        agent = factories.staff(email="agent.demo@example.com", first_name="Dana")
        lead = factories.record(
            first_name="Ava",
            last_name="Demo",
            kind=RecordKind.LEAD,
            email="ava.demo@example.com",
            assigned_agent_id=agent.id,
        )
        lead_id, ma_id = lead.id, factories.coverage("Medicare Advantage").id
        db.session.commit()
    with time_machine.travel(T0, tick=False) as clock:
        with app.app_context():
            db.session.add(
                Product(
                    record_id=lead_id,
                    carrier="Humana",
                    coverage_type_id=ma_id,
                    status=ProductStatus.QUOTED,
                )
            )
            db.session.commit()
            product_service.after_change(lead_id)
            db.session.commit()
        tick(app, clock, timedelta(minutes=1))
        assert len(mailbox.wait_for(2)) == 2  # portal link and password
        tick(app, clock, timedelta(days=2))
        follow_up = mailbox.wait_for(3)[-1]
        assert follow_up["Subject"] == "Your Medicare plan quote, Ava"
        assert "Dana" in follow_up.get_body(("plain",)).get_content()


def test_the_seeded_annual_review_waits_for_its_sending_window(app, mailbox):
    """Tagged late on a Friday: the first email goes at once, what falls after 20:00 waits for
    Monday 08:00 in the office, and the calls land on the agent's list."""
    from seeds.campaigns import seed_campaigns

    friday_evening = datetime(2026, 9, 4, 23, 45, tzinfo=UTC)  # 19:45 in New York
    monday_opening = datetime(2026, 9, 7, 12, 0, tzinfo=UTC)  # 08:00 in New York
    with app.app_context():
        seed_campaigns()
        agent = factories.staff(email="agent.window@example.com", first_name="Wren")
        client = factories.record(
            first_name="Fay",
            last_name="Friday",
            email="fay@example.com",
            mobile="+12025550177",
            sms_opt_in=True,
            assigned_agent_id=agent.id,
        ).id
        aep = db.session.scalar(select(Tag.id).where(Tag.name == "AEP Review Needed"))
        agent_id = agent.id
        db.session.commit()
    with time_machine.travel(friday_evening, tick=False) as clock:
        with app.app_context():
            tag_service.add_tag([client], db.session.get(Tag, aep))
            db.session.commit()
        tick(app, clock, timedelta(minutes=1))
        assert len(mailbox.wait_for(1)) == 1  # the announcement, inside the window
        tick(app, clock, timedelta(minutes=30))  # 20:16 on Friday: the window has closed
        assert sms_to(app, "+12025550177") == [] and len(mailbox.messages) == 1

        tick(app, clock, monday_opening - friday_evening - timedelta(minutes=31))
        assert len(sms_to(app, "+12025550177")) == 1
        assert len(mailbox.wait_for(3)) == 3  # portal link and password, Monday morning
        tick(app, clock, timedelta(days=30))
    with app.app_context():
        calls = db.session.scalars(select(Task).order_by(Task.id)).all()
        assert [t.title for t in calls] == [
            "Book the annual review with Fay Friday",
            "Second call: annual review with Fay Friday",
        ]
        assert {t.assignee_id for t in calls} == {agent_id}
    assert len(mailbox.wait_for(5)) == 5  # and the two booking emails
    assert len(mailbox.messages) == 5  # nothing twice
