def test_healthz_reports_database_and_redis(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "ok"
    assert body["database"]["ok"] and body["redis"]["ok"]


def test_healthz_is_503_when_redis_is_down(make_app):
    app = make_app(REDIS_URL="redis://127.0.0.1:1/0")  # nothing listens on port 1
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "unavailable"
    assert body["database"]["ok"] is True
    assert body["redis"]["ok"] is False and "Error" in body["redis"]["error"]


def test_healthz_is_503_when_the_database_is_down(make_app):
    app = make_app(SQLALCHEMY_DATABASE_URI="postgresql+psycopg://nobody@127.0.0.1:1/none")
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["database"]["ok"] is False


def test_healthz_reports_the_queue(client, app):
    from datetime import timedelta

    from app.services import outbox
    from models import Channel, db, utcnow

    with app.app_context():
        message = outbox.put(key="h-1", channel=Channel.EMAIL, to="c@example.com", text="Hi")
        message.next_attempt_at = utcnow() - timedelta(seconds=20)
        db.session.commit()
    body = client.get("/healthz").get_json()
    queue = body["queue"]
    assert body["status"] == "ok" and queue["ok"] is True
    assert queue["messages_due"] == 1 and 15 < queue["oldest_unsent_message_late_seconds"] < 60
    assert queue["oldest_due_action"] is None and queue["actions_due"] == 0
    assert queue["workers_alive"] == 0 and queue["scheduler_alive"] is False
    assert queue["queued_jobs"]["email"] == 1


def test_healthz_is_503_when_work_is_more_than_a_minute_late(client, app):
    from datetime import timedelta

    from app.services import outbox
    from models import Channel, db, utcnow

    with app.app_context():
        message = outbox.put(key="h-2", channel=Channel.EMAIL, to="c@example.com", text="Hi")
        message.next_attempt_at = utcnow() - timedelta(minutes=2)
        db.session.commit()
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "unavailable" and body["queue"]["ok"] is False
    assert body["queue"]["oldest_unsent_message_late_seconds"] > 110


def test_healthz_counts_workers_that_beat_and_sees_the_sweeper(client, app):
    from app.redis import worker_redis
    from jobs.worker import Ticker, make_worker

    worker = make_worker(app, simple=True, name="w-health")
    worker.register_birth()
    try:
        with app.app_context():
            Ticker(worker_redis(app), owner="w-health", app=app, worker=worker).tick()
        queue = client.get("/healthz").get_json()["queue"]
        assert queue["workers_alive"] == 1 and queue["scheduler_alive"] is True
        assert queue["workers"][0]["name"] == "w-health"
    finally:
        worker.register_death()
