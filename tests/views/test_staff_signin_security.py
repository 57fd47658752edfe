"""Staff sign-in under attack: parallel wrong passwords against a live server are each
counted before the password is checked, and successes still never count."""

import threading
import time

import pytest

from models import User, db
from tests import factories
from tests.views.test_portal_signin_security import Browser

#: The test configuration's PORTICO_STAFF_LOGIN_LIMIT is "10 per minute;50 per hour".
PER_MINUTE = 10


def _slow_hash_checks(monkeypatch, seconds=0.3):
    """Counted, and as slow as argon2 with production settings, so parallel requests overlap
    while passwords are being checked (the window the old limit let them through)."""
    checks = []
    real = User.verify_and_update_password

    def slow(self, password):
        checks.append(password)
        time.sleep(seconds)
        return real(self, password)

    monkeypatch.setattr(User, "verify_and_update_password", slow)
    return checks


def _post_all_at_once(live_server, forms):
    """Each form posted by its own browser (its own CSRF token), all released together."""
    browsers = [Browser(live_server.url) for _ in forms]
    tokens = [browser.token("/staff/login") for browser in browsers]
    start = threading.Barrier(len(forms))
    answers = [None] * len(forms)

    def post(n):
        start.wait()
        answers[n] = browsers[n].post("/staff/login", {**forms[n], "csrf_token": tokens[n]})

    threads = [threading.Thread(target=post, args=(n,)) for n in range(len(forms))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return [status for status, _page in answers], browsers


@pytest.mark.usefixtures("fresh_minute")
def test_parallel_wrong_passwords_are_each_counted(app, live_server, admin_user, monkeypatch):
    """Twenty wrong passwords at once for one account from one address: before, the limit was
    only tested before each request and counted after its response, so all twenty had their
    password checked; now ten take the ten attempts of the minute and ten are refused unread."""
    checks = _slow_hash_checks(monkeypatch)
    wrong = {"email": admin_user.email, "password": "a wrong guess"}
    statuses, _browsers = _post_all_at_once(live_server, [wrong] * (2 * PER_MINUTE))
    assert sorted(statuses) == [200] * PER_MINUTE + [429] * PER_MINUTE
    assert len(checks) == PER_MINUTE
    # The account's attempts for this minute are spent, even for the right password.
    browser = Browser(live_server.url)
    status, _page = browser.post(
        "/staff/login",
        {
            "email": admin_user.email,
            "password": factories.PASSWORD,
            "csrf_token": browser.token("/staff/login"),
        },
    )
    assert status == 429


@pytest.mark.usefixtures("fresh_minute")
def test_parallel_guesses_across_accounts_share_the_address_budget(app, live_server, monkeypatch):
    checks = _slow_hash_checks(monkeypatch)
    with app.app_context():
        emails = [factories.staff(email=f"staff{n}@example.com").email for n in range(3)]
        db.session.commit()
    forms = [{"email": emails[n % 3], "password": "a wrong guess"} for n in range(PER_MINUTE + 5)]
    statuses, _browsers = _post_all_at_once(live_server, forms)
    assert sorted(statuses) == [200] * PER_MINUTE + [429] * 5
    assert len(checks) == PER_MINUTE


@pytest.mark.usefixtures("fresh_minute")
def test_parallel_successes_give_their_attempts_back(app, live_server, admin_user, monkeypatch):
    """Sign-ins that succeed, even at once, leave the budget whole for later failures."""
    _slow_hash_checks(monkeypatch, seconds=0.1)
    right = {"email": admin_user.email, "password": factories.PASSWORD}
    statuses, browsers = _post_all_at_once(live_server, [right] * 5)
    assert statuses == [200] * 5  # each followed to the staff panel
    assert all('name="password"' not in browser.get("/admin/") for browser in browsers)
    wrong = {"email": "guess@example.com", "password": "a wrong guess"}
    statuses, _browsers = _post_all_at_once(live_server, [wrong] * PER_MINUTE)
    assert statuses == [200] * PER_MINUTE
