"""The outbox delivers through a real SMTP server, once per key, with retries and backoff."""

import json
import threading
from base64 import b64decode
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs

import pytest
from sqlalchemy import select

from app.services import outbox
from jobs.delivery import deliver
from jobs.sweeper import sweep
from models import Channel, OutboxMessage, OutboxStatus, db, utcnow
from tests.conftest import body_of, free_port, run_jobs


def put_email(key="k-1", to="client@example.com", sensitive=False):
    return outbox.put(
        key=key,
        channel=Channel.EMAIL,
        to=to,
        to_name="Cleo Client",
        subject="Hello",
        text="Body text https://x.test/a",
        html="<p>Body</p>",
        sensitive=sensitive,
        reply_to="agent@example.com",
    )


def test_an_email_is_a_row_first_then_a_worker_sends_it(app, mailbox):
    with app.app_context():
        message = put_email()
        assert message.status == OutboxStatus.QUEUED
        db.session.commit()
    assert mailbox.messages == []
    run_jobs(app)
    [received] = mailbox.wait_for(1)
    assert received["To"] == "Cleo Client <client@example.com>"
    assert received["From"] == "Portico Test <portal@example.com>"
    assert received["Reply-To"] == "agent@example.com"
    assert received["Subject"] == "Hello"
    assert body_of(received).strip() == "Body text https://x.test/a"
    assert received.get_body(preferencelist=("html",)).get_content().strip() == "<p>Body</p>"
    with app.app_context():
        stored = db.session.scalar(select(OutboxMessage))
        assert stored.status == OutboxStatus.SENT and stored.attempts == 1
        assert stored.provider_id == received["Message-ID"]


def test_the_same_key_adds_nothing(ctx):
    first = put_email()
    second = put_email()
    assert first.id == second.id
    assert db.session.scalars(select(OutboxMessage)).all() == [first]


def test_a_job_that_runs_twice_sends_once(app, mailbox):
    with app.app_context():
        message_id = put_email().id
        db.session.commit()
        assert deliver(message_id) == "sent"
        assert deliver(message_id).startswith("skipped")
    run_jobs(app)  # the queued job runs a third time
    assert len(mailbox.wait_for(1)) == 1


def test_sensitive_messages_are_blanked_once_delivered(app, mailbox):
    with app.app_context():
        message_id = put_email(sensitive=True).id
        db.session.commit()
    run_jobs(app)
    assert "Body text" in body_of(mailbox.wait_for(1)[0])
    with app.app_context():
        stored = db.session.get(OutboxMessage, message_id)
        assert stored.body_text == outbox.REDACTED and stored.body_html is None


def test_smtp_down_retries_with_backoff_then_fails(make_app, mailbox):
    app = make_app(MAIL_PORT=free_port(), PORTICO_OUTBOX_MAX_ATTEMPTS=3)  # nobody listens
    with app.app_context():
        message_id = put_email().id
        db.session.commit()
        started = utcnow()
        deliver(message_id)
        message = db.session.get(OutboxMessage, message_id)
        assert message.status == OutboxStatus.QUEUED and message.attempts == 1
        assert "ConnectionRefused" in message.last_error
        assert timedelta(seconds=25) < message.next_attempt_at - started < timedelta(seconds=40)
        assert deliver(message_id).startswith("skipped")  # not due yet: nothing happens
        for attempt in (2, 3):
            message.next_attempt_at = utcnow()
            db.session.commit()
            deliver(message_id)
            message = db.session.get(OutboxMessage, message_id)
            assert message.attempts == attempt
        assert message.status == OutboxStatus.FAILED
        assert outbox.retry(message) is True
        db.session.commit()
        assert message.status == OutboxStatus.QUEUED and message.last_error


def test_a_refused_recipient_fails_at_once(app, mailbox):
    with app.app_context():
        message = put_email(to="bounce@example.com")  # the SMTP server answers 550
        db.session.commit()
        deliver(message.id)
        message = db.session.get(OutboxMessage, message.id)
        assert (message.status, message.attempts) == (OutboxStatus.FAILED, 1)
        assert "recipient refused" in message.last_error
    assert mailbox.messages == []


def test_bad_recipients_are_refused_before_anything_is_queued(ctx):
    from app.services.errors import ValidationError

    with pytest.raises(ValidationError, match="email address"):
        put_email(to="not-an-address")
    with pytest.raises(ValidationError, match="phone number"):
        outbox.put(key="s", channel=Channel.SMS, to="call me", text="x")


def test_without_smtp_mail_is_written_as_eml_files(make_app):
    app = make_app(MAIL_SERVER=None)
    with app.app_context():
        message_id = put_email(to="eml@example.com").id
        db.session.commit()
        deliver(message_id)
        message = db.session.get(OutboxMessage, message_id)
        assert message.status == OutboxStatus.SENT
        path = Path(app.config["PORTICO_INSTANCE_PATH"]) / "mail" / message.provider_id
    content = path.read_text()
    assert "To: Cleo Client <eml@example.com>" in content and "Subject: Hello" in content


