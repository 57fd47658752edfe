"""Workers that survive what goes wrong around them: a failing database, killed workers,
restarts under the same name, and a queue full of mail ahead of the sweep."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import event, func, select, update
from sqlalchemy.exc import OperationalError

from app.redis import get_redis
from app.services import outbox, workflows
from app.services import tags as tag_service
from jobs.sweeper import sweep
from jobs.workflows import run_due
from models import (
    ActionKind,
    ActionStatus,
    Channel,
    DelayUnit,
    ScheduledAction,
    Task,
    db,
    utcnow,
)
from tests import factories
from tests.services.test_workflows import T0, workflow
from tests.test_queue import _beat


def _tagged_into_a_workflow(count: int, name: str) -> list[int]:
    tag = factories.tag(name)
    workflow(tag_id=tag.id, actions=[(0, DelayUnit.MINUTES, ActionKind.CREATE_TASK)])
    ids = [factories.record().id for _ in range(count)]
    tag_service.add_tag(ids, tag)
    db.session.commit()
    return ids


@pytest.fixture
def failing_task_inserts(app):
    """The database drops the connection the first time a task is written."""
    failures: list[str] = []

    def fail_once(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        if not failures and statement.startswith("INSERT INTO tasks"):
            failures.append(statement)
            raise OperationalError(statement, parameters, Exception("connection terminated"))

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", fail_once)
    yield failures
    event.remove(engine, "before_cursor_execute", fail_once)


def test_a_database_error_mid_batch_hands_the_claims_back_at_once(ctx, failing_task_inserts):
    with time_machine.travel(T0, tick=False):
        _tagged_into_a_workflow(3, "Batch")
        with pytest.raises(OperationalError):
            run_due()
        assert failing_task_inserts
        db.session.rollback()
        rows = db.session.scalars(select(ScheduledAction)).all()
        # Not held for the stale-claim timeout, and the try is not counted against them.
        assert [(r.status, r.attempts, r.claimed_at) for r in rows] == [
            (ActionStatus.PENDING, 0, None)
        ] * 3
        assert run_due() == {"done": 3}  # the next batch takes all three together
    assert db.session.scalar(select(func.count()).select_from(Task)) == 3


def test_claims_of_a_killed_worker_are_handed_back_within_seconds(ctx):
    _tagged_into_a_workflow(2, "Killed")
    db.session.execute(update(ScheduledAction).values(due_at=utcnow()))
    db.session.commit()
    claimed = workflows.claim_due(utcnow(), worker="w-alive")
    db.session.commit()
    _beat(get_redis(), "w-alive", beat_ago=1)
    assert sweep()["workflow_claims_released"] == 0  # its worker beats: it is working on them
    _beat(get_redis(), "w-alive", beat_ago=20)  # SIGKILLed: the heartbeat stops
    assert sweep()["workflow_claims_released"] == len(claimed) == 2
    assert run_due() == {"done": 2}


def test_no_one_is_judged_dead_right_after_redis_came_back(ctx):
    _tagged_into_a_workflow(1, "Outage")
    db.session.execute(update(ScheduledAction).values(due_at=utcnow()))
    db.session.commit()
    workflows.claim_due(utcnow(), worker="w-quiet")
    db.session.commit()
    _beat(get_redis(), "w-quiet", beat_ago=20)  # every beat is old after an outage
    assert sweep(judge_workers=False)["workflow_claims_released"] == 0


def test_a_worker_restarted_under_its_name_after_a_kill_starts_at_once(app):
    from tests.test_cli import run

    with app.app_context():
        _beat(get_redis(), "w2", beat_ago=30)  # the key of the killed w2 lingers for minutes
    result = run(app, "worker", "--burst", "--name", "w2")
    assert result.exit_code == 0, result.output
    assert "Worker w2 serving" in result.output


def test_the_sweep_runs_within_two_seconds_behind_500_queued_emails(app, mailbox):
    from app.redis import worker_redis
    from jobs.worker import Ticker, make_worker

    with app.app_context():
        _tagged_into_a_workflow(1, "Urgent")
        for n in range(500):
            outbox.put(key=f"mail-{n}", channel=Channel.EMAIL, to=f"c{n}@example.com", text="Hi")
        db.session.commit()
        started = utcnow()
        db.session.execute(update(ScheduledAction).values(due_at=started))
        db.session.commit()
        ticker = Ticker(worker_redis(app), owner="ticker-test", app=app)
    first_sweep = []
    sweep_now = ticker.sweep

    def timed_sweep():
        first_sweep.append(first_sweep[0] if first_sweep else utcnow())
        sweep_now()

    ticker.sweep = timed_sweep
    ticker.start()
    try:
        # The mail's delivery job, then the batch: it makes way long before the 500th email.
        make_worker(app, simple=True).work(burst=True, max_jobs=2, logging_level="WARNING")
    finally:
        ticker.stop()
        ticker.join(timeout=5)
    with app.app_context():
        action = db.session.scalar(select(ScheduledAction))
        assert action.status == ActionStatus.DONE
        assert first_sweep[0] - started < timedelta(seconds=2)
        # ...and the batch it queued ran as soon as the mail's job made way for it.
        assert action.finished_at - started < timedelta(seconds=3)
    assert len(mailbox.messages) < 500


def test_a_ticker_beats_for_its_worker_and_registers_it_again_after_redis_forgot(app):
    from rq import Worker

    from app.queue import worker_alive
    from jobs.worker import Ticker, make_worker

    worker = make_worker(app, simple=True, name="w-beat")
    worker.register_birth()
    try:
        ticker = Ticker(worker.connection, owner=worker.name, app=app, worker=worker)
        ticker.sweeps = False
        worker.connection.flushdb()  # Redis restarted empty
        ticker.tick()
        assert worker_alive(worker.connection, "w-beat")
        assert worker.key in {w.key for w in Worker.all(connection=worker.connection)}
    finally:
        worker.register_death()


def test_sweeps_are_not_queued_as_jobs(app):
    from app.queue import get_queue
    from app.redis import worker_redis
    from jobs.worker import Ticker

    with app.app_context():
        ticker = Ticker(worker_redis(app), owner="t", app=app)
        assert ticker.tick() is True
        queued = [job.func_name for job in get_queue("default").jobs]
        assert not [name for name in queued if "sweep" in name], queued
