"""Workflows: triggers, runs, timing, stopping, durability."""

from datetime import UTC, datetime, time, timedelta

import pytest
import time_machine
from sqlalchemy import func, insert, select

from app.services import products as product_service
from app.services import tags as tag_service
from app.services import workflows
from app.services.errors import ValidationError
from app.services.workflows import runs as workflow_runs
from jobs.sweeper import sweep
from jobs.workflows import run_due
from models import (
    ActionKind,
    ActionStatus,
    ActionTarget,
    Channel,
    DelayUnit,
    MessageTemplate,
    OutboxMessage,
    Product,
    ProductStatus,
    Record,
    RecordKind,
    RunStatus,
    ScheduledAction,
    Task,
    Workflow,
    WorkflowAction,
    WorkflowRun,
    db,
    utcnow,
)
from tests import factories

T0 = datetime(2026, 9, 1, 12, 0, tzinfo=UTC)  # a Tuesday; 08:00 in New York


def workflow(**values):
    actions = values.pop("actions", [(1, DelayUnit.MINUTES, ActionKind.CREATE_TASK)])
    item = Workflow(
        name=values.pop("name", "Test flow"), active=values.pop("active", True), **values
    )
    item.actions = [
        WorkflowAction(
            position=n,
            delay_amount=amount,
            delay_unit=unit,
            kind=kind,
            target=ActionTarget.AGENT,
            task_title=f"Step {n}",
        )
        for n, (amount, unit, kind) in enumerate(actions)
    ]
    db.session.add(item)
    db.session.commit()
    return item


def runs(wf=None):
    query = select(WorkflowRun).order_by(WorkflowRun.id)
    if wf is not None:
        query = query.where(WorkflowRun.workflow_id == wf.id)
    return db.session.scalars(query).all()


def quote(record, status=ProductStatus.QUOTED, coverage="Medicare Advantage"):
    product = factories.product(record, status=status, coverage_type=factories.coverage(coverage))
    product_service.after_change(record.id)
    db.session.commit()
    return product


def set_status(product, status):
    product = db.session.get(Product, product.id)
    product.status = status
    product_service.after_change(product.record_id)
    db.session.commit()


# -- triggers --------------------------------------------------------------------------------


def test_product_status_and_coverage_must_hold_for_the_same_product(ctx):
    ma = factories.coverage("Medicare Advantage")
    wf = workflow(product_status=ProductStatus.QUOTED, coverage_type_id=ma.id)
    record = factories.record()
    quote(record, ProductStatus.QUOTED, "Medicare Supplement")  # quoted, wrong coverage
    quote(record, ProductStatus.ACTIVE, "Medicare Advantage")  # right coverage, not quoted
    assert runs(wf) == []
    quote(record, ProductStatus.QUOTED, "Medicare Advantage")
    assert [r.record_id for r in runs(wf)] == [record.id]


@pytest.mark.parametrize(
    "for_leads, for_clients, kind, starts",
    [
        (True, False, RecordKind.LEAD, True),
        (True, False, RecordKind.CLIENT, False),
        (False, True, RecordKind.CLIENT, True),
        (True, True, RecordKind.LEAD, True),
    ],
)
def test_record_kind_filter(ctx, for_leads, for_clients, kind, starts):
    tag = factories.tag("Kinded")
    wf = workflow(tag_id=tag.id, for_leads=for_leads, for_clients=for_clients)
    record = factories.record(kind=kind)
    tag_service.add_tag([record.id], tag)
    db.session.commit()
    assert bool(runs(wf)) is starts


def test_tag_and_product_conditions_combine_with_and(ctx):
    tag = factories.tag("AEP")
    wf = workflow(tag_id=tag.id, product_status=ProductStatus.ACTIVE)
    record = factories.record()
    tag_service.add_tag([record.id], tag)
    db.session.commit()
    assert runs(wf) == []
    quote(record, ProductStatus.ACTIVE)
    assert len(runs(wf)) == 1


def test_record_created_trigger_starts_only_at_creation(ctx):
    wf = workflow(on_record_created=True, for_leads=True, for_clients=False)
    lead = factories.record(kind=RecordKind.LEAD)
    workflows.evaluate([lead.id])  # an ordinary change: nothing
    assert runs(wf) == []
    workflows.evaluate([lead.id], created=True)
    assert len(runs(wf)) == 1


def test_a_record_starts_again_only_after_leaving_and_matching_anew(ctx):
    tag = factories.tag("Again")
    wf = workflow(tag_id=tag.id, actions=[(1, DelayUnit.DAYS, ActionKind.CREATE_TASK)])
    record = factories.record()
    tag_service.add_tag([record.id], tag)
    db.session.commit()
    workflows.evaluate([record.id])  # still matching: no second run
    assert len(runs(wf)) == 1
    tag_service.remove_tag([record.id], tag)
    db.session.commit()
    first = runs(wf)[0]
    assert first.status == RunStatus.CANCELLED and first.unmatched_at is not None
    tag_service.add_tag([record.id], tag)
    db.session.commit()
    assert [r.status for r in runs(wf)] == [RunStatus.CANCELLED, RunStatus.RUNNING]


