"""Sign-in under attack: parallel guesses against a live server, and requests that must not
tell a known address from an unknown one by the work they do."""

import http.cookiejar
import re
import threading
import urllib.parse
import urllib.request

import pytest
from sqlalchemy import select

from app.queue import QUEUES, get_queue
from app.redis import get_redis
from app.services import one_time_codes, portal_accounts, portal_credentials, portal_sign_in
from app.services.portal_settings import get_settings
from models import ActivityEntry, LoginCode, OutboxMessage, Record, db
from tests import factories
from tests.views.test_portal_signin import _credentials, latest_code, run_sign_in_jobs

_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


@pytest.fixture
def office(app):
    """Cleo, with portal access, the mobile +12025550143 and the credentials she was sent."""
    with app.app_context():
        staff = factories.staff(email="sue.staff@example.com")
        cleo = factories.record(
            first_name="Cleo", last_name="Client", email="cleo@example.com", mobile="+12025550143"
        )
        portal_accounts.enable_self_service(cleo, staff)
        db.session.commit()
        return {"cleo": {"record_id": cleo.id, **_credentials(cleo.id)}}


class Browser:
    """A cookie-keeping HTTP client for the live server (one session, many threads)."""

    def __init__(self, base_url):
        self.base_url = base_url
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )

    def get(self, path):
        with self.opener.open(self.base_url + path, timeout=30) as response:
            return response.read().decode()

    def token(self, path):
        return _CSRF.search(self.get(path)).group(1)

    def post(self, path, data):
        body = urllib.parse.urlencode(data).encode()
        request = urllib.request.Request(self.base_url + path, data=body, method="POST")  # noqa: S310
        try:
            with self.opener.open(request, timeout=30) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()


def test_parallel_guesses_over_http_are_each_counted(app, live_server, office, monkeypatch):
    """Nine guesses posted at once: before, nine were compared and three counted; now each is
    counted in the database before it is compared, so three are compared and the code is
    used up."""
    with app.app_context():
        get_settings().code_max_attempts = 3
        db.session.commit()
    browser = Browser(live_server.url)
    status, _ = browser.post(
        "/portal/code/email",
        {"identifier": "cleo@example.com", "csrf_token": browser.token("/portal/code/email")},
    )
    assert status == 200  # followed to the code page
    code = latest_code(app)
    token = browser.token("/portal/code/verify")
    compared = []
    real = one_time_codes.code_hash

    def counting(identifier, typed):
        compared.append(typed)
        return real(identifier, typed)

    monkeypatch.setattr(one_time_codes, "code_hash", counting)
    guesses = [f"{n:06d}" for n in range(1, 11) if f"{n:06d}" != code][:9]
    start = threading.Barrier(len(guesses))
    answers = []

    def guess(typed):
        start.wait()
        answers.append(browser.post("/portal/code/verify", {"code": typed, "csrf_token": token}))

    threads = [threading.Thread(target=guess, args=(typed,)) for typed in guesses]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert [status for status, _ in answers] == [200] * 9  # no 500 under contention
    assert all("That code did not work" in page for _, page in answers)
    assert len(compared) == 3, compared
    with app.app_context():
        row = db.session.scalar(select(LoginCode))
        assert row.attempts == 3
    monkeypatch.setattr(one_time_codes, "code_hash", real)
    status, page = browser.post("/portal/code/verify", {"code": code, "csrf_token": token})
    assert "That code did not work" in page  # used up, even for the right code


# -- the same work whether or not the address is known ------------------------------------------


def _queued():
    return sum(get_queue(name).count for name in QUEUES)


def _work(app, client, count_queries, monkeypatch, path, data):
    """Queries run, jobs queued and password hashes checked by one POST."""
    token = client.csrf_token(path)
    hashes = []
    real = portal_sign_in.verify_password
    monkeypatch.setattr(portal_sign_in, "verify_password", lambda *a: hashes.append(1) or real(*a))
    with app.app_context():
        get_redis().flushdb()
    with count_queries() as counter:
        response = client.post(path, data={**data, "csrf_token": token})
    monkeypatch.setattr(portal_sign_in, "verify_password", real)
    with app.app_context():
        queued = _queued()
        get_redis().flushdb()  # drop the queued work and the rate-limit counters alike
    statements = [re.sub(r"\d+", "N", s) for s in counter.statements]
    return response.status_code, statements, queued, len(hashes)


@pytest.mark.parametrize(
    "path, field, known, unknown",
    [
        ("/portal/code/email", "identifier", "cleo@example.com", "stranger@example.com"),
        ("/portal/code/sms", "identifier", "(202) 555-0143", "(202) 555-0100"),
        ("/portal/reset", "email", "cleo@example.com", "stranger@example.com"),
    ],
)
def test_asking_does_the_same_work_for_known_and_unknown_addresses(
    app, client, office, count_queries, monkeypatch, path, field, known, unknown
):
    """Wall time was 11 ms against 6 (email), 17 against 6 (text), 12 against 6 (reset): the
    known address had its message built in the request. Now both only queue a job: the same
    statements, the same one job, no hash."""
    for_known = _work(app, client, count_queries, monkeypatch, path, {field: known})
    for_unknown = _work(app, client, count_queries, monkeypatch, path, {field: unknown})
    assert for_known == for_unknown
    assert for_known[2] == 1 and for_known[3] == 0
    with app.app_context():
        built = select(OutboxMessage).where(
            OutboxMessage.template_key.in_(
                ["portal.login_code", "portal.login_code.sms", "portal.password_reset"]
            )
        )
        assert db.session.scalar(built) is None  # nothing built in the request


