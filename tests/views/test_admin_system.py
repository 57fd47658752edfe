"""The System page (admins): the queue as /healthz reports it; the outbox says which sends
may or may not have arrived."""

from datetime import timedelta

from app.services import outbox
from models import Channel, OutboxStatus, db, utcnow


def test_admins_see_how_the_background_work_is_doing(admin_client, app):
    with app.app_context():
        message = outbox.put(key="s-1", channel=Channel.EMAIL, to="c@example.com", text="Hi")
        message.next_attempt_at = utcnow() - timedelta(minutes=3)
        db.session.commit()
    page = admin_client.get("/admin/system/").get_data(as_text=True)
    assert "Work is more than 60 seconds late" in page
    assert "Oldest message not yet sent" in page and "3 min late; 1 due" in page
    assert "No worker is running" in page
    assert "not running" in page  # the sweeper


def test_agents_cannot_open_the_system_page(agent_client):
    assert agent_client.get("/admin/system/").status_code == 403


def test_the_outbox_shows_sends_that_may_or_may_not_have_arrived(admin_client, app):
    with app.app_context():
        message = outbox.put(key="s-2", channel=Channel.EMAIL, to="c@example.com", text="Hi")
        message.status = OutboxStatus.UNKNOWN
        message.last_error = outbox.INTERRUPTED
        db.session.commit()
    page = admin_client.get("/admin/outbox/").get_data(as_text=True)
    assert "May or may not have arrived" in page and "sending again on its own" in page