def test_a_run_that_stops_by_itself_says_so_on_the_record(ctx):
    from models import ActivityEntry

    tag = factories.tag("Booked")
    workflow(name="Annual review", tag_id=tag.id, stop_when_unmatched=True)
    record = factories.record()
    tag_service.add_tag([record.id], tag)
    tag_service.remove_tag([record.id], tag)
    db.session.commit()
    entry = db.session.scalar(
        select(ActivityEntry).where(ActivityEntry.event_key == "workflow.run.stopped")
    )
    assert entry.record_id == record.id
    assert entry.summary == (
        "Workflow: Annual review stopped: the record no longer matches (1 action cancelled)."
    )


def test_a_completed_run_does_not_restart_while_still_matching(ctx):
    tag = factories.tag("Done once")
    wf = workflow(tag_id=tag.id)
    record = factories.record()
    with time_machine.travel(T0, tick=False) as clock:
        tag_service.add_tag([record.id], tag)
        db.session.commit()
        clock.shift(timedelta(minutes=2))
        run_due()
        assert runs(wf)[0].status == RunStatus.COMPLETED
        workflows.evaluate([record.id])
        assert len(runs(wf)) == 1


@pytest.mark.parametrize(
    "condition, product, starts",
    [
        ({"product_status": ProductStatus.QUOTED}, (ProductStatus.QUOTED, "Auto"), True),
        ({"product_status": ProductStatus.QUOTED}, (ProductStatus.ACTIVE, "Auto"), False),
        ({"coverage": "Medicare Supplement"}, (ProductStatus.ACTIVE, "Medicare Supplement"), True),
        ({"coverage": "Medicare Supplement"}, (ProductStatus.ACTIVE, "Home"), False),
    ],
)
def test_a_single_product_condition(ctx, condition, product, starts):
    if "coverage" in condition:
        condition = {"coverage_type_id": factories.coverage(condition["coverage"]).id}
    wf = workflow(**condition)
    record = factories.record()
    quote(record, *product)
    assert bool(runs(wf)) is starts


def test_record_created_combines_with_the_other_conditions(ctx):
    tag = factories.tag("Referred in")
    wf = workflow(on_record_created=True, tag_id=tag.id, for_leads=True, for_clients=False)
    plain = factories.record(kind=RecordKind.LEAD)
    referred = factories.record(kind=RecordKind.LEAD, tags=[tag])
    client = factories.record(kind=RecordKind.CLIENT, tags=[tag])
    workflows.evaluate([plain.id, referred.id, client.id], created=True)
    assert [r.record_id for r in runs(wf)] == [referred.id]


def test_a_product_leaving_and_reentering_the_match_starts_a_new_run(ctx):
    wf = workflow(product_status=ProductStatus.QUOTED, stop_when_unmatched=True)
    record = factories.record()
    product = quote(record, ProductStatus.QUOTED, "Auto")
    set_status(product, ProductStatus.QUOTED)  # saved again, still quoted: the same run
    assert [r.status for r in runs(wf)] == [RunStatus.RUNNING]
    set_status(product, ProductStatus.DECLINED)
    set_status(product, ProductStatus.QUOTED)
    assert [r.status for r in runs(wf)] == [RunStatus.CANCELLED, RunStatus.RUNNING]


def test_the_batch_job_run_twice_fires_each_action_once(ctx):
    tag = factories.tag("Twice over")
    workflow(tag_id=tag.id)
    ids = [factories.record().id for _ in range(3)]
    with time_machine.travel(T0, tick=False) as clock:
        tag_service.add_tag(ids, tag)
        db.session.commit()
        clock.shift(timedelta(minutes=1))
        claimed = workflows.claim_due(utcnow())
        db.session.commit()
        # The same job delivered twice (RQ retried it, or the sweeper queued it again).
        assert workflows.execute_batch(claimed) == {"done": 3}
        db.session.commit()
        assert workflows.execute_batch(claimed) == {}
        db.session.commit()
        assert run_due() == {}
    assert db.session.scalar(select(func.count()).select_from(Task)) == 3


def test_saving_another_product_does_not_start_a_workflow_an_old_product_matched(ctx):
    supplement = factories.coverage("Medicare Supplement")
    record = factories.record()
    old = factories.product(record, status=ProductStatus.QUOTED, coverage_type=supplement)
    db.session.commit()  # quoted long before the workflow below was switched on
    wf = workflow(product_status=ProductStatus.QUOTED, coverage_type_id=supplement.id)
    advantage = factories.product(
        record, status=ProductStatus.QUOTED, coverage_type=factories.coverage("Medicare Advantage")
    )
    product_service.after_change(record.id, product=advantage)
    db.session.commit()
    assert runs(wf) == []
    product_service.after_change(record.id, removed=True)  # a product deleted starts nothing
    assert runs(wf) == []
    old.status = ProductStatus.QUOTED  # the old quote saved again, still quoted: now it counts
    product_service.after_change(record.id, product=old)
    db.session.commit()
    assert [r.record_id for r in runs(wf)] == [record.id]


def test_inactive_workflows_start_nothing(ctx):
    tag = factories.tag("Off")
    wf = workflow(tag_id=tag.id, active=False)
    record = factories.record()
    tag_service.add_tag([record.id], tag)
    db.session.commit()
    assert runs(wf) == []


# -- timing -------------------------------------------------------------------------------------


