"""Staff sign-in: CSRF, generic failures, rate limits, the pause per account and address,
safe redirects, POST-only sign-out, one password rule."""

import html
import re
from urllib.parse import urlsplit

import pytest

from tests import factories
from tests.conftest import login


def test_admin_requires_sign_in_and_comes_back_after(client, admin_user):
    response = client.get("/admin/record/?flt1_kind_is=lead")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/staff/login?next=")

    page = client.get(response.headers["Location"])
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.get_data(as_text=True))
    response = client.post(
        response.headers["Location"],
        data={
            "email": admin_user.email,
            "password": factories.PASSWORD,
            "csrf_token": token.group(1),
        },
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/record/?flt1_kind_is=lead"


def test_wrong_password_and_unknown_address_get_the_same_answer(client, admin_user):
    wrong = login(client, admin_user.email, "not the password").get_data(as_text=True)
    unknown = login(client, "nobody@example.com", "not the password").get_data(as_text=True)
    message = "Invalid email or password" if "Invalid email or password" in wrong else None
    assert message or "invalid" in wrong.lower()
    strip = lambda html: re.sub(r'value="[^"]*"', "", html)  # noqa: E731
    assert strip(wrong) == strip(unknown).replace("nobody@example.com", admin_user.email)


def test_sign_in_without_csrf_token_is_refused(client, admin_user):
    response = client.post(
        "/staff/login", data={"email": admin_user.email, "password": factories.PASSWORD}
    )
    assert response.status_code == 400
    assert "form has expired" in response.get_data(as_text=True)
    assert client.get("/admin/").status_code == 302


@pytest.mark.usefixtures("fresh_minute")
def test_sign_in_is_rate_limited_per_account(client, admin_user):
    for _ in range(10):
        assert login(client, admin_user.email, "bad password").status_code == 200
    response = login(client, admin_user.email, factories.PASSWORD)
    assert response.status_code == 429
    assert "Too many attempts" in response.get_data(as_text=True)


@pytest.mark.usefixtures("fresh_minute")
def test_sign_in_is_rate_limited_per_address_across_accounts(app, client):
    for n in range(10):
        login(client, f"guess{n}@example.com", "bad password")
    assert login(client, "another@example.com", "bad password").status_code == 429


def test_next_cannot_send_people_to_another_site(client, admin_user):
    for target in ("https://evil.example.net/", "//evil.example.net/", "/\\evil.example.net"):
        token = client.csrf_token("/staff/login")
        response = client.post(
            f"/staff/login?next={target}",
            data={"email": admin_user.email, "password": factories.PASSWORD, "csrf_token": token},
        )
        # Refused outright ("Redirections outside the domain are forbidden") or sent home.
        assert response.status_code in (200, 302)
        location = response.headers.get("Location", "")
        # Anything left must stay on this host: no scheme, no //host, no raw backslash.
        assert urlsplit(location).netloc == "" and not location.startswith("//")
        assert "\\" not in location
        if response.status_code == 200:
            assert "outside the domain" in response.get_data(as_text=True)


def test_sign_out_is_post_only(admin_client):
    assert admin_client.get("/staff/logout").status_code == 405
    response = admin_client.submit("/staff/logout", page="/admin/")
    assert response.status_code == 302
    assert "You are signed out." in admin_client.get(response.location).get_data(as_text=True)
    assert admin_client.get("/admin/").status_code == 302


def test_inactive_staff_cannot_sign_in(app, client):
    with app.app_context():
        from models import db

        user = factories.staff(email="gone@example.com")
        user.active = False
        db.session.commit()
    response = login(client, "gone@example.com", factories.PASSWORD)
    assert response.status_code == 200
    assert client.get("/admin/").status_code == 302


@pytest.mark.usefixtures("fresh_minute")
def test_successful_sign_ins_do_not_count_against_the_limit(app, admin_user):
    """An office behind one address signs in many times an hour; only failures count."""
    from tests.conftest import PageClient

    app.test_client_class = PageClient
    for _ in range(12):  # the limit is 10 a minute
        assert login(app.test_client(), admin_user.email, factories.PASSWORD).status_code == 302
    for _ in range(10):
        login(app.test_client(), "guess@example.com", "bad password")
    assert login(app.test_client(), "guess@example.com", "bad password").status_code == 429


def _hash_checks(monkeypatch):
    """Counts the password hashes Flask-Security checks at sign-in."""
    from models import User

    checks = []
    real = User.verify_and_update_password
    monkeypatch.setattr(
        User, "verify_and_update_password", lambda self, pw: checks.append(1) or real(self, pw)
    )
    return checks


def test_wrong_passwords_pause_the_account_and_only_its_owner_is_told(
    app, client, admin_user, monkeypatch
):
    """While sign-in from an address is paused, the right password reads exactly like a wrong
    one (it used to be told "paused", which gave a right guess away), after the same hash
    check; the owner is told by one email, and the pause is logged once."""
    failures = app.config["PORTICO_STAFF_LOCKOUT_FAILURES"]
    for _ in range(failures):
        assert login(client, admin_user.email, "bad password").status_code == 200
    checks = _hash_checks(monkeypatch)
    wrong = login(client, admin_user.email, "bad password").get_data(as_text=True)
    right = login(client, admin_user.email, factories.PASSWORD)
    assert len(checks) == 2  # the right password's hash is checked too: the same work
    unknown = login(client, "nobody@example.com", "bad password").get_data(as_text=True)
    strip = lambda html: re.sub(r'value="[^"]*"', "", html)  # noqa: E731
    assert right.status_code == 200
    assert "paused" not in wrong and "paused" not in right.get_data(as_text=True)
    assert strip(right.get_data(as_text=True)) == strip(wrong)
    assert strip(wrong) == strip(unknown).replace("nobody@example.com", admin_user.email)
    assert client.get("/admin/").status_code == 302
    for _ in range(failures):  # more failures while paused: no second pause, no second email
        login(client, admin_user.email, "bad password")
    with app.app_context():
        from sqlalchemy import select

        from models import ActivityEntry, OutboxMessage, db

        keys = [e.event_key for e in db.session.scalars(select(ActivityEntry))]
        mail = db.session.scalars(
            select(OutboxMessage).where(OutboxMessage.recipient == admin_user.email)
        ).all()
    assert keys.count("staff.login.locked") == 1 and "staff.login.failed" in keys
    assert len(mail) == 1
    assert "paused" in mail[0].subject
    assert "from the address 127.0.0.1" in mail[0].body_text
    assert f"after {failures} wrong passwords" in mail[0].body_text


def test_a_stranger_elsewhere_cannot_pause_the_owner(app, client, admin_user):
    """Wrong passwords from another address pause that address only: the owner, at her own
    desk, signs in (before, anyone knowing her email kept her out, pause after pause)."""
    stranger = {"REMOTE_ADDR": "203.0.113.9"}
    for _ in range(app.config["PORTICO_STAFF_LOCKOUT_FAILURES"]):
        response = client.submit(
            "/staff/login",
            {"email": admin_user.email, "password": "bad password"},
            environ_base=stranger,
        )
        assert response.status_code == 200
    response = client.submit(
        "/staff/login",
        {"email": admin_user.email, "password": factories.PASSWORD},
        environ_base=stranger,
    )
    assert response.status_code == 200  # paused there, right password or not
    assert login(client, admin_user.email, factories.PASSWORD).status_code == 302


@pytest.mark.usefixtures("fresh_minute")
def test_a_stranger_spending_the_account_budget_does_not_keep_the_owner_out(
    app, client, admin_user
):
    """The account's attempts are shared by addresses the owner never used: ten wrong
    passwords a minute from elsewhere used to answer "Please wait" to her own desk too."""
    assert login(client, admin_user.email, factories.PASSWORD).status_code == 302  # her desk
    client.submit("/staff/logout", page="/admin/")
    stranger = {"REMOTE_ADDR": "203.0.113.9"}
    for _ in range(10):  # the limit is 10 a minute
        client.submit(
            "/staff/login",
            {"email": admin_user.email, "password": "bad password"},
            environ_base=stranger,
        )
    newcomer = client.submit(
        "/staff/login",
        {"email": admin_user.email, "password": "bad password"},
        environ_base={"REMOTE_ADDR": "198.51.100.20"},
    )
    assert newcomer.status_code == 429  # the account's budget still bounds new addresses
    assert login(client, admin_user.email, factories.PASSWORD).status_code == 302


def test_the_pause_ends_after_its_minutes(app, client, admin_user):
    import time

    import time_machine

    for _ in range(app.config["PORTICO_STAFF_LOCKOUT_FAILURES"]):
        login(client, admin_user.email, "bad password")
    minutes = app.config["PORTICO_STAFF_LOCKOUT_MINUTES"]
    with time_machine.travel(time.time() + minutes * 60 + 5):
        assert login(client, admin_user.email, factories.PASSWORD).status_code == 302


def test_session_cookie_is_samesite_lax(client, admin_user):
    response = login(client, admin_user.email, factories.PASSWORD)
    cookies = response.headers.getlist("Set-Cookie")
    session = [c for c in cookies if c.startswith("session=")]
    assert session and "SameSite=Lax" in session[0] and "HttpOnly" in session[0]


def test_the_sign_in_page_is_never_cached(client):
    response = client.get("/staff/login")
    assert response.headers["Cache-Control"] == "no-store"
    assert "=True" not in response.headers["Cache-Control"]


def test_users_create_refuses_a_weak_password_and_says_what_to_do(app):
    result = app.test_cli_runner().invoke(
        args=["users", "create", "new@example.com", "--role", "agent", "--password", "Summer2026!"]
    )
    assert result.exit_code == 1
    assert "too easy to guess" in result.output and "uncommon words" in result.output
    assert result.output.count("\n") == 1  # one line


@pytest.mark.parametrize("weak", ["short", "Summer2026!"])
def test_staff_and_portal_passwords_meet_one_rule_in_the_same_words(app, admin_client, weak):
    """/staff/change says what the portal says ("Use at least 10 characters.", not Flask-
    Security's "Password must be at least 10 characters"): one check, app.services.passwords,
    instead of Flask-Security's zxcvbn run before ours with other inputs and other words."""
    from app.services import passwords
    from app.services.errors import ValidationError

    assert app.config.get("SECURITY_PASSWORD_COMPLEXITY_CHECKER") is None
    with app.app_context(), pytest.raises(ValidationError) as caught:
        passwords.check_strength(weak, ("boss@example.com", "Bea", "Boss"))
    response = admin_client.submit(
        "/staff/change",
        {"password": factories.PASSWORD, "new_password": weak, "new_password_confirm": weak},
    )
    assert response.status_code == 200
    assert caught.value.message in html.unescape(response.get_data(as_text=True))