def test_sms_by_default_lands_in_the_instance_folder(app):
    with app.app_context():
        message = outbox.put(
            key="s-1", channel=Channel.SMS, to="+12025550143", text="Your code is 123456"
        )
        db.session.commit()
        deliver(message.id)
        message = db.session.get(OutboxMessage, message.id)
        assert message.status == OutboxStatus.SENT
        path = Path(app.config["PORTICO_INSTANCE_PATH"]) / "sms" / message.provider_id
    assert path.read_text() == "To: +12025550143\n\nYour code is 123456"


class FakeTwilio(BaseHTTPRequestHandler):
    received: list[dict] = []
    fail_with: int | None = None

    def do_POST(self):
        length = int(self.headers["Content-Length"])
        form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
        user = b64decode(self.headers["Authorization"].split()[1]).decode().split(":")[0]
        FakeTwilio.received.append({"path": self.path, "form": form, "user": user})
        status = FakeTwilio.fail_with or 201
        body = (
            {"sid": "SM123", "status": "queued", "to": form.get("To")}
            if status == 201
            else {"code": 21211, "message": "Invalid 'To' Phone Number", "status": status}
        )
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args):
        pass


@pytest.fixture
def twilio():
    FakeTwilio.received = []
    FakeTwilio.fail_with = None
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeTwilio)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_twilio_provider_sends_through_the_messages_api(make_app, twilio):
    app = make_app(
        PORTICO_SMS_PROVIDER="twilio",
        TWILIO_ACCOUNT_SID="AC123",
        TWILIO_AUTH_TOKEN="secret",
        TWILIO_FROM_NUMBER="+12025550100",
        TWILIO_API_URL=twilio,
    )
    with app.app_context():
        message = outbox.put(key="t-1", channel=Channel.SMS, to="+12025550143", text="Hi")
        db.session.commit()
        deliver(message.id)
        message = db.session.get(OutboxMessage, message.id)
        assert (message.status, message.provider_id) == (OutboxStatus.SENT, "SM123")
    [call] = FakeTwilio.received
    assert call["path"] == "/2010-04-01/Accounts/AC123/Messages.json"
    assert call["form"] == {"To": "+12025550143", "From": "+12025550100", "Body": "Hi"}
    assert call["user"] == "AC123"


def test_twilio_refusing_a_number_fails_without_retries(make_app, twilio):
    FakeTwilio.fail_with = 400
    app = make_app(
        PORTICO_SMS_PROVIDER="twilio",
        TWILIO_ACCOUNT_SID="AC123",
        TWILIO_AUTH_TOKEN="secret",
        TWILIO_FROM_NUMBER="+12025550100",
        TWILIO_API_URL=twilio,
    )
    with app.app_context():
        message = outbox.put(key="t-2", channel=Channel.SMS, to="+12025550143", text="Hi")
        db.session.commit()
        deliver(message.id)
        message = db.session.get(OutboxMessage, message.id)
        assert message.status == OutboxStatus.FAILED and message.attempts == 1
        assert "Invalid 'To' Phone Number" in message.last_error


def test_sweeper_resends_what_redis_lost_and_what_was_interrupted(app, mailbox):
    from app.redis import get_redis

    with app.app_context():
        lost = put_email(key="lost").id
        interrupted = put_email(key="interrupted", to="other@example.com")
        interrupted_id = interrupted.id
        db.session.commit()
        get_redis().flushdb()  # Redis forgets the queued jobs
        interrupted.status = OutboxStatus.SENDING
        interrupted.attempts = 1
        interrupted.claimed_at = utcnow() - outbox.STALE_CLAIM - timedelta(seconds=1)
        db.session.commit()
        result = sweep()
        assert (result["unknown_outcomes"], result["messages_requeued"]) == (1, 2)
        unknown = db.session.get(OutboxMessage, interrupted_id)
        assert unknown.status == OutboxStatus.UNKNOWN and "may or may not" in unknown.last_error
    run_jobs(app)
    assert sorted(str(m["To"]) for m in mailbox.wait_for(2)) == [
        "Cleo Client <client@example.com>",
        "Cleo Client <other@example.com>",
    ]
    with app.app_context():
        assert db.session.get(OutboxMessage, lost).status == OutboxStatus.SENT
        resent = db.session.get(OutboxMessage, interrupted_id)
        assert resent.status == OutboxStatus.SENT and resent.last_error == outbox.RESENT


def _kill_worker_mid_send(message_id, worker="w-killed"):
    """What a SIGKILL leaves: the claim committed (by a worker that then stops beating), the
    email maybe handed to the SMTP server, no outcome."""
    from app.redis import get_redis
    from tests.test_queue import _beat

    message = outbox.claim(message_id, worker=worker)
    db.session.commit()
    outbox.transmit(message)  # it did arrive; the worker died before it could say so
    db.session.rollback()
    _beat(get_redis(), worker, beat_ago=60)