def test_delays_are_counted_from_the_start_in_calendar_units(ctx):
    start = datetime(2026, 1, 31, 10, 0, tzinfo=UTC)
    assert workflows.add_delay(start, 1, DelayUnit.MONTHS) == datetime(
        2026, 2, 28, 10, 0, tzinfo=UTC
    )
    assert workflows.add_delay(start, 1, DelayUnit.YEARS).year == 2027
    assert workflows.add_delay(start, 2, DelayUnit.WEEKS) == start + timedelta(days=14)


def test_an_action_due_outside_the_window_waits_for_the_next_opening(ctx):
    wf = workflow(window_days="01234", window_start=time(8), window_end=time(20))
    # 23:00 on Friday in New York is 04:00 UTC on Saturday: wait for Monday 08:00 there.
    friday_late = datetime(2026, 9, 5, 3, 0, tzinfo=UTC)
    assert workflows.in_window(wf, friday_late) == datetime(2026, 9, 7, 12, 0, tzinfo=UTC)
    tuesday_noon = datetime(2026, 9, 1, 16, 0, tzinfo=UTC)
    assert workflows.in_window(wf, tuesday_noon) == tuesday_noon
    early = datetime(2026, 9, 1, 10, 0, tzinfo=UTC)  # 06:00 local
    assert workflows.in_window(wf, early) == datetime(2026, 9, 1, 12, 0, tzinfo=UTC)


def test_a_run_started_at_night_fires_at_the_window_opening(ctx, mailbox):
    tag = factories.tag("Night")
    wf = workflow(tag_id=tag.id, window_days="01234", window_start=time(8), window_end=time(20))
    record = factories.record()
    night = datetime(2026, 9, 2, 3, 0, tzinfo=UTC)  # 23:00 Tuesday in New York
    with time_machine.travel(night, tick=False) as clock:
        tag_service.add_tag([record.id], tag)
        db.session.commit()
        [action] = db.session.scalars(select(ScheduledAction)).all()
        assert action.due_at == datetime(2026, 9, 2, 12, 0, tzinfo=UTC)
        clock.shift(timedelta(hours=8, minutes=59))
        assert run_due() == {}
        clock.shift(timedelta(minutes=1))
        assert run_due() == {"done": 1}
    del wf


# -- stopping ---------------------------------------------------------------------------------


def test_stop_when_unmatched_cancels_the_rest_at_once(ctx):
    wf = workflow(
        product_status=ProductStatus.QUOTED,
        actions=[
            (1, DelayUnit.MINUTES, ActionKind.CREATE_TASK),
            (2, DelayUnit.DAYS, ActionKind.CREATE_TASK),
        ],
    )
    record = factories.record()
    product = quote(record)
    set_status(product, ProductStatus.DECLINED)
    statuses = [a.status for a in db.session.scalars(select(ScheduledAction))]
    assert statuses == [ActionStatus.CANCELLED, ActionStatus.CANCELLED]
    assert runs(wf)[0].end_reason == "the record no longer matches"


def test_without_stop_the_run_goes_on(ctx):
    wf = workflow(product_status=ProductStatus.QUOTED, stop_when_unmatched=False)
    record = factories.record()
    product = quote(record)
    set_status(product, ProductStatus.DECLINED)
    assert runs(wf)[0].status == RunStatus.RUNNING


def test_each_action_rechecks_the_match_when_it_fires(ctx):
    wf = workflow(product_status=ProductStatus.QUOTED)
    record = factories.record()
    with time_machine.travel(T0, tick=False) as clock:
        product = quote(record)
        # Changed behind the services' back: no evaluate() call.
        db.session.get(Product, product.id).status = ProductStatus.ACTIVE
        db.session.commit()
        clock.shift(timedelta(minutes=5))
        assert run_due() == {"cancelled": 1}
    assert runs(wf)[0].status == RunStatus.CANCELLED
    assert db.session.scalar(select(func.count()).select_from(Task)) == 0


# -- firing -----------------------------------------------------------------------------------


def test_actions_fire_once_and_are_logged(ctx):
    tag = factories.tag("Fire")
    agent = factories.staff(email="fire.agent@example.com")
    wf = workflow(tag_id=tag.id)
    record = factories.record(assigned_agent_id=agent.id)
    with time_machine.travel(T0, tick=False) as clock:
        tag_service.add_tag([record.id], tag)
        db.session.commit()
        clock.shift(timedelta(minutes=1))
        assert run_due() == {"done": 1}
        assert run_due() == {}
    [task] = db.session.scalars(select(Task)).all()
    assert (task.title, task.assignee_id, task.record_id) == ("Step 0", agent.id, record.id)
    from models import ActivityEntry

    entry = db.session.scalar(
        select(ActivityEntry).where(ActivityEntry.event_key == "workflow.action.fired")
    )
    assert entry.actor_label == "Workflow: Test flow" and entry.details["status"] == "done"
    assert runs(wf)[0].status == RunStatus.COMPLETED