def test_the_queued_work_sends_only_to_known_addresses(app, client, office):
    with app.app_context():
        before = len(db.session.scalars(select(OutboxMessage)).all())
    client.submit("/portal/code/email", {"identifier": "stranger@example.com"})
    client.submit("/portal/reset", {"email": "stranger@example.com"})
    run_sign_in_jobs(app)
    with app.app_context():
        assert len(db.session.scalars(select(OutboxMessage)).all()) == before
    client.submit("/portal/code/email", {"identifier": "cleo@example.com"})
    client.submit("/portal/reset", {"email": "cleo@example.com"})
    run_sign_in_jobs(app)
    with app.app_context():
        sent = db.session.scalars(
            select(OutboxMessage.template_key).order_by(OutboxMessage.id)
        ).all()
    assert sent[before:] == ["portal.login_code", "portal.password_reset"]


def test_password_failures_check_one_hash_each(app, client, office, count_queries, monkeypatch):
    """Unknown address, wrong password and a paused account all check one password hash (a
    paused account used to skip it, which its timing showed)."""
    path = "/portal/signin/password"
    unknown = _work(
        app,
        client,
        count_queries,
        monkeypatch,
        path,
        {"email": "stranger@example.com", "password": "a guess"},
    )
    wrong = _work(
        app,
        client,
        count_queries,
        monkeypatch,
        path,
        {"email": "cleo@example.com", "password": "a guess"},
    )
    with app.app_context():
        account = portal_credentials.primary_account(
            db.session.get(Record, office["cleo"]["record_id"])
        )
        account.locked_until = portal_accounts.utcnow().replace(year=2999)
        db.session.commit()
    paused = _work(
        app,
        client,
        count_queries,
        monkeypatch,
        path,
        {"email": "cleo@example.com", "password": office["cleo"]["password"]},
    )
    assert unknown[3] == wrong[3] == paused[3] == 1
    assert unknown[0] == wrong[0] == paused[0] == 200
    # The same statements too: before, a known address had its failure counted and logged
    # (an UPDATE, the activity chain, a commit) and an unknown one nothing at all.
    assert unknown[1] == wrong[1] == paused[1]
    assert any(s.startswith("UPDATE portal_accounts") for s in unknown[1])
    assert any(s.startswith("INSERT INTO activity") for s in unknown[1])


def test_the_failure_that_starts_a_pause_does_the_same_work(
    app, client, office, count_queries, monkeypatch
):
    """The failure that pauses the password is logged as the pause: one entry, like any
    other failure, so the Nth try does not stand out either."""
    path = "/portal/signin/password"
    with app.app_context():
        failures = get_settings().lockout_failures
    known = [
        _work(app, client, count_queries, monkeypatch, path, {"email": e, "password": "guess"})
        for e in ["cleo@example.com"] * failures
    ]
    unknown = _work(
        app, client, count_queries, monkeypatch, path, {"email": "x@example.com", "password": "g"}
    )
    assert {tuple(work[1]) for work in known} == {tuple(unknown[1])}
    with app.app_context():
        logged = db.session.scalars(
            select(ActivityEntry).order_by(ActivityEntry.id.desc()).limit(2)
        ).all()
        assert [e.event_key for e in logged] == ["portal.login.failed", "portal.login.locked"]
        assert logged[0].details == {
            "method": "password",
            "address": "x***@example.com",
            "known": False,
        }
        assert logged[0].record_id is None and logged[1].record_id == office["cleo"]["record_id"]


def test_a_wrong_code_does_the_same_work_for_known_and_unknown_addresses(
    app, client, office, count_queries, monkeypatch
):
    """A wrong code for a known address counted an attempt (an UPDATE) that an unknown one,
    having no code, did not: now both count one, on no row for the unknown address."""
    work = {}
    for name, address in (("known", "cleo@example.com"), ("unknown", "stranger@example.com")):
        client.submit("/portal/code/email", {"identifier": address})
        run_sign_in_jobs(app)
        work[name] = _work(
            app, client, count_queries, monkeypatch, "/portal/code/verify", {"code": "1234567"}
        )
    assert work["known"][0] == work["unknown"][0] == 200
    assert work["known"][1] == work["unknown"][1]
    assert any(s.startswith("UPDATE portal_login_codes") for s in work["unknown"][1])


def test_a_paused_password_still_lets_the_client_in_by_code(app, client, office):
    """A stranger who knows the address pauses the password path; the client signs in by code
    all the same (before, a paused account got no code either)."""
    for _ in range(get_settings_failures(app)):
        client.submit(
            "/portal/signin/password", {"email": "cleo@example.com", "password": "a guess"}
        )
    with app.app_context():
        get_redis().flushdb()  # the per-address rate limit is another matter
    response = client.submit(
        "/portal/signin/password",
        {"email": "cleo@example.com", "password": office["cleo"]["password"]},
    )
    assert "We could not sign you in" in response.get_data(as_text=True)
    client.submit("/portal/code/email", {"identifier": "cleo@example.com"})
    response = client.submit("/portal/code/verify", {"code": latest_code(app)})
    assert response.headers["Location"] == "/portal/home"


def get_settings_failures(app):
    with app.app_context():
        return get_settings().lockout_failures
