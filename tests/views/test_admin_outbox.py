from sqlalchemy import func, select

from app.services import outbox, portal_accounts
from models import Channel, OutboxMessage, OutboxStatus, db
from tests import factories


def test_outbox_lists_messages_and_hides_credentials(app, admin_client):
    with app.app_context():
        secret = outbox.put(
            key="a",
            channel=Channel.EMAIL,
            to="c@example.com",
            subject="Pw",
            text="Your password: hunter2hunter2",
            sensitive=True,
        )
        plain = outbox.put(
            key="b", channel=Channel.EMAIL, to="d@example.com", subject="Hi", text="Plain words"
        )
        db.session.commit()
        secret_id, plain_id = secret.id, plain.id
    listing = admin_client.get("/admin/outbox/").get_data(as_text=True)
    assert "c@example.com" in listing and "d@example.com" in listing
    details = admin_client.get(f"/admin/outbox/details/?id={secret_id}").get_data(as_text=True)
    assert "hunter2hunter2" not in details and "meant only for the client" in details
    details = admin_client.get(f"/admin/outbox/details/?id={plain_id}").get_data(as_text=True)
    assert "Plain words" in details


def test_retry_a_failed_message(app, admin_client):
    with app.app_context():
        message = outbox.put(
            key="f", channel=Channel.EMAIL, to="f@example.com", subject="S", text="T"
        )
        message.status = OutboxStatus.FAILED
        message.last_error = "boom"
        db.session.commit()
        message_id = message.id
    response = admin_client.submit(
        "/admin/outbox/action/",
        {"action": "retry", "rowid": [str(message_id)]},
        page="/admin/outbox/",
        follow_redirects=True,
    )
    assert "1 message queued again" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(OutboxMessage, message_id).status == OutboxStatus.QUEUED


def test_the_outbox_cannot_be_edited(app, admin_client):
    """What was sent is a record of fact: no new rows, no edits, no deletes by hand."""
    with app.app_context():
        record = factories.record(email="keep@example.com")
        portal_accounts.enable_self_service(record, factories.staff())
        db.session.commit()
        message_id = db.session.scalar(select(OutboxMessage.id))
        before = db.session.get(OutboxMessage, message_id).body_text
    for url in (f"/admin/outbox/edit/?id={message_id}", "/admin/outbox/new/"):
        posted = admin_client.submit(url, {"body_text": "rewritten"}, page="/admin/outbox/")
        assert posted.status_code in (302, 403, 404)
    deleted = admin_client.submit(
        "/admin/outbox/delete/", {"id": str(message_id)}, page="/admin/outbox/"
    )
    assert deleted.status_code in (302, 403, 404, 405)
    with app.app_context():
        [message] = db.session.scalars(select(OutboxMessage).where(OutboxMessage.id == message_id))
        assert message.body_text == before
        assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 2
