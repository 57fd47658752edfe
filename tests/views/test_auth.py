"""Staff sign-in: CSRF, generic failures, rate limits, safe redirects, POST-only sign-out."""

import re
from urllib.parse import urlsplit

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


def test_sign_in_is_rate_limited_per_account(client, admin_user):
    for _ in range(10):
        assert login(client, admin_user.email, "bad password").status_code == 200
    response = login(client, admin_user.email, factories.PASSWORD)
    assert response.status_code == 429
    assert "Too many attempts" in response.get_data(as_text=True)


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


def test_successful_sign_ins_do_not_count_against_the_limit(app, admin_user):
    """An office behind one address signs in many times an hour; only failures count."""
    from tests.conftest import PageClient

    app.test_client_class = PageClient
    for _ in range(12):  # the limit is 10 a minute
        assert login(app.test_client(), admin_user.email, factories.PASSWORD).status_code == 302
    for _ in range(10):
        login(app.test_client(), "guess@example.com", "bad password")
    assert login(app.test_client(), "guess@example.com", "bad password").status_code == 429


def test_wrong_passwords_pause_the_account_and_only_its_owner_is_told(app, client, admin_user):
    failures = app.config["PORTICO_STAFF_LOCKOUT_FAILURES"]
    for _ in range(failures):
        assert login(client, admin_user.email, "bad password").status_code == 200
    # A wrong guess reads exactly like one for an address without an account.
    wrong = login(client, admin_user.email, "bad password").get_data(as_text=True)
    unknown = login(client, "nobody@example.com", "bad password").get_data(as_text=True)
    strip = lambda html: re.sub(r'value="[^"]*"', "", html)  # noqa: E731
    assert "paused" not in wrong
    assert strip(wrong) == strip(unknown).replace("nobody@example.com", admin_user.email)
    # The right password learns of the pause, and does not get in.
    right = login(client, admin_user.email, factories.PASSWORD)
    assert right.status_code == 200
    assert "Sign-in to this account is paused for 15 more minutes" in right.get_data(as_text=True)
    assert client.get("/admin/").status_code == 302
    with app.app_context():
        from sqlalchemy import select

        from models import ActivityEntry, db

        keys = [e.event_key for e in db.session.scalars(select(ActivityEntry))]
    assert keys.count("staff.login.locked") == 1 and "staff.login.failed" in keys


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