def test_an_email_interrupted_by_a_killed_worker_is_sent_again_with_the_same_message_id(
    app, mailbox
):
    with app.app_context():
        message_id = put_email().id
        db.session.commit()
        _kill_worker_mid_send(message_id)
        assert sweep()["unknown_outcomes"] == 1  # seconds later, not after a timeout
    run_jobs(app)
    first, second = mailbox.wait_for(2)
    assert first["Message-ID"] == second["Message-ID"]  # a mail program shows it once
    with app.app_context():
        message = db.session.get(OutboxMessage, message_id)
        assert (message.status, message.attempts) == (OutboxStatus.SENT, 2)
        assert message.provider_id == first["Message-ID"]


def test_a_send_whose_worker_is_alive_is_not_judged_unknown(app, mailbox):
    from app.redis import get_redis
    from tests.test_queue import _beat

    with app.app_context():
        message_id = put_email().id
        db.session.commit()
        outbox.claim(message_id, worker="w-busy")
        db.session.commit()
        _beat(get_redis(), "w-busy", beat_ago=1)
        assert sweep()["unknown_outcomes"] == 0
        assert db.session.get(OutboxMessage, message_id).status == OutboxStatus.SENDING


def test_a_delivered_email_stays_sent_when_recording_it_fails_once(app, mailbox):
    from sqlalchemy import event
    from sqlalchemy.exc import OperationalError

    failures = []

    def fail_first_outcome(conn, cursor, statement, parameters, context, executemany):
        if (
            not failures
            and statement.startswith("UPDATE outbox_messages")
            and "sent_at" in (statement)
        ):
            failures.append(statement)
            raise OperationalError(statement, parameters, Exception("server closed the connection"))

    with app.app_context():
        message_id = put_email().id
        db.session.commit()
        engine = db.engine
        event.listen(engine, "before_cursor_execute", fail_first_outcome)
        try:
            assert deliver(message_id) == "sent"
        finally:
            event.remove(engine, "before_cursor_execute", fail_first_outcome)
        assert failures  # the first try to record it failed
        message = db.session.get(OutboxMessage, message_id)
        assert (message.status, message.attempts) == (OutboxStatus.SENT, 1)
    assert len(mailbox.wait_for(1)) == 1
    assert outbox.retry(message) is False  # nothing for staff to send twice


def test_the_send_reads_nothing_from_the_database(app, mailbox, monkeypatch):
    """The database failing between the claim and the outcome (a restart) must not turn into
    a failed send: that used a try and put the email behind a backoff longer than the outage."""
    from sqlalchemy import event
    from sqlalchemy.exc import OperationalError

    from app.services import mail

    sent = []
    real_send = mail.send

    def send_and_note(message):
        sent.append(message.recipient)
        return real_send(message)

    def database_down(conn, cursor, statement, parameters, context, executemany):
        if sent == [] and not statement.startswith(("UPDATE outbox_messages", "SAVEPOINT")):
            raise OperationalError(statement, parameters, Exception("terminating connection"))

    with app.app_context():
        message_id = put_email().id
        db.session.commit()
        claimed = outbox.claim
        engine = db.engine

        def claim_then_fail(*args, **kwargs):
            message = claimed(*args, **kwargs)
            event.listen(engine, "before_cursor_execute", database_down)
            return message

        monkeypatch.setattr(outbox, "claim", claim_then_fail)
        monkeypatch.setattr(mail, "send", send_and_note)
        try:
            assert deliver(message_id) == "sent"
        finally:
            event.remove(engine, "before_cursor_execute", database_down)
        message = db.session.get(OutboxMessage, message_id)
        assert (message.status, message.attempts, message.last_error) == (
            OutboxStatus.SENT,
            1,
            None,
        )
    assert len(mailbox.wait_for(1)) == 1


def test_retries_are_queued_by_the_sweep_not_by_rqs_scheduler(make_app, mailbox):
    from app.queue import get_queue

    app = make_app(MAIL_PORT=free_port())  # nobody listens: the first try fails
    with app.app_context():
        message_id = put_email().id
        db.session.commit()
        deliver(message_id)
        message = db.session.get(OutboxMessage, message_id)
        assert message.status == OutboxStatus.QUEUED
        queue = get_queue("email")
        assert queue.scheduled_job_registry.get_job_ids() == []  # nothing waits on RQ
        assert sweep()["messages_requeued"] == 0  # not due yet
        message.next_attempt_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
        assert sweep()["messages_requeued"] == 1
        assert sorted(queue.job_ids) == ["portico-deliver-email-0", "portico-deliver-email-1"]


def test_once_mail_goes_out_again_messages_waiting_out_the_outage_are_due_at_once(
    app, make_app, mailbox
):
    down = make_app(MAIL_PORT=free_port())  # the SMTP server is down...
    with down.app_context():
        waiting = put_email(key="waiting").id
        db.session.commit()
        deliver(waiting)
        assert db.session.get(OutboxMessage, waiting).next_attempt_at > utcnow()
    with app.app_context():  # ...and back: the next message goes through
        fresh = put_email(key="fresh", to="fresh@example.com").id
        db.session.commit()
        assert deliver(fresh) == "sent"
        result = sweep()
        assert (result["messages_resumed"], result["messages_requeued"]) == (1, 1)
        assert db.session.get(OutboxMessage, waiting).next_attempt_at <= utcnow()
    run_jobs(app)
    assert len(mailbox.wait_for(2)) == 2