def test_failures_retry_with_backoff_then_fail_visibly(ctx):
    tag = factories.tag("Broken")
    wf = workflow(tag_id=tag.id, actions=[(0, DelayUnit.MINUTES, ActionKind.SEND_EMAIL)])
    wf.actions[0].template_key = "no.such.template"
    wf.actions[0].target = ActionTarget.RECORD
    db.session.commit()
    record = factories.record()
    with time_machine.travel(T0, tick=False) as clock:
        tag_service.add_tag([record.id], tag)
        db.session.commit()
        for attempt in range(1, workflows.MAX_ATTEMPTS + 1):
            run_due()
            action = db.session.scalar(select(ScheduledAction))
            assert action.attempts == attempt
            clock.shift(timedelta(minutes=2**attempt + 1))
        assert action.status == ActionStatus.FAILED
        assert "no.such.template" in action.outcome and "Failed after 5 tries" in action.outcome
    from models import ActivityEntry

    # Only the final failure is an event: the tries before it are retries, not outcomes.
    [entry] = db.session.scalars(
        select(ActivityEntry).where(ActivityEntry.event_key == "workflow.action.fired")
    ).all()
    assert entry.record_id == record.id and entry.details["status"] == "failed"
    assert "Failed after 5 tries" in entry.details["outcome"]


def test_one_bad_action_in_a_batch_costs_only_itself(ctx):
    tag = factories.tag("Mixed")
    workflow(name="Good", tag_id=tag.id, actions=[(0, DelayUnit.MINUTES, ActionKind.CREATE_TASK)])
    bad = workflow(
        name="Bad", tag_id=tag.id, actions=[(0, DelayUnit.MINUTES, ActionKind.SEND_EMAIL)]
    )
    bad.actions[0].template_key = "no.such.template"
    bad.actions[0].target = ActionTarget.RECORD
    db.session.commit()
    ids = [factories.record().id for _ in range(3)]
    with time_machine.travel(T0, tick=False):
        tag_service.add_tag(ids, tag)
        db.session.commit()
        assert run_due() == {"done": 3, "pending": 3}
    assert db.session.scalar(select(func.count()).select_from(Task)) == 3
    retrying = db.session.scalars(
        select(ScheduledAction).where(ScheduledAction.workflow_id == bad.id)
    ).all()
    assert {(a.status, a.attempts) for a in retrying} == {(ActionStatus.PENDING, 1)}
    assert all("no.such.template" in a.outcome for a in retrying)


def test_a_tag_change_in_a_batch_is_seen_by_the_next_action(ctx):
    tag = factories.tag("Once")
    wf = workflow(
        tag_id=tag.id,
        stop_when_unmatched=True,
        actions=[
            (0, DelayUnit.MINUTES, ActionKind.REMOVE_TAG),
            (0, DelayUnit.MINUTES, ActionKind.CREATE_TASK),
        ],
    )
    wf.actions[0].tag_id = tag.id
    db.session.commit()
    record = factories.record()
    with time_machine.travel(T0, tick=False):
        tag_service.add_tag([record.id], tag)
        db.session.commit()
        assert run_due() == {"done": 1, "cancelled": 1}  # one batch, both rows
    assert db.session.scalar(select(func.count()).select_from(Task)) == 0
    assert runs(wf)[0].status == RunStatus.CANCELLED


def test_a_batch_keeps_the_activity_chain_whole(ctx):
    from app.services import activity
    from models import ActivityChainHead, ActivityEntry

    tag = factories.tag("Chain")
    wf = workflow(tag_id=tag.id, actions=[(0, DelayUnit.MINUTES, ActionKind.CREATE_TASK)] * 3)
    ids = [factories.record().id for _ in range(5)]
    with time_machine.travel(T0, tick=False):
        tag_service.add_tag(ids, tag)
        db.session.commit()
        assert run_due() == {"done": 15}
    assert {r.status for r in runs(wf)} == {RunStatus.COMPLETED}
    newest = db.session.scalar(select(func.max(ActivityEntry.id)))
    assert db.session.get(ActivityChainHead, 1).last_entry_id == newest
    assert activity.verify().ok


def test_campaign_messages_respect_the_clients_choices(ctx):
    tag = factories.tag("Consent")
    wf = workflow(
        tag_id=tag.id,
        actions=[
            (0, DelayUnit.MINUTES, ActionKind.SEND_EMAIL),
            (0, DelayUnit.MINUTES, ActionKind.SEND_SMS),
        ],
    )
    wf.actions[0].template_key = "task.reminder"
    wf.actions[1].template_key = "task.reminder"
    for step in wf.actions:
        step.target = ActionTarget.RECORD
    db.session.commit()
    record = factories.record(email_opt_in=False, sms_opt_in=False, mobile="+12025550111")
    with time_machine.travel(T0, tick=False):
        tag_service.add_tag([record.id], tag)
        db.session.commit()
        assert run_due() == {"skipped": 2}
    outcomes = sorted(db.session.scalars(select(ScheduledAction.outcome)))
    assert outcomes == [
        "The client has not agreed to text messages.",
        "The client has opted out of email.",
    ]
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 0


def test_the_same_batch_twice_runs_each_action_once(ctx):
    tag = factories.tag("Twice")
    workflow(tag_id=tag.id)
    record = factories.record()
    with time_machine.travel(T0, tick=False) as clock:
        tag_service.add_tag([record.id], tag)
        db.session.commit()
        clock.shift(timedelta(minutes=1))
        claimed = workflows.claim_due(T0 + timedelta(minutes=1))
        db.session.commit()
        for _ in range(2):  # the job ran twice with the same rows
            for action_id in claimed:
                workflows.execute(action_id)
            db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(Task)) == 1


