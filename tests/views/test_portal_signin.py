"""The portal through its forms: every way in, every way out, and who sees what."""

import re
import time

import pytest
import time_machine
from sqlalchemy import select

from app.services import invitations, portal_accounts
from app.services.portal_settings import get_settings
from models import OutboxMessage, ProductStatus, db
from tests import factories


@pytest.fixture
def office(app):
    """Two clients with portal access and the credentials they were sent."""
    with app.app_context():
        staff = factories.staff(email="sue.staff@example.com")
        cleo = factories.record(
            first_name="Cleo",
            last_name="Client",
            email="cleo@example.com",
            mobile="+12025550143",
            assigned_agent_id=staff.id,
        )
        bart = factories.record(first_name="Bart", last_name="Other", email="bart@example.com")
        factories.product(
            cleo,
            carrier="SharedCarrier",
            plan_name="Visible Plan",
            status=ProductStatus.ACTIVE,
            client_access=True,
        )
        factories.product(
            cleo, carrier="HiddenCarrier", status=ProductStatus.QUOTED, client_access=False
        )
        factories.product(
            bart, carrier="BartsCarrier", status=ProductStatus.ACTIVE, client_access=True
        )
        result = {}
        for name, record in (("cleo", cleo), ("bart", bart)):
            portal_accounts.enable_self_service(record, staff)
            db.session.commit()
            result[name] = {"record_id": record.id, **_credentials(record.id)}
        result["staff_id"] = staff.id
        return result


def _credentials(record_id):
    link = password = None
    for message in db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.record_id == record_id).order_by(OutboxMessage.id)
    ):
        if found := re.search(r"/portal/a/([\w-]+)", message.body_text):
            link = found.group(1)
        if message.template_key == "portal.password":
            password = re.search(r"^\s{4}(\S+)$", message.body_text, re.M).group(1)
    return {"token": link, "password": password}


def sign_in(client, person):
    return client.submit(f"/portal/a/{person['token']}", {"password": person["password"]})


def test_sign_in_with_the_personal_link(client, office):
    page = client.get(f"/portal/a/{office['cleo']['token']}").get_data(as_text=True)
    assert "Welcome, Cleo" in page
    response = sign_in(client, office["cleo"])
    assert response.status_code == 302 and response.headers["Location"] == "/portal/home"
    home = client.get("/portal/home").get_data(as_text=True)
    assert "Hello, Cleo" in home and "cleo@example.com" in home
    assert "SharedCarrier" in home and "Visible Plan" in home
    assert "HiddenCarrier" not in home  # not shared with the client
    assert "BartsCarrier" not in home and "Bart" not in home


def test_wrong_password_keeps_you_out_with_a_plain_message(client, office):
    response = client.submit(f"/portal/a/{office['cleo']['token']}", {"password": "nope"})
    assert response.status_code == 200
    assert "We could not sign you in with those details" in response.get_data(as_text=True)
    assert client.get("/portal/home").status_code == 302


def test_an_unknown_link_explains_itself(client, office):
    response = client.get("/portal/a/not-a-real-token")
    assert response.status_code == 404
    assert "This link no longer works" in response.get_data(as_text=True)


def test_disabling_ends_an_open_session_on_the_next_request(app, client, office):
    sign_in(client, office["cleo"])
    assert client.get("/portal/home").status_code == 200
    with app.app_context():
        from models import Record, User

        portal_accounts.disable_self_service(
            db.session.get(Record, office["cleo"]["record_id"]),
            db.session.get(User, office["staff_id"]),
        )
        db.session.commit()
    response = client.get("/portal/home", follow_redirects=True)
    assert "please sign in again" in response.get_data(as_text=True)
    assert response.request.path == "/portal/"


def test_enabling_again_ends_old_sessions_and_old_credentials(app, client, office):
    sign_in(client, office["cleo"])
    with app.app_context():
        from models import Record, User

        portal_accounts.enable_self_service(
            db.session.get(Record, office["cleo"]["record_id"]),
            db.session.get(User, office["staff_id"]),
        )
        db.session.commit()
        fresh = _credentials(office["cleo"]["record_id"])
    assert client.get("/portal/home").status_code == 302
    assert client.get(f"/portal/a/{office['cleo']['token']}").status_code == 404
    assert sign_in(client, {**fresh}).headers["Location"] == "/portal/home"


def test_idle_sessions_end(app, client, office):
    sign_in(client, office["cleo"])
    with app.app_context():
        idle = get_settings().session_idle_minutes
    # Measured on the server: the cookie's own clock is not trusted.
    with time_machine.travel(time.time() + idle * 60 + 5):
        response = client.get("/portal/home", follow_redirects=True)
    assert f"signed out after {idle} minutes" in response.get_data(as_text=True)


def test_sign_out(client, office):
    sign_in(client, office["cleo"])
    response = client.submit("/portal/signout", page="/portal/home", follow_redirects=True)
    assert "You are signed out." in response.get_data(as_text=True)
    assert client.get("/portal/home").status_code == 302


