"""Services hand work to jobs after commit, by reference; a rollback drops it."""

from datetime import UTC, datetime, timedelta

from app.queue import enqueue_after_commit, get_queue
from jobs.worker import make_worker
from models import db
from tests import factories


def queued_ids(app, name="default"):
    with app.app_context():
        return get_queue(name).job_ids


def test_jobs_are_queued_only_when_the_transaction_commits(app):
    with app.app_context():
        factories.record()
        enqueue_after_commit("jobs.maintenance.ping", "after", job_id="ping-1")
        assert queued_ids(app) == []
        db.session.commit()
    assert queued_ids(app) == ["ping-1"]


def test_a_rollback_drops_the_job(app):
    with app.app_context():
        enqueue_after_commit("jobs.maintenance.ping", job_id="ping-2")
        db.session.rollback()
        db.session.commit()
    assert queued_ids(app) == []


def test_the_same_job_id_is_not_queued_twice(app):
    with app.app_context():
        for _ in range(3):
            enqueue_after_commit("jobs.maintenance.ping", job_id="ping-3")
            db.session.commit()
    assert queued_ids(app) == ["ping-3"]


def test_a_burst_worker_runs_jobs_in_an_app_context(app):
    with app.app_context():
        enqueue_after_commit("jobs.maintenance.ping", "from-test", job_id="ping-4", queue="default")
        db.session.commit()
    worker = make_worker(app, simple=True)
    assert worker.work(burst=True) is True
    with app.app_context():
        job = get_queue("default").fetch_job("ping-4")
        assert job.return_value() == {"value": "from-test"}


def test_unknown_queue_is_a_programming_error(app):
    import pytest

    with app.app_context(), pytest.raises(ValueError, match="unknown queue"):
        enqueue_after_commit("jobs.maintenance.ping", queue="everything")


def test_a_job_left_started_by_a_killed_worker_does_not_block_its_id(app):
    from rq import Worker
    from rq.job import JobStatus

    from app.queue import PendingJob, enqueue_now

    with app.app_context():
        queue = get_queue("default")
        enqueue_now(PendingJob("jobs.maintenance.ping", job_id="ping-5"))
        job = queue.fetch_job("ping-5")
        queue.remove(job)  # a worker took it...
        job.worker_name = "killed-worker"
        job.set_status(JobStatus.STARTED)
        job.save()

        enqueue_now(PendingJob("jobs.maintenance.ping", job_id="ping-5"))
        assert queue.job_ids == ["ping-5"]  # ...and died: its heartbeat is gone, so requeued

        queue.remove(job)
        job.worker_name = "busy-worker"
        job.set_status(JobStatus.STARTED)
        job.save()
        key = Worker.redis_worker_namespace_prefix + "busy-worker"
        _beat(queue.connection, "busy-worker", beat_ago=1)  # a live worker keeps beating
        try:
            enqueue_now(PendingJob("jobs.maintenance.ping", job_id="ping-5"))
            assert queue.job_ids == []
        finally:
            queue.connection.delete(key)


def test_a_worker_does_not_fill_its_log_with_the_sweep_every_second(app, caplog):
    from jobs.worker import SWEEP_JOB_ID

    with app.app_context():
        enqueue_after_commit("jobs.sweeper.sweep", job_id=SWEEP_JOB_ID)
        enqueue_after_commit("jobs.maintenance.ping", "seen", job_id="ping-6")
        db.session.commit()
    with caplog.at_level("INFO", logger="rq.worker"):
        assert make_worker(app, simple=True).work(burst=True, logging_level="INFO") is True
    said = [record.getMessage() for record in caplog.records if record.name == "rq.worker"]
    assert any("ping-6" in line for line in said)
    assert not any(SWEEP_JOB_ID in line or "sweeper" in line for line in said)


# -- jobs wait for the outermost commit ----------------------------------------------------------


def test_a_released_savepoint_does_not_send_its_jobs_before_the_outer_commit(app):
    with app.app_context():
        with db.session.begin_nested():
            enqueue_after_commit("jobs.maintenance.ping", job_id="inner")
        assert queued_ids(app) == []  # the savepoint is released, the transaction is open
        db.session.commit()
    assert queued_ids(app) == ["inner"]


