"""Services hand work to jobs after commit, by reference; a rollback drops it."""

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
        queue.connection.set(key, "alive", ex=60)  # a live worker keeps its key
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