def test_email_and_password(client, office):
    response = client.submit(
        "/portal/signin/password",
        {"email": "CLEO@example.com", "password": office["cleo"]["password"]},
    )
    assert response.headers["Location"] == "/portal/home"


def run_sign_in_jobs(app):
    """What a worker does first with a code or reset request: look the address up and put the
    message in the outbox. Delivery stays queued, so the message can still be read here."""
    from app.queue import QUEUES, get_queue

    with app.app_context():
        for name in QUEUES:
            queue = get_queue(name)
            for job in queue.get_jobs():
                if job.func_name.startswith("jobs.portal_accounts."):
                    queue.remove(job)
                    job.func(*job.args, **job.kwargs)
        db.session.remove()


def latest_code(app):
    run_sign_in_jobs(app)
    with app.app_context():
        message = db.session.scalar(
            select(OutboxMessage)
            .where(OutboxMessage.template_key.like("portal.login_code%"))
            .order_by(OutboxMessage.id.desc())
        )
        return re.search(r"\b(\d{6})\b", message.body_text).group(1)


@pytest.mark.parametrize(
    "channel, typed", [("email", "cleo@example.com"), ("sms", "(202) 555-0143")]
)
def test_one_time_code(app, client, office, channel, typed):
    response = client.submit(f"/portal/code/{channel}", {"identifier": typed})
    assert response.headers["Location"] == "/portal/code/verify"
    page = client.get("/portal/code/verify").get_data(as_text=True)
    assert "a 6-digit code is on its way" in page
    response = client.submit("/portal/code/verify", {"code": latest_code(app)})
    assert response.headers["Location"] == "/portal/home"
    with app.app_context():
        from models import ActivityEntry

        keys = [e.event_key for e in db.session.scalars(select(ActivityEntry))]
    assert f"portal.login.{channel}" in keys


def test_asking_for_a_code_for_an_unknown_address_looks_the_same(app, client, office):
    known = client.submit("/portal/code/email", {"identifier": "cleo@example.com"})
    unknown = client.submit("/portal/code/email", {"identifier": "stranger@example.com"})
    assert known.status_code == unknown.status_code == 302
    assert known.headers["Location"] == unknown.headers["Location"]
    page = client.get("/portal/code/verify").get_data(as_text=True)
    assert "If stranger@example.com belongs to a portal account" in page
    response = client.submit("/portal/code/verify", {"code": "123456"})
    assert "That code did not work" in response.get_data(as_text=True)


def test_one_mailbox_two_portals_asks_whose(app, client, office):
    with app.app_context():
        from models import User

        partner = factories.record(first_name="Pat", last_name="Partner", email="cleo@example.com")
        portal_accounts.enable_self_service(partner, db.session.get(User, office["staff_id"]))
        db.session.commit()
    client.submit("/portal/code/email", {"identifier": "cleo@example.com"})
    response = client.submit("/portal/code/verify", {"code": latest_code(app)})
    assert response.headers["Location"] == "/portal/code/choose"
    page = client.get("/portal/code/choose").get_data(as_text=True)
    assert "Cleo Client" in page and "Pat Partner" in page
    option = re.search(r'value="(\d+)"[^>]*>\s*<label[^>]*>Pat Partner', page) or re.search(
        r'id="account-\d+"[^>]*value="(\d+)"', page
    )
    ids = re.findall(r'name="account" type="radio" value="(\d+)"', page) or re.findall(
        r'type="radio" name="account" value="(\d+)"', page
    )
    assert option or ids
    chosen = ids[-1] if ids else option.group(1)
    response = client.submit("/portal/code/choose", {"account": chosen})
    assert response.headers["Location"] == "/portal/home"
    assert "Hello, Pat" in client.get("/portal/home").get_data(as_text=True)


def test_invitation_sign_up(app, client, office):
    with app.app_context():
        from models import Record, User

        record = factories.record(first_name="Ivy", email="ivy@example.com")
        invitations.invite(record, db.session.get(User, office["staff_id"]))
        db.session.commit()
        message = db.session.scalar(
            select(OutboxMessage).where(OutboxMessage.template_key == "portal.invitation")
        )
        token = re.search(r"/portal/invite/([\w-]+)", message.body_text).group(1)
        del Record
    page = f"/portal/invite/{token}"
    assert "Welcome, Ivy" in client.get(page).get_data(as_text=True)
    response = client.submit(page, {"password": "short", "confirm": "short"})
    assert "at least 10 characters" in response.get_data(as_text=True)
    response = client.submit(
        page, {"password": "ivy's long password", "confirm": "ivy's long password"}
    )
    assert response.headers["Location"] == "/portal/home"
    client.submit("/portal/signout", page="/portal/home")
    assert client.get(page).status_code == 404  # used once