def test_a_worker_killed_mid_batch_loses_nothing_and_repeats_nothing(ctx):
    tag = factories.tag("Killed")
    workflow(tag_id=tag.id)
    ids = [factories.record().id for _ in range(4)]
    with time_machine.travel(T0, tick=False) as clock:
        tag_service.add_tag(ids, tag)
        db.session.commit()
        clock.shift(timedelta(minutes=1))
        claimed = workflows.claim_due(T0 + timedelta(minutes=1))
        db.session.commit()
        workflows.execute(claimed[0])
        workflows.execute(claimed[1])
        db.session.commit()  # two done and committed...
        workflows.execute(claimed[2])  # ...the third was running when the worker died
        db.session.rollback()
        assert run_due() == {}  # claimed rows are not due twice
        clock.shift(workflows.STALE_CLAIM + timedelta(seconds=1))
        assert sweep()["workflow_claims_released"] == 2
        assert run_due() == {"done": 2}
    assert db.session.scalar(select(func.count()).select_from(Task)) == 4


def test_a_slow_batch_whose_claims_were_handed_back_does_nothing_twice(ctx):
    tag = factories.tag("Slow")
    workflow(tag_id=tag.id, actions=[(0, DelayUnit.MINUTES, ActionKind.CREATE_TASK)])
    ids = [factories.record().id for _ in range(3)]
    with time_machine.travel(T0, tick=False) as clock:
        tag_service.add_tag(ids, tag)
        db.session.commit()
        first = workflows.claim_due(T0)  # worker A takes the rows... and stalls
        db.session.commit()
        clock.shift(workflows.STALE_CLAIM + timedelta(seconds=1))
        assert sweep()["workflow_claims_released"] == 3
        later = T0 + workflows.STALE_CLAIM + timedelta(seconds=1)
        taken = []
        while claimed := workflows.claim_due(later):  # worker B, retries one at a time
            db.session.commit()
            taken += claimed
            assert workflows.execute_batch(claimed, later) == {"done": 1}
            db.session.commit()
        assert sorted(taken) == sorted(first)
        assert workflows.execute_batch(first, later) == {}  # A wakes up: nothing is its own
        db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(Task)) == 3


def test_a_row_that_keeps_killing_workers_fails_alone(ctx):
    tag = factories.tag("Poison")
    workflow(tag_id=tag.id, actions=[(0, DelayUnit.MINUTES, ActionKind.CREATE_TASK)])
    ids = [factories.record().id for _ in range(3)]
    with time_machine.travel(T0, tick=False) as clock:
        tag_service.add_tag(ids, tag)
        db.session.commit()
        rows = db.session.scalars(select(ScheduledAction).order_by(ScheduledAction.id)).all()
        poison, innocent = rows[0], rows[1:]
        for attempt in range(workflows.MAX_ATTEMPTS):  # each time, the worker dies with it
            now = T0 + attempt * (workflows.STALE_CLAIM + timedelta(minutes=1))
            clock.move_to(now)
            claimed = workflows.claim_due(now)
            db.session.commit()
            if attempt:  # after the first death it is tried on its own
                assert claimed == [poison.id]
            clock.shift(workflows.STALE_CLAIM + timedelta(seconds=1))
            sweep()
        db.session.refresh(poison)
        assert poison.status == ActionStatus.FAILED
        assert "the worker stopped while carrying it out" in poison.outcome
        assert run_due() == {"done": 2}  # the others, one by one, once
    assert all(db.session.get(ScheduledAction, r.id).status == ActionStatus.DONE for r in innocent)


def test_a_staff_cancel_does_not_touch_an_action_a_worker_has_taken(ctx):
    tag = factories.tag("Taken")
    workflow(tag_id=tag.id, actions=[(0, DelayUnit.MINUTES, ActionKind.CREATE_TASK)])
    record = factories.record()
    with time_machine.travel(T0, tick=False):
        tag_service.add_tag([record.id], tag)
        db.session.commit()
        [action_id] = workflows.claim_due(T0)
        db.session.commit()
        assert not workflows.cancel_action(db.session.get(ScheduledAction, action_id))
        run = db.session.scalar(select(WorkflowRun))
        assert workflows.cancel_run(run, "stopped by staff") == 0
        db.session.commit()
        assert workflows.execute_batch([action_id], T0) == {"cancelled": 1}
        db.session.commit()
    assert db.session.get(ScheduledAction, action_id).outcome == "The run was stopped."


def test_redis_forgetting_everything_loses_nothing(app):
    from app.redis import get_redis
    from tests.conftest import run_jobs

    with app.app_context():
        tag_id = factories.tag("Flushed").id
        workflow(tag_id=tag_id)
        record_ids = [factories.record().id for _ in range(3)]
    with time_machine.travel(T0, tick=False) as clock:
        with app.app_context():
            from models import Tag

            tag_service.add_tag(record_ids, db.session.get(Tag, tag_id))
            db.session.commit()
            clock.shift(timedelta(minutes=1))
            sweep()  # queues the batch job...
            get_redis().flushdb()  # ...which Redis then loses
            sweep()  # the next sweep finds the rows still due
        run_jobs(app)
        with app.app_context():
            sweep()
        run_jobs(app)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Task)) == 3


# -- workflow changes ----------------------------------------------------------------------------


def test_copy_makes_an_inactive_duplicate_with_its_actions(ctx):
    original = workflow(
        product_status=ProductStatus.QUOTED,
        actions=[
            (1, DelayUnit.MINUTES, ActionKind.ENABLE_SELF_SERVICE),
            (2, DelayUnit.DAYS, ActionKind.CREATE_CALL),
        ],
    )
    copy = workflows.copy_workflow(original)
    db.session.commit()
    assert (copy.name, copy.active) == ("Copy of Test flow", False)
    assert [(a.delay_amount, a.kind) for a in copy.actions] == [
        (1, ActionKind.ENABLE_SELF_SERVICE),
        (2, ActionKind.CREATE_CALL),
    ]