def test_a_savepoint_rolled_back_drops_its_own_jobs_only(app):
    with app.app_context():
        enqueue_after_commit("jobs.maintenance.ping", job_id="outer")
        savepoint = db.session.begin_nested()
        enqueue_after_commit("jobs.maintenance.ping", job_id="undone")
        with db.session.begin_nested():
            enqueue_after_commit("jobs.maintenance.ping", job_id="undone-too")
        savepoint.rollback()
        with db.session.begin_nested():
            enqueue_after_commit("jobs.maintenance.ping", job_id="kept")
        db.session.commit()
    assert sorted(queued_ids(app)) == ["kept", "outer"]


def test_an_outer_rollback_drops_jobs_of_released_savepoints(app):
    with app.app_context():
        with db.session.begin_nested():
            enqueue_after_commit("jobs.maintenance.ping", job_id="gone")
        db.session.rollback()
        db.session.commit()
    assert queued_ids(app) == []


def test_an_outbox_message_reaches_redis_only_with_its_row(app):
    from sqlalchemy import select

    from app.services import outbox
    from models import Channel, OutboxMessage

    with app.app_context():
        # A write first, as in a request: SQLite's driver opens its transaction only then.
        db.session.add(factories.Tag(name="Opened"))
        db.session.flush()
        with db.session.begin_nested():  # as a workflow batch sends it
            outbox.put(key="early", channel=Channel.EMAIL, to="c@example.com", text="Hi")
        assert get_queue("email").job_ids == []  # savepoints were released, nothing committed
        db.session.rollback()
        assert db.session.scalar(select(OutboxMessage)) is None
    assert get_queue_ids(app, "email") == []


def get_queue_ids(app, name):
    with app.app_context():
        return get_queue(name).job_ids


# -- dead workers are known by their heartbeat ---------------------------------------------------


def _started_by(queue, job_id, worker_name):
    from rq.job import JobStatus

    from app.queue import PendingJob, enqueue_now

    enqueue_now(PendingJob("jobs.maintenance.ping", queue=queue.name, job_id=job_id))
    job = queue.fetch_job(job_id)
    queue.remove(job)
    job.worker_name = worker_name
    job.started_at = datetime.now(UTC) - timedelta(seconds=1)
    job.set_status(JobStatus.STARTED)
    job.save()
    return job


def _beat(connection, name, beat_ago, born_ago=60):
    from rq import Worker
    from rq.utils import utcformat

    now = datetime.now(UTC)
    key = Worker.redis_worker_namespace_prefix + name
    connection.hset(
        key,
        mapping={
            "last_heartbeat": utcformat(now - timedelta(seconds=beat_ago)),
            "birth": utcformat(now - timedelta(seconds=born_ago)),
        },
    )
    connection.expire(key, 480)  # RQ keeps a killed worker's key this long


def test_a_job_of_a_killed_worker_is_requeued_once_its_heartbeat_stops(app):
    from app.queue import WORKER_DEAD_AFTER, PendingJob, enqueue_now

    with app.app_context():
        queue = get_queue("workflow")
        _started_by(queue, "run", "w-killed")
        _beat(queue.connection, "w-killed", beat_ago=WORKER_DEAD_AFTER.total_seconds() + 1)
        enqueue_now(PendingJob("jobs.maintenance.ping", queue="workflow", job_id="run"))
        assert queue.job_ids == ["run"]  # its key is still there, but it has stopped beating

        queue.empty()
        _started_by(queue, "run2", "w-busy")
        _beat(queue.connection, "w-busy", beat_ago=1)
        enqueue_now(PendingJob("jobs.maintenance.ping", queue="workflow", job_id="run2"))
        assert queue.job_ids == []  # alive and beating: still running it


def test_a_worker_restarted_under_the_same_name_does_not_hold_its_old_jobs(app):
    from app.queue import PendingJob, enqueue_now

    with app.app_context():
        queue = get_queue("workflow")
        _started_by(queue, "run", "w2")
        _beat(queue.connection, "w2", beat_ago=0, born_ago=0)  # a new w2, born after it
        enqueue_now(PendingJob("jobs.maintenance.ping", queue="workflow", job_id="run"))
        assert queue.job_ids == ["run"]


def test_a_retry_waiting_for_a_dead_scheduler_is_queued_when_due(app):
    from app.queue import PendingJob, enqueue_now

    with app.app_context():
        queue = get_queue("email")
        past = datetime.now(UTC) - timedelta(seconds=5)
        enqueue_now(PendingJob("jobs.maintenance.ping", queue="email", job_id="retry", at=past))
        assert queue.job_ids == []  # scheduled; no scheduler is alive to move it
        enqueue_now(PendingJob("jobs.maintenance.ping", queue="email", job_id="retry"))
        assert queue.job_ids == ["retry"]
        assert queue.scheduled_job_registry.get_job_ids() == []
