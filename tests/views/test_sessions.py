"""Sessions end on the server: signing out, idling, a password change and switching self service
off end every copy of the cookie, in the staff panel and in the portal."""

import re
import time

import time_machine
from sqlalchemy import select

from app.services import portal_accounts
from models import OutboxMessage, SignInSession, db
from tests import factories
from tests.conftest import PageClient, login


def _copy_of(app, client):
    """A second browser holding a copy of the first one's cookies."""
    app.test_client_class = PageClient
    thief = app.test_client()
    for cookie in ("session", "remember_token"):
        found = client.get_cookie(cookie)
        if found is not None:
            thief.set_cookie(cookie, found.value)
    return thief


def _rows(app):
    with app.app_context():
        return [
            (row.user_id, row.portal_account_id, row.end_reason)
            for row in db.session.scalars(select(SignInSession).order_by(SignInSession.id))
        ]


# -- staff -----------------------------------------------------------------------------------------


def test_a_copied_staff_cookie_stops_working_at_sign_out(app, admin_client, admin_user):
    copy = _copy_of(app, admin_client)
    assert copy.get("/admin/").status_code == 200  # the copy works while the session is open
    admin_client.submit("/staff/logout", page="/admin/")
    response = copy.get("/admin/")
    assert response.status_code == 302 and "/staff/login" in response.headers["Location"]
    assert _rows(app) == [(admin_user.id, None, "signed out")]


def test_staff_are_signed_out_after_the_idle_time(app, admin_client):
    idle = app.config["PORTICO_STAFF_IDLE_MINUTES"]
    start = time.time()
    with time_machine.travel(start + (idle - 2) * 60):
        assert admin_client.get("/admin/").status_code == 200  # activity keeps it open
    with time_machine.travel(start + (2 * idle - 4) * 60):
        assert admin_client.get("/admin/").status_code == 200
    with time_machine.travel(start + (3 * idle - 3) * 60):
        response = admin_client.get("/admin/", follow_redirects=True)
    assert f"signed out after {idle} minutes without activity" in response.get_data(as_text=True)
    assert admin_client.get("/admin/").status_code == 302


def test_staff_sign_in_ends_after_its_lifetime_however_active(app, admin_client):
    hours = app.config["PORTICO_SESSION_MAX_HOURS"]
    idle = app.config["PORTICO_STAFF_IDLE_MINUTES"]
    start = time.time()
    offset = 0
    while offset < hours * 3600:
        offset += (idle - 5) * 60
        with time_machine.travel(start + offset):
            response = admin_client.get("/admin/", follow_redirects=True)
    text = response.get_data(as_text=True)
    assert f"a sign-in lasts at most {hours} hours" in text


def test_the_idle_time_is_a_setting(make_app):
    short = make_app(PORTICO_STAFF_IDLE_MINUTES=1)
    short.test_client_class = PageClient
    with short.app_context():
        factories.staff(email="quick@example.com")
    client = short.test_client()
    assert login(client, "quick@example.com", factories.PASSWORD).status_code == 302
    with time_machine.travel(time.time() + 90):
        assert client.get("/admin/").status_code == 302


def test_remember_me_is_off_and_an_old_remember_cookie_signs_no_one_in(app, client, admin_user):
    page = client.get("/staff/login").get_data(as_text=True)
    assert 'name="remember"' not in page
    token = client.csrf_token("/staff/login")
    response = client.post(
        "/staff/login",
        data={
            "email": admin_user.email,
            "password": factories.PASSWORD,
            "remember": "y",
            "csrf_token": token,
        },
    )
    assert response.status_code == 302
    assert client.get_cookie("remember_token") is None
    # A remember cookie made the way Flask-Login makes them (one issued before this version).
    from flask_login.utils import encode_cookie

    with app.test_request_context():
        value = encode_cookie(str(admin_user.fs_uniquifier))
    app.test_client_class = PageClient
    stranger = app.test_client()
    stranger.set_cookie("remember_token", value)
    assert stranger.get("/admin/").status_code == 302