def test_apply_to_running_keeps_what_was_done_and_what_staff_cancelled(ctx):
    tag = factories.tag("Applied")
    wf = workflow(
        tag_id=tag.id,
        actions=[
            (0, DelayUnit.MINUTES, ActionKind.CREATE_TASK),
            (2, DelayUnit.DAYS, ActionKind.CREATE_TASK),
            (4, DelayUnit.DAYS, ActionKind.CREATE_CALL),
        ],
    )
    record = factories.record()
    with time_machine.travel(T0, tick=False):
        tag_service.add_tag([record.id], tag)
        db.session.commit()
        assert run_due() == {"done": 1}
        second = db.session.scalar(select(ScheduledAction).where(ScheduledAction.position == 1))
        assert workflows.cancel_action(second)
        db.session.commit()
        # A new first step is put in front: positions shift by one.
        for step in wf.actions:
            step.position += 1
        wf.actions.append(
            WorkflowAction(
                position=0, delay_amount=1, delay_unit=DelayUnit.DAYS, kind=ActionKind.CREATE_TASK
            )
        )
        db.session.commit()
        workflows.apply_to_running(wf)
        db.session.commit()
        rows = db.session.scalars(
            select(ScheduledAction).order_by(ScheduledAction.due_at, ScheduledAction.id)
        ).all()
    assert [(r.kind, r.status) for r in rows] == [
        (ActionKind.CREATE_TASK, ActionStatus.DONE),  # done: not again
        (ActionKind.CREATE_TASK, ActionStatus.PENDING),  # the new step
        (ActionKind.CREATE_TASK, ActionStatus.CANCELLED),  # cancelled by staff: stays so
        (ActionKind.CREATE_CALL, ActionStatus.PENDING),
    ]


def test_an_unrelated_change_does_not_start_a_workflow_switched_on_later(ctx):
    aep, other = factories.tag("AEP later"), factories.tag("Unrelated")
    record = factories.record(tags=[aep])
    ma = factories.coverage("Medicare Advantage")
    quoted = factories.record()
    factories.product(quoted, coverage_type=ma)
    by_tag = workflow(name="By tag", tag_id=aep.id)
    by_product = workflow(
        name="By product", product_status=ProductStatus.QUOTED, coverage_type_id=ma.id
    )
    tag_service.add_tag([record.id, quoted.id], other)  # another tag
    product_service.after_change(record.id)  # a product change elsewhere in the office
    db.session.commit()
    assert runs() == []
    assert workflows.dry_run_tag_change([record.id, quoted.id], other, True) == []
    # Starting one workflow for the records that already match starts only that one.
    result = workflows.evaluate([record.id, quoted.id], only={by_product.id})
    db.session.commit()
    assert result.started == 1
    assert [(r.workflow_id, r.record_id) for r in runs()] == [(by_product.id, quoted.id)]
    assert runs(by_tag) == []


def test_editing_actions_leaves_runs_alone_unless_applied(ctx):
    tag = factories.tag("Edit")
    wf = workflow(tag_id=tag.id, actions=[(1, DelayUnit.DAYS, ActionKind.CREATE_TASK)])
    record = factories.record()
    with time_machine.travel(T0, tick=False):
        tag_service.add_tag([record.id], tag)
        db.session.commit()
        wf.actions[0].delay_amount = 3
        wf.actions.append(
            WorkflowAction(
                position=1,
                delay_amount=5,
                delay_unit=DelayUnit.DAYS,
                kind=ActionKind.CREATE_CALL,
                target=ActionTarget.AGENT,
            )
        )
        db.session.commit()
        due = [a.due_at for a in db.session.scalars(select(ScheduledAction))]
        assert due == [T0 + timedelta(days=1)]
        workflows.apply_to_running(wf)
        db.session.commit()
        due = sorted(
            a.due_at
            for a in db.session.scalars(
                select(ScheduledAction).where(ScheduledAction.status == ActionStatus.PENDING)
            )
        )
        assert due == [T0 + timedelta(days=3), T0 + timedelta(days=5)]


def test_dry_run_says_what_a_bulk_tag_would_do_and_changes_nothing(ctx):
    tag = factories.tag("Dry")
    workflow(
        tag_id=tag.id,
        actions=[
            (1, DelayUnit.MINUTES, ActionKind.CREATE_TASK),
            (2, DelayUnit.DAYS, ActionKind.CREATE_CALL),
        ],
    )
    ids = [factories.record().id for _ in range(5)]
    with time_machine.travel(T0, tick=False):
        [plan] = workflows.dry_run_tag_change(ids, tag, add=True)
    assert plan.starts == 5
    assert plan.schedule == {
        ("2026-09-01", "Create task"): 5,
        ("2026-09-03", "Create call task"): 5,
    }
    assert runs() == []
    assert db.session.scalar(select(func.count()).select_from(Record).where(Record.tags.any())) == 0


