"""The portal settings are kept between requests in each process, and a saved change is seen
by the very next request of every process (two apps sharing the database and Redis stand for
two web processes)."""

import redis

from app.redis import get_redis
from app.services import portal_settings_cache
from app.services.portal_settings import get_settings
from models import db
from tests.views.test_admin_portal_settings import settings_form


def portal_name(client):
    return client.get("/portal/").get_data(as_text=True)


def test_the_settings_are_not_read_again_while_unchanged(app, client, count_queries):
    client.get("/portal/")
    with count_queries() as counter:
        assert client.get("/portal/").status_code == 200
    assert not [s for s in counter.statements if "FROM portal_settings" in s]


def test_a_change_saved_in_one_process_is_seen_by_the_next_request_of_another(
    app, make_app, admin_client
):
    other = make_app()  # a second web process: its own copy of the settings
    other_client = other.test_client()
    assert "Client portal" in portal_name(other_client)
    assert "Client portal" in portal_name(other_client)  # now from its copy

    url = admin_client.get("/admin/portal_settings/").headers["Location"]
    saved = admin_client.submit(url, settings_form(portal_name="Harbor Point portal"))
    assert saved.status_code == 302
    assert "Harbor Point portal" in portal_name(other_client)
    assert "Harbor Point portal" in portal_name(app.test_client())


def test_a_change_committed_by_a_service_or_a_test_is_seen_at_once(app, make_app, client):
    other = make_app()
    other_client = other.test_client()
    for _ in range(2):
        assert "Client portal" in portal_name(client)
        assert "Client portal" in portal_name(other_client)
    for name in ("Renamed once", "Renamed twice"):
        with app.app_context():
            get_settings().portal_name = name
            db.session.commit()
        assert name in portal_name(client) and name in portal_name(other_client)


def test_a_change_rolled_back_is_not_seen(app, client):
    portal_name(client)
    with app.app_context():
        get_settings().portal_name = "Never saved"
        db.session.flush()
        db.session.rollback()
    assert "Never saved" not in portal_name(client)
    assert "Client portal" in portal_name(client)


def test_an_emptied_redis_means_the_row_is_read_again(app, client):
    portal_name(client)
    with app.app_context():
        # Written behind the ORM's back, then Redis loses its data (a restart).
        db.session.execute(db.text("UPDATE portal_settings SET portal_name = 'Behind the back'"))
        db.session.commit()
        get_redis().delete(portal_settings_cache.VERSION_KEY)
    assert "Behind the back" in portal_name(client)


def test_without_redis_the_row_is_read_each_request(app, client, monkeypatch, count_queries):
    offline = redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=1)
    monkeypatch.setattr(portal_settings_cache, "get_redis", lambda: offline)
    portal_name(client)
    with count_queries() as counter:
        assert "Client portal" in portal_name(client)
    assert [s for s in counter.statements if "FROM portal_settings" in s]
    with app.app_context():
        get_settings().portal_name = "Saved while Redis is down"
        db.session.commit()  # logged, not raised
    assert "Saved while Redis is down" in portal_name(client)


def test_a_row_changed_in_the_session_is_never_overwritten_by_the_kept_copy(app, client):
    from flask import g

    from models import PortalSettings

    portal_name(client)  # the process keeps a copy
    with app.test_request_context():
        row = db.session.get(PortalSettings, 1)  # as the admin's edit page loads it
        row.portal_name = "Being edited"
        g.pop("portal_settings", None)
        assert get_settings() is row and get_settings().portal_name == "Being edited"
        db.session.rollback()


def test_reading_a_setting_from_the_copy_adds_nothing_to_the_session_and_follows_a_change(
    app, make_app
):
    from app.services.portal_settings import read_settings

    other = make_app()  # another process, which has read the settings once
    with other.test_request_context():
        get_settings()
    with other.test_request_context():
        read = read_settings()
        assert read.session_idle_minutes == get_settings().session_idle_minutes
        assert read not in db.session  # this process's copy, not the session's row
    with app.app_context():
        get_settings().session_idle_minutes = 7
        db.session.commit()
    with other.test_request_context():
        assert read_settings().session_idle_minutes == 7