def test_password_reset_through_the_forms(app, client, office):
    response = client.submit("/portal/reset", {"email": "cleo@example.com"})
    assert "Check your email" in response.get_data(as_text=True)
    same = client.submit("/portal/reset", {"email": "nobody@example.com"})
    assert same.get_data(as_text=True) == response.get_data(as_text=True)
    run_sign_in_jobs(app)
    with app.app_context():
        message = db.session.scalar(
            select(OutboxMessage).where(OutboxMessage.template_key == "portal.password_reset")
        )
        token = re.search(r"/portal/reset/([\w.-]+)", message.body_text).group(1)
    response = client.submit(
        f"/portal/reset/{token}",
        {"password": "brand new password", "confirm": "brand new password"},
    )
    assert response.headers["Location"] == "/portal/"
    assert client.get(f"/portal/reset/{token}").status_code == 404
    ok = client.submit(
        "/portal/signin/password", {"email": "cleo@example.com", "password": "brand new password"}
    )
    assert ok.headers["Location"] == "/portal/home"


@pytest.mark.usefixtures("fresh_minute")
def test_sign_in_is_rate_limited_per_account(client, office):
    url = f"/portal/a/{office['cleo']['token']}"
    for _ in range(10):
        client.submit(url, {"password": "wrong"})
    response = client.submit(url, {"password": office["cleo"]["password"]})
    assert response.status_code == 429
    assert "Too many attempts" in response.get_data(as_text=True)


@pytest.mark.usefixtures("fresh_minute")
def test_code_requests_are_rate_limited_per_address(client, office):
    for _ in range(10):
        client.submit("/portal/code/email", {"identifier": "cleo@example.com"})
    response = client.submit("/portal/code/email", {"identifier": "cleo@example.com"})
    assert response.status_code == 429


def test_forms_need_their_csrf_token(client, office):
    response = client.post(
        f"/portal/a/{office['cleo']['token']}", data={"password": office["cleo"]["password"]}
    )
    assert response.status_code == 400
    assert client.get("/portal/home").status_code == 302


def test_turned_off_methods_disappear(app, client, office):
    with app.app_context():
        settings = get_settings()
        settings.allow_sms_code_sign_in = False
        settings.allow_link_sign_in = False
        db.session.commit()
    page = client.get("/portal/").get_data(as_text=True)
    assert "Get a code by text message" not in page and "Get a code by email" in page
    assert client.get("/portal/code/sms").status_code == 404
    response = client.get(f"/portal/a/{office['cleo']['token']}", follow_redirects=True)
    assert "turned off" in response.get_data(as_text=True)


def test_a_client_can_never_see_another_clients_portal(app, client, office):
    assert sign_in(client, office["cleo"]).status_code == 302
    assert "Cleo" in client.get("/portal/home").get_data(as_text=True)  # really signed in
    bart = office["bart"]["record_id"]
    # The staff preview does not exist for clients.
    assert client.get(f"/portal/preview/{bart}/home").status_code == 404
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("portal.") and "GET" in rule.methods and not rule.arguments:
            html = client.get(rule.rule).get_data(as_text=True)
            assert "Bart" not in html and "BartsCarrier" not in html, rule.rule


def test_staff_preview_shows_the_client_read_only(app, admin_client, office):
    cleo = office["cleo"]["record_id"]
    response = admin_client.get(f"/admin/record/{cleo}/self-service/view/")
    assert response.headers["Location"] == f"/portal/preview/{cleo}/home"
    page = admin_client.get(f"/portal/preview/{cleo}/home").get_data(as_text=True)
    assert "Preview: this is the portal of Cleo Client" in page
    assert "SharedCarrier" in page and "HiddenCarrier" not in page
    assert "Sign out" not in page
    # Nothing in the preview accepts a POST (the screens that take forms refuse it with 403).
    assert admin_client.submit(f"/portal/preview/{cleo}/home", {}, page="/admin/").status_code in (
        403,
        405,
    )
    with app.app_context():
        from models import ActivityEntry

        entry = db.session.scalar(
            select(ActivityEntry).where(ActivityEntry.event_key == "staff.self_service.viewed")
        )
        assert entry.record_id == cleo


def test_portal_pages_have_strict_security_headers(client, office):
    sign_in(client, office["cleo"])
    response = client.get("/portal/home")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self' 'nonce-" in csp and "'unsafe-inline'" not in csp
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Cache-Control"] == "no-store"
    assert 'style="' not in response.get_data(as_text=True)  # the CSP allows no inline styles


def test_the_channel_is_part_of_the_code(app, client, office):
    """A code sent by email does not open the door on the text-message path."""
    client.submit("/portal/code/email", {"identifier": "cleo@example.com"})
    code = latest_code(app)
    client.submit("/portal/code/sms", {"identifier": "(202) 555-0143"})
    response = client.submit("/portal/code/verify", {"code": code})
    assert "That code did not work" in response.get_data(as_text=True)
    assert client.get("/portal/home").status_code == 302  # still signed out