def test_dry_run_counts_only_the_messages_clients_would_get(ctx):
    tag = factories.tag("Consent check")
    wf = workflow(
        tag_id=tag.id,
        actions=[
            (1, DelayUnit.MINUTES, ActionKind.SEND_EMAIL),
            (30, DelayUnit.MINUTES, ActionKind.SEND_SMS),
        ],
    )
    for step in wf.actions:
        step.target = ActionTarget.RECORD
    db.session.commit()
    ids = [
        factories.record(sms_opt_in=True, mobile="+12025550101").id,
        factories.record(sms_opt_in=False, mobile="+12025550102").id,
        factories.record(email_opt_in=False).id,
    ]
    with time_machine.travel(T0, tick=False):
        [plan] = workflows.dry_run_tag_change(ids, tag, add=True)
    assert plan.schedule == {
        ("2026-09-01", "Send email"): 2,
        ("2026-09-01", "Send email: not sent (opted out of email, or no address)"): 1,
        ("2026-09-01", "Send text message"): 1,
        ("2026-09-01", "Send text message: not sent (no consent to texts, or no mobile number)"): 2,
    }


def test_bulk_tagging_ten_thousand_records_schedules_forty_thousand_actions(ctx):
    tag = factories.tag("AEP Bulk")
    workflow(
        tag_id=tag.id,
        for_leads=False,
        actions=[
            (1, DelayUnit.MINUTES, ActionKind.SEND_EMAIL),
            (30, DelayUnit.MINUTES, ActionKind.SEND_SMS),
            (30, DelayUnit.MINUTES, ActionKind.ENABLE_SELF_SERVICE),
            (7, DelayUnit.DAYS, ActionKind.CREATE_CALL),
        ],
    )
    rows = [
        {
            "kind": "client",
            "first_name": "Bulk",
            "last_name": f"C{n:05d}",
            "country": "US",
            "preferred_contact": "email",
            "email_opt_in": True,
            "sms_opt_in": False,
        }
        for n in range(10_000)
    ]
    ids = list(db.session.scalars(insert(Record).returning(Record.id), rows))
    db.session.commit()
    gained = tag_service.add_tag(ids, tag)
    db.session.commit()
    assert len(gained) == 10_000
    assert db.session.scalar(select(func.count()).select_from(WorkflowRun)) == 10_000
    assert db.session.scalar(select(func.count()).select_from(ScheduledAction)) == 40_000


# -- reminders ----------------------------------------------------------------------------------


def test_reminder_tasks_email_their_assignee_once_when_due(ctx):
    from models import TaskKind

    staff = factories.staff(email="remind.me@example.com", first_name="Rhea")
    factories.task(
        "Bulk-tag AEP clients", staff, kind=TaskKind.REMINDER, due_at=T0 + timedelta(hours=1)
    )
    factories.task("Not a reminder", staff, kind=TaskKind.TODO, due_at=T0)
    with time_machine.travel(T0, tick=False) as clock:
        assert sweep()["reminders_sent"] == 0
        clock.shift(timedelta(hours=1))
        assert sweep()["reminders_sent"] == 1
        assert sweep()["reminders_sent"] == 0
    [message] = db.session.scalars(select(OutboxMessage)).all()
    assert message.recipient == "remind.me@example.com"
    assert message.subject == "Reminder: Bulk-tag AEP clients"
    assert "Hello Rhea" in message.body_text


# -- calendar delays, staff messages, switching off, concurrent starts, claim order -------------


def test_calendar_delays_keep_the_office_hour_across_daylight_saving_and_month_ends(ctx):
    # 22:00 on January 30 in New York is already January 31 in UTC.
    start = datetime(2027, 1, 31, 3, 0, tzinfo=UTC)
    assert workflows.add_delay(start, 1, DelayUnit.MONTHS) == datetime(
        2027, 3, 1, 3, 0, tzinfo=UTC
    )  # February 28, 22:00 in New York (EST)
    # 09:00 on Friday March 12, 2027 (EST) + 3 days: Monday 09:00 EDT, an hour earlier in UTC.
    friday = datetime(2027, 3, 12, 14, 0, tzinfo=UTC)
    assert workflows.add_delay(friday, 3, DelayUnit.DAYS) == datetime(
        2027, 3, 15, 13, 0, tzinfo=UTC
    )
    assert workflows.add_delay(friday, 1, DelayUnit.WEEKS) == datetime(
        2027, 3, 19, 13, 0, tzinfo=UTC
    )
    # Minutes and hours are elapsed time, whatever the clocks do.
    assert workflows.add_delay(friday, 72, DelayUnit.HOURS) == friday + timedelta(hours=72)


def test_a_message_for_the_agent_never_goes_to_the_client(ctx, mailbox):
    from app.services.portal_settings import get_settings

    tag = factories.tag("Internal")
    workflow(
        tag_id=tag.id,
        actions=[
            (0, DelayUnit.MINUTES, ActionKind.SEND_EMAIL),
            (0, DelayUnit.MINUTES, ActionKind.SEND_SMS),
        ],
    )
    for channel in (Channel.EMAIL, Channel.SMS):
        db.session.add(
            MessageTemplate(
                key=f"internal.{channel.value}",
                channel=channel,
                name="Internal note",
                subject="Call {{ record.full_name }}",
                body="Please call {{ record.full_name }} today.",
            )
        )
    for step in db.session.scalars(select(WorkflowAction)):
        step.template_key = f"internal.{'email' if step.kind == ActionKind.SEND_EMAIL else 'sms'}"
    nobody = factories.record(email="client@example.com", mobile="+12025550143", sms_opt_in=True)
    db.session.commit()
    with time_machine.travel(T0, tick=False):
        tag_service.add_tag([nobody.id], tag)
        db.session.commit()
        run_due()
        outcomes = sorted(db.session.scalars(select(ScheduledAction.outcome)))
        assert outcomes == [
            "Not sent: the record has no active agent and no office address is set.",
            "Not sent: the record has no active agent.",
        ]
        assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 0

        get_settings().office_email = "office@example.com"
        other = factories.record(email="client2@example.com")
        db.session.commit()
        tag_service.add_tag([other.id], tag)
        db.session.commit()
        run_due()
    recipients = list(db.session.scalars(select(OutboxMessage.recipient)))
    assert recipients == ["office@example.com"]