def test_changing_your_password_signs_out_your_other_browsers(app, admin_client, admin_user):
    app.test_client_class = PageClient
    other = app.test_client()
    assert login(other, admin_user.email, factories.PASSWORD).status_code == 302
    response = admin_client.submit(
        "/staff/change",
        {
            "password": factories.PASSWORD,
            "new_password": "velvet quarry lantern 42",
            "new_password_confirm": "velvet quarry lantern 42",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    assert admin_client.get("/admin/").status_code == 200  # this browser stays signed in
    assert other.get("/admin/").status_code == 302
    reasons = [reason for _user, _account, reason in _rows(app)]
    assert reasons.count(None) == 1 and "password changed" in reasons


def test_a_weak_new_staff_password_is_refused(admin_client):
    response = admin_client.submit(
        "/staff/change",
        {
            "password": factories.PASSWORD,
            "new_password": "Password123!",
            "new_password_confirm": "Password123!",
        },
    )
    assert response.status_code == 200
    assert "too easy to guess" in response.get_data(as_text=True)


def test_each_sign_in_is_a_row_and_signing_in_again_replaces_it(app, client, admin_user):
    login(client, admin_user.email, factories.PASSWORD)
    client.submit("/staff/logout", page="/admin/")
    login(client, admin_user.email, factories.PASSWORD)
    assert _rows(app) == [(admin_user.id, None, "signed out"), (admin_user.id, None, None)]


def test_staff_pages_cost_one_session_lookup(app, admin_client, count_queries):
    admin_client.get("/admin/")
    with count_queries() as counter:
        admin_client.get("/admin/")
    lookups = [s for s in counter.statements if "sign_in_sessions" in s]
    assert len(lookups) == 1 and lookups[0].lstrip().upper().startswith("SELECT")


# -- portal ----------------------------------------------------------------------------------------


def _client_with_portal(app):
    with app.app_context():
        staff = factories.staff(email="sue.staff@example.com")
        record = factories.record(first_name="Cleo", email="cleo@example.com")
        portal_accounts.enable_self_service(record, staff)
        db.session.commit()
        password = None
        token = None
        for message in db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)):
            if found := re.search(r"/portal/a/([\w-]+)", message.body_text):
                token = found.group(1)
            if message.template_key == "portal.password":
                password = re.search(r"^\s{4}(\S+)$", message.body_text, re.M).group(1)
        return {"record_id": record.id, "staff_id": staff.id, "token": token, "password": password}


def _portal_sign_in(client, creds):
    response = client.submit(f"/portal/a/{creds['token']}", {"password": creds["password"]})
    assert response.headers["Location"] == "/portal/home"


def test_a_copied_portal_cookie_stops_working_at_sign_out(app, client):
    creds = _client_with_portal(app)
    _portal_sign_in(client, creds)
    copy = _copy_of(app, client)
    assert copy.get("/portal/home").status_code == 200
    client.submit("/portal/signout", page="/portal/home")
    assert copy.get("/portal/home").status_code == 302
    assert [reason for _u, _a, reason in _rows(app)] == ["signed out"]


def test_disabling_self_service_ends_the_clients_sessions(app, client):
    creds = _client_with_portal(app)
    _portal_sign_in(client, creds)
    with app.app_context():
        from models import Record, User

        portal_accounts.disable_self_service(
            db.session.get(Record, creds["record_id"]), db.session.get(User, creds["staff_id"])
        )
        db.session.commit()
    assert [reason for _u, _a, reason in _rows(app)] == ["access ended"]
    assert client.get("/portal/home").status_code == 302


def test_portal_session_cookie_is_samesite_lax(app, client):
    creds = _client_with_portal(app)
    response = client.submit(f"/portal/a/{creds['token']}", {"password": creds["password"]})
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("session=") and "SameSite=Lax" in cookie and "HttpOnly" in cookie


def test_an_auth_token_does_not_outlive_the_session_either(app, client, admin_user):
    """Flask-Security hands out a token on request; it must not be a way around the session."""
    token_page = client.get("/staff/login", headers={"Accept": "application/json"})
    csrf = token_page.get_json()["response"]["csrf_token"]
    response = client.post(
        "/staff/login?include_auth_token",
        json={"email": admin_user.email, "password": factories.PASSWORD},
        headers={"X-CSRFToken": csrf},
    )
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    token = response.get_json()["response"]["user"].get("authentication_token")
    assert token
    app.test_client_class = PageClient
    other = app.test_client()
    assert other.get("/admin/", headers={"Authentication-Token": token}).status_code == 302


def test_a_password_reset_signs_out_every_other_browser(app, client):
    from tests.views.test_portal_signin import run_sign_in_jobs

    creds = _client_with_portal(app)
    _portal_sign_in(client, creds)
    app.test_client_class = PageClient
    elsewhere = app.test_client()
    elsewhere.submit("/portal/reset", {"email": "cleo@example.com"})
    run_sign_in_jobs(app)
    with app.app_context():
        message = db.session.scalar(
            select(OutboxMessage).where(OutboxMessage.template_key == "portal.password_reset")
        )
        token = re.search(r"/portal/reset/([\w.-]+)", message.body_text).group(1)
    response = elsewhere.submit(
        f"/portal/reset/{token}",
        {"password": "brand new password", "confirm": "brand new password"},
    )
    assert response.headers["Location"] == "/portal/"
    assert client.get("/portal/home").status_code == 302
    assert [reason for _u, _a, reason in _rows(app)] == ["password changed"]