def test_switching_a_workflow_off_stops_its_runs_and_fires_nothing_more(ctx):
    tag = factories.tag("Campaign")
    wf = workflow(
        tag_id=tag.id,
        actions=[
            (1, DelayUnit.MINUTES, ActionKind.CREATE_TASK),
            (2, DelayUnit.DAYS, ActionKind.CREATE_CALL),
        ],
    )
    ids = [factories.record().id for _ in range(3)]
    with time_machine.travel(T0, tick=False) as clock:
        tag_service.add_tag(ids, tag)
        db.session.commit()
        clock.shift(timedelta(minutes=2))
        wf.active = False  # switched off behind the panel's back: the firing checks too
        db.session.commit()
        assert run_due() == {"cancelled": 3}
        assert {r.status for r in runs(wf)} == {RunStatus.CANCELLED}
        assert {r.end_reason for r in runs(wf)} == {"the workflow was switched off"}
        assert db.session.scalar(select(func.count()).select_from(Task)) == 0

        wf.active = True
        db.session.commit()
        more = [factories.record().id for _ in range(2)]
        tag_service.add_tag(more, tag)
        db.session.commit()
        assert workflows.stop_runs(wf) == 2
        db.session.commit()
    left = db.session.scalars(
        select(ScheduledAction.status).where(ScheduledAction.record_id.in_(more))
    ).all()
    assert set(left) == {ActionStatus.CANCELLED}


def test_a_run_started_meanwhile_elsewhere_is_skipped_not_an_error(ctx):
    tag = factories.tag("Race")
    wf = workflow(tag_id=tag.id)
    first, second = factories.record(), factories.record()
    tag_service.add_tag([first.id], tag)
    db.session.commit()
    # Another request started the first record's run after this one looked: only the
    # second record starts here, and the change as a whole goes through.
    started, scheduled = workflow_runs._start_runs(wf, [first.id, second.id], utcnow())
    db.session.commit()
    assert (started, scheduled) == (1, 1)
    assert sorted(r.record_id for r in runs(wf)) == [first.id, second.id]


def test_actions_that_keep_failing_do_not_hold_up_fresh_ones(ctx):
    tag = factories.tag("Queue")
    wf = workflow(tag_id=tag.id, actions=[(0, DelayUnit.MINUTES, ActionKind.CREATE_TASK)])
    ids = [factories.record().id for _ in range(4)]
    with time_machine.travel(T0, tick=False):
        tag_service.add_tag(ids, tag)
        db.session.commit()
        tried = db.session.scalars(select(ScheduledAction).order_by(ScheduledAction.id)).all()[:2]
        for row in tried:
            row.attempts = 1  # failed once before, due again now
        db.session.commit()
        first = workflows.claim_due(utcnow())
        second = workflows.claim_due(utcnow())
        db.session.commit()
    assert first == sorted(a.id for a in db.session.scalars(select(ScheduledAction)))[2:]
    assert second == [tried[0].id]
    del wf


def test_saving_puts_actions_in_firing_order_and_says_when_it_switches_off(ctx):
    wf = workflow(
        tag_id=factories.tag("Ordered").id,
        actions=[
            (1, DelayUnit.MONTHS, ActionKind.CREATE_TASK),
            (29, DelayUnit.DAYS, ActionKind.CREATE_CALL),
            (2, DelayUnit.HOURS, ActionKind.CREATE_TASK),
        ],
    )
    assert workflows.prepare_save(wf, is_created=False) is False
    assert [(a.delay_amount, a.position) for a in wf.actions] == [(1, 2), (29, 1), (2, 0)]
    assert wf.version == 2
    db.session.commit()
    wf.active = False
    assert workflows.prepare_save(wf, is_created=False) is True
    with pytest.raises(ValidationError, match="Switch the workflow on first"):
        workflows.start_for_matching(wf)


def test_stopping_a_run_that_has_ended_changes_and_logs_nothing(ctx):
    from models import ActivityEntry

    tag = factories.tag("Ended")
    wf = workflow(tag_id=tag.id)
    record = factories.record()
    tag_service.add_tag([record.id], tag)
    tag_service.remove_tag([record.id], tag)  # the run stops by itself
    db.session.commit()
    [run] = runs(wf)
    logged = db.session.scalar(select(func.count()).select_from(ActivityEntry))
    assert workflows.cancel_run(run, "stopped by staff") == 0
    db.session.commit()
    assert run.end_reason == "the record no longer matches"
    assert db.session.scalar(select(func.count()).select_from(ActivityEntry)) == logged
