"""A visitor goes through a journey at /f/<slug> as a browser would: real forms with the
journey cookie's CSRF token, the PIN read from the mail the SMTP server received, a form, an
upload, a signature, the review, the completion email with its PDF, and the way on. Also: the
PIN's limits, an expired PIN, coming back by the emailed link, who may frame a journey, another
visitor's session, a closed journey and a redirect to a host not allowed."""

from __future__ import annotations

import re
from datetime import timedelta
from io import BytesIO
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask
from sqlalchemy import select, update

from app.services.journeys import visitors
from app.services.portal_settings import get_settings
from models import (
    Document,
    Journey,
    JourneyField,
    JourneySession,
    JourneyStep,
    JourneyUpload,
    LoginCode,
    Record,
    SessionStatus,
    SignerStatus,
    StepKind,
    db,
    utcnow,
)
from tests import factories
from tests.conftest import Mailbox, run_jobs
from tests.services.test_workflow_sign_action import saved_layout
from tests.views.test_request_limits import _multipart as multipart

SLUG = "renew-policy"
EMAIL = "vera.visitor@example.com"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\x00" * 64


def make_journey(
    *,
    slug: str = SLUG,
    kinds: tuple[str, ...] = ("form", "upload", "sign", "review"),
    embed_origins: str = "",
    redirect_url: str | None = "http://portico.test/thanks",
    pin_attempts: int = 3,
    closing_html: str = "",
    active: bool = True,
) -> dict[str, Any]:
    """A journey with a form, an upload, a signature and a review step (by default); call in an
    app context. Returns plain values."""
    staff = factories.staff(email=f"jo.{slug}@example.com", first_name="Jo", last_name="Agent")
    journey = Journey(
        name="Renew your policy",
        slug=slug,
        active=active,
        assigned_user_id=staff.id,
        pin_minutes=10,
        pin_attempts=pin_attempts,
        opening_html='<p>Renew in <strong>five minutes</strong>.</p><script>alert("x")</script>',
        closing_html=closing_html,
        send_copy=True,
        redirect_url=redirect_url,
        embed_origins=embed_origins,
        resume_days=7,
    )
    for position, kind in enumerate(kinds):
        step = JourneyStep(position=position, kind=StepKind(kind), title=kind.title())
        if kind == "form":
            step.title = "About you"
            step.intro = "A few questions about your car."
            step.fields = [
                JourneyField(label="Date of birth", field_type="date", required=True, position=0),
                JourneyField(
                    label="Vehicle",
                    field_type="choice",
                    settings={"options": ["Car", "Motorcycle"]},
                    required=True,
                    position=1,
                ),
                JourneyField(label="Anything else?", field_type="long_text", position=2),
            ]
        elif kind == "upload":
            step.title = "Your licence"
            step.fields = [
                JourneyField(label="Front of driver's licence", field_type="file", required=True),
                JourneyField(label="Back of driver's licence", field_type="file", position=1),
            ]
        elif kind == "sign":
            step.title = "Sign the renewal"
            step.sign_template_id = saved_layout(f"Renewal letter {slug}").id
        elif kind == "review":
            step.title = "Check and send"
        journey.steps.append(step)
    db.session.add(journey)
    db.session.commit()
    return {
        "id": journey.id,
        "slug": journey.slug,
        "staff_id": staff.id,
        "fields": {f.label: f.id for s in journey.steps for f in s.fields},
    }


# -- what a browser does ----------------------------------------------------------------------


def start(client: Any, slug: str = SLUG, email: str = EMAIL, query: str = "") -> str:
    """Send the welcome form; the session's public id."""
    page = f"/f/{slug}{query}"
    html = client.get(page).get_data(as_text=True)
    next_value = re.search(r'name="next"[^>]*value="([^"]*)"|id="next"[^>]*value="([^"]*)"', html)
    data = {"name": "Vera Visitor", "email": email}
    if next_value:
        data["next"] = (next_value.group(1) or next_value.group(2) or "").replace("&amp;", "&")
    response = client.submit(f"/f/{slug}", data, page=page)
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    found = re.search(r"/f/[\w-]+/s/([\w-]+)/pin$", response.headers["Location"])
    assert found, response.headers["Location"]
    return found.group(1)


def latest_pin(app: Flask, mailbox: Mailbox, email: str = EMAIL) -> str:
    run_jobs(app)
    pins = [
        str(m["Subject"]).rsplit(" ", 1)[-1]
        for m in mailbox.to(email)
        if str(m["Subject"]).startswith("Your PIN for")
    ]
    assert pins, "no PIN arrived"
    return pins[-1]


def enter_pin(client: Any, public_id: str, code: str, slug: str = SLUG) -> Any:
    url = f"/f/{slug}/s/{public_id}/pin"
    return client.submit(url, {"code": code}, page=url)


def step_url(public_id: str, index: int, slug: str = SLUG) -> str:
    return f"/f/{slug}/s/{public_id}/step/{index}"


def fill_form(client: Any, public_id: str, fields: dict[str, int]) -> Any:
    return client.submit(
        step_url(public_id, 0),
        {
            f"q{fields['Date of birth']}": "1980-02-29",
            f"q{fields['Vehicle']}": "Motorcycle",
            f"q{fields['Anything else?']}": "Garaged at night.",
        },
    )


def upload(client: Any, public_id: str, fields: dict[str, int]) -> Any:
    url = step_url(public_id, 1)
    token = client.csrf_token(url)
    return client.post(
        url,
        data={
            "csrf_token": token,
            f"slot{fields['Front of driver' + chr(39) + 's licence']}": (
                BytesIO(JPEG),
                "licence-front.jpg",
            ),
        },
        content_type="multipart/form-data",
    )


def sign(client: Any, public_id: str, index: int = 2) -> Any:
    url = step_url(public_id, index)
    page = client.get(url).get_data(as_text=True)
    assert "Electronic Record and Signature Disclosure" in page
    version = re.search(r'name="disclosure_version"[^>]*value="(\d+)"', page)
    version = version or re.search(r'value="(\d+)"[^>]*name="disclosure_version"', page)
    assert version
    response = client.submit(
        f"{url}/consent", {"agreed": "y", "disclosure_version": version.group(1)}, page=url
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:1500]
    page = client.get(url).get_data(as_text=True)
    assert 'id="pt-sign-form"' in page and "/pages/0.png" in page
    return client.submit(
        f"{url}/finish",
        {"signature_style": "typed", "signature_text": "Vera Visitor"},
        page=url,
    )


@pytest.fixture
def journey(app: Flask) -> dict[str, Any]:
    with app.app_context():
        return make_journey()


def _session(app: Flask, public_id: str) -> JourneySession:
    with app.app_context():
        found = db.session.scalar(
            select(JourneySession).where(JourneySession.public_id == public_id)
        )
        assert found is not None
        db.session.expunge(found)
        return found


# -- the whole journey ------------------------------------------------------------------------


def test_a_visitor_goes_through_every_step_and_gets_the_pdf(
    app: Flask, client: Any, journey: dict[str, Any], mailbox: Mailbox
) -> None:
    welcome = client.get(f"/f/{SLUG}")
    html = welcome.get_data(as_text=True)
    assert welcome.status_code == 200
    assert "Renew in <strong>five minutes</strong>." in html
    assert "alert(" not in html  # a row written around the admin's check is sanitized too
    assert 'class="pt-nav"' not in html and "Sign out" not in html  # no portal navigation
    public_id = start(client)

    pin_page = client.get(f"/f/{SLUG}/s/{public_id}/pin").get_data(as_text=True)
    assert "v***@example.com" in pin_page
    # Steps wait for the PIN.
    assert client.get(step_url(public_id, 0)).headers["Location"].endswith("/pin")
    response = enter_pin(client, public_id, latest_pin(app, mailbox))
    assert response.status_code == 302
    assert response.headers["Location"].endswith(step_url(public_id, 0))

    # The form: a wrong answer is sent back, then the right ones are kept.
    url = step_url(public_id, 0)
    refused = client.submit(url, {f"q{journey['fields']['Vehicle']}": "Boat"})
    assert refused.status_code == 422
    assert (
        fill_form(client, public_id, journey["fields"])
        .headers["Location"]
        .endswith(step_url(public_id, 1))
    )
    # Going back shows the answers given.
    again = client.get(url).get_data(as_text=True)
    assert "1980-02-29" in again and "Garaged at night." in again
    # A step beyond the one reached sends the visitor to it.
    assert client.get(step_url(public_id, 3)).headers["Location"].endswith(step_url(public_id, 1))

    # The upload: the required slot first, then the file.
    url = step_url(public_id, 1)
    empty = client.submit(url, {})
    assert empty.status_code == 422 and "Add a file for" in empty.get_data(as_text=True)
    assert upload(client, public_id, journey["fields"]).status_code == 302
    assert "Sent: licence-front.jpg" in client.get(url).get_data(as_text=True)

    # The signature.
    response = sign(client, public_id)
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    assert response.headers["Location"].endswith(step_url(public_id, 3))
    image = client.get(f"{step_url(public_id, 2)}/pages/0.png")
    assert image.status_code == 404  # signed: the pages are not shown any more

    # The review shows everything, then completes.
    review = client.get(step_url(public_id, 3)).get_data(as_text=True)
    assert "Motorcycle" in review and "licence-front.jpg" in review and "Signed" in review
    mailbox.clear()
    response = client.submit(step_url(public_id, 3), {})
    assert response.headers["Location"].endswith(f"/f/{SLUG}/s/{public_id}/done")
    done = client.get(response.headers["Location"])
    html = done.get_data(as_text=True)
    assert "Well done!" in html and "Email me another copy" in html
    assert "A copy of everything you sent is on its way to v***@example.com" in html
    assert 'href="http://portico.test/thanks" target="_top"' in html

    found = _session(app, public_id)
    assert found.status == SessionStatus.COMPLETED and found.completion_document_id
    run_jobs(app)
    [completed] = [m for m in mailbox.to(EMAIL) if "is complete" in str(m["Subject"])]
    attachments = [part for part in completed.iter_attachments()]
    assert [a.get_content_type() for a in attachments] == ["application/pdf"]
    assert attachments[0].get_content().startswith(b"%PDF")

    # The copy on request, and the session matched a new lead assigned to the journey's user.
    mailbox.clear()
    copy = client.submit(f"/f/{SLUG}/s/{public_id}/copy", {}, page=f"/f/{SLUG}/s/{public_id}/done")
    assert "We emailed you a copy." in copy.get_data(as_text=True)
    run_jobs(app)
    assert any("Your copy of" in str(m["Subject"]) for m in mailbox.to(EMAIL))
    with app.app_context():
        record = db.session.get(Record, found.record_id)
        assert record.email == EMAIL and record.assigned_agent_id == journey["staff_id"]
        titles = {
            d.title
            for d in db.session.scalars(select(Document).where(Document.record_id == record.id))
        }
        assert "Front of driver's licence" in titles
        signer = db.session.get(JourneySession, found.id).sign_request.signers[0]
        assert signer.status == SignerStatus.SIGNED
    # Finished: the steps send the visitor to the ending page.
    assert client.get(step_url(public_id, 0)).headers["Location"].endswith("/done")


def test_the_journey_cookie_is_http_only_for_f_and_carries_the_forms_token(
    client: Any, journey: dict[str, Any]
) -> None:
    response = client.get(f"/f/{SLUG}")
    # Only the journey cookie: the Flask session's would not reach a frame on another site.
    [cookie] = response.headers.getlist("Set-Cookie")
    assert cookie.startswith("portico_journey=") and "HttpOnly" in cookie
    assert "Path=/f/" in cookie and "SameSite=Lax" in cookie
    # A form without the token is refused; the Flask session's token is not this one.
    refused = client.post(f"/f/{SLUG}", data={"name": "Eve", "email": "eve@example.com"})
    assert refused.status_code == 400
    assert "This form has expired" in refused.get_data(as_text=True)
    # A browser that kept no cookie (one that refuses them in frames) is told what to do.
    client.delete_cookie("portico_journey", path="/f/")
    data = {"name": "Eve", "email": "eve@example.com", "csrf_token": "x"}
    refused = client.post(f"/f/{SLUG}", data=data).get_data(as_text=True)
    assert "did not keep this page" in refused
    assert f'href="/f/{SLUG}" target="_blank" rel="noopener">Open the form in a new tab' in refused


def test_over_https_the_cookie_works_in_a_frame_on_another_site(
    client: Any, journey: dict[str, Any]
) -> None:
    cookie = client.get(f"/f/{SLUG}", base_url="https://portico.test").headers["Set-Cookie"]
    assert "Secure" in cookie and "SameSite=None" in cookie and "Partitioned" in cookie


# -- the PIN ----------------------------------------------------------------------------------


def test_wrong_pins_up_to_the_limit_send_the_visitor_back_to_start(
    app: Flask, client: Any, journey: dict[str, Any], mailbox: Mailbox
) -> None:
    public_id = start(client)
    right = latest_pin(app, mailbox)
    wrong = "000000" if right != "000000" else "111111"
    for _ in range(2):
        response = enter_pin(client, public_id, wrong)
        assert response.status_code == 422
        assert "That PIN is not right" in response.get_data(as_text=True)
    response = enter_pin(client, public_id, wrong)  # the third and last try
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/f/{SLUG}?restart=locked")
    assert "Too many wrong PINs" in client.get(response.headers["Location"]).get_data(as_text=True)
    # The session is over for this browser, even with the right PIN.
    assert client.get(f"/f/{SLUG}/s/{public_id}/pin").status_code == 404
    assert _session(app, public_id).verified_at is None


def test_an_expired_pin_is_refused_and_a_new_one_works(
    app: Flask, client: Any, journey: dict[str, Any], mailbox: Mailbox
) -> None:
    public_id = start(client)
    code = latest_pin(app, mailbox)
    with app.app_context():
        db.session.execute(update(LoginCode).values(expires_at=utcnow() - timedelta(minutes=1)))
        db.session.commit()
    response = enter_pin(client, public_id, code)
    assert response.status_code == 422 and "expired" in response.get_data(as_text=True)
    pin_url = f"/f/{SLUG}/s/{public_id}/pin"
    response = client.submit(f"{pin_url}/new", {}, page=pin_url)
    assert "We sent you a new PIN" in response.get_data(as_text=True)
    fresh = latest_pin(app, mailbox)
    response = enter_pin(client, public_id, fresh)
    assert response.status_code == 302 and "/step/0" in response.headers["Location"]


# -- resume -----------------------------------------------------------------------------------


def test_a_visitor_who_left_comes_back_by_the_emailed_link_after_a_fresh_pin(
    app: Flask, client: Any, journey: dict[str, Any], mailbox: Mailbox
) -> None:
    public_id = start(client)
    enter_pin(client, public_id, latest_pin(app, mailbox))
    fill_form(client, public_id, journey["fields"])
    with app.app_context(), app.test_request_context():
        found = db.session.scalar(
            select(JourneySession).where(JourneySession.public_id == public_id)
        )
        link = visitors.resume_link(found)
        db.session.commit()
    path = urlsplit(link).path

    app.test_client_class = type(client)
    other = app.test_client()  # another browser: the session's id alone opens nothing
    assert other.get(step_url(public_id, 1)).status_code == 404
    page = other.get(path)
    assert page.status_code == 200 and "v***@example.com" in page.get_data(as_text=True)
    mailbox.clear()
    response = other.submit(path, {}, page=path)
    assert response.headers["Location"].endswith(f"/f/{SLUG}/s/{public_id}/pin")
    assert other.get(step_url(public_id, 1)).status_code == 404  # not before the PIN
    response = enter_pin(other, public_id, latest_pin(app, mailbox))
    old_id, public_id = public_id, response.headers["Location"].split("/")[-3]
    assert public_id != old_id  # a fresh PIN: the session has a new id, this browser alone
    assert response.headers["Location"].endswith(step_url(public_id, 1))  # where they were
    assert "Garaged at night." in other.get(step_url(public_id, 0)).get_data(as_text=True)
    assert client.get(step_url(old_id, 0)).status_code == 404  # the first browser is out
    assert other.get("/f/renew-policy/resume/not-a-token").status_code == 404


# -- embedding --------------------------------------------------------------------------------


def _policy(response: Any) -> dict[str, str]:
    directives = [p.strip() for p in response.headers["Content-Security-Policy"].split(";")]
    return {d.split(" ", 1)[0]: d.split(" ", 1)[1] for d in directives if d}


def test_a_journey_may_be_framed_by_its_sites_only(
    app: Flask, client: Any, journey: dict[str, Any]
) -> None:
    # No site named: only the office itself may frame it.
    response = client.get(f"/f/{SLUG}")
    policy = _policy(response)
    assert policy["frame-ancestors"] == "'self'"
    assert response.headers["X-Frame-Options"] == "SAMEORIGIN"
    with app.app_context():
        db.session.get(
            Journey, journey["id"]
        ).embed_origins = "https://agency.example\nhttp://localhost:8000"
        db.session.commit()
    response = client.get(f"/f/{SLUG}")
    policy = _policy(response)
    assert policy["frame-ancestors"] == "'self' https://agency.example http://localhost:8000"
    assert "X-Frame-Options" not in response.headers
    # The rest of the strict policy stays, nonce included.
    assert re.fullmatch(r"'self' 'nonce-[\w-]+'", policy["script-src"])
    assert policy["style-src"] == "'self'" and policy["object-src"] == "'none'"
    assert policy["form-action"] == "'self'" and policy["default-src"] == "'self'"
    # Other pages still refuse every frame; an unknown journey allows only the office.
    portal = client.get("/portal/")
    assert _policy(portal)["frame-ancestors"] == "'none'"
    assert portal.headers["X-Frame-Options"] == "DENY"
    assert _policy(client.get("/f/no-such-journey"))["frame-ancestors"] == "'self'"
    # A site taken off the list is refused at once, for sessions already open too.
    with app.app_context():
        db.session.get(Journey, journey["id"]).embed_origins = "http://localhost:8000"
        db.session.commit()
    assert _policy(client.get(f"/f/{SLUG}"))["frame-ancestors"] == "'self' http://localhost:8000"


# -- bad input --------------------------------------------------------------------------------


def test_another_visitors_session_is_not_found(
    app: Flask, client: Any, journey: dict[str, Any], mailbox: Mailbox
) -> None:
    with app.app_context():
        make_journey(slug="report-a-claim", kinds=("form",))
    public_id = start(client)
    enter_pin(client, public_id, latest_pin(app, mailbox))
    app.test_client_class = type(client)
    stranger = app.test_client()
    start(stranger, email="sam.stranger@example.com")
    for path in (
        f"/f/{SLUG}/s/{public_id}/pin",
        step_url(public_id, 0),
        f"/f/{SLUG}/s/{public_id}/done",
        f"{step_url(public_id, 2)}/pages/0.png",
    ):
        response = stranger.get(path)
        assert response.status_code == 404, path
        assert "This page does not exist" in response.get_data(as_text=True)
    refused = stranger.submit(step_url(public_id, 0), {"q1": "x"}, page=f"/f/{SLUG}")
    assert refused.status_code == 404
    # The owner's own id under another journey's address is not found either.
    assert client.get(f"/f/report-a-claim/s/{public_id}/pin").status_code == 404
    assert client.get(step_url(public_id, 0, slug="report-a-claim")).status_code == 404


def test_an_inactive_journey_shows_a_polite_closed_page(
    app: Flask, client: Any, journey: dict[str, Any], mailbox: Mailbox
) -> None:
    public_id = start(client)
    enter_pin(client, public_id, latest_pin(app, mailbox))
    token = client.csrf_token(f"/f/{SLUG}")  # a page opened before it closed
    with app.app_context():
        db.session.get(Journey, journey["id"]).active = False
        db.session.commit()
    for path in (f"/f/{SLUG}", step_url(public_id, 0)):
        response = client.get(path)
        assert response.status_code == 200
        assert "This form is closed" in response.get_data(as_text=True)
    data = {"name": "Vera", "email": EMAIL, "csrf_token": token}
    response = client.post(f"/f/{SLUG}", data=data)
    assert "This form is closed" in response.get_data(as_text=True)
    unknown = client.get("/f/no-such-journey")
    assert unknown.status_code == 404 and "This page does not exist" in unknown.get_data(
        as_text=True
    )


def _finish(app: Flask, client: Any, mailbox: Mailbox, query: str = "") -> str:
    public_id = start(client, query=query)
    enter_pin(client, public_id, latest_pin(app, mailbox))
    client.submit(step_url(public_id, 0), {})  # the review step
    return client.get(f"/f/{SLUG}/s/{public_id}/done").get_data(as_text=True)


def test_a_next_address_off_the_allow_list_is_ignored(
    app: Flask, client: Any, mailbox: Mailbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    with app.app_context():
        make_journey(kinds=("review",), closing_html="<p>All <em>done</em>.</p>")
    html = _finish(app, client, mailbox, "?next=https://evil.example/steal")
    assert "All <em>done</em>." in html and "Well done!" in html  # heading kept for readers
    assert "evil.example" not in html
    assert 'href="http://portico.test/thanks" target="_top"' in html

    monkeypatch.setitem(app.config, "PORTICO_JOURNEY_REDIRECT_HOSTS", ["agency.example"])
    html = _finish(app, client, mailbox, "?next=https://agency.example/thank-you")
    assert 'href="https://agency.example/thank-you" target="_top"' in html
    # Taken off the allow-list after the session started: ignored when the page is shown.
    monkeypatch.setitem(app.config, "PORTICO_JOURNEY_REDIRECT_HOSTS", [])
    with app.app_context():
        latest = db.session.scalars(
            select(JourneySession).order_by(JourneySession.id.desc())
        ).first()
        public_id = latest.public_id
    html = client.get(f"/f/{SLUG}/s/{public_id}/done").get_data(as_text=True)
    assert "agency.example" not in html


def test_uploads_follow_the_document_rules(app: Flask, client: Any, mailbox: Mailbox) -> None:
    with app.app_context():
        made = make_journey(kinds=("upload", "review"))
    public_id = start(client)
    enter_pin(client, public_id, latest_pin(app, mailbox))
    url = step_url(public_id, 0)
    slot = made["fields"]["Front of driver's licence"]
    response = client.post(
        url,
        data={
            "csrf_token": client.csrf_token(url),
            f"slot{slot}": (BytesIO(b"MZ\x90\x00"), "x.exe"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    assert f'id="slot{slot}-error"' in response.get_data(as_text=True)
    assert _session(app, public_id).step_index == 0


def test_the_pdf_of_the_signature_step_is_a_real_page_while_signing(
    app: Flask, client: Any, mailbox: Mailbox
) -> None:
    with app.app_context():
        make_journey(kinds=("sign", "review"))
    public_id = start(client)
    enter_pin(client, public_id, latest_pin(app, mailbox))
    url = step_url(public_id, 0)
    client.get(url)
    image = client.get(f"{url}/pages/0.png")
    assert image.status_code == 200 and image.data.startswith(b"\x89PNG")


def test_an_upload_step_takes_files_beyond_the_request_limit_each_within_the_document_one(
    app: Flask, client: Any, journey: dict[str, Any], mailbox: Mailbox
) -> None:
    public_id = start(client)
    enter_pin(client, public_id, latest_pin(app, mailbox))
    fill_form(client, public_id, journey["fields"])
    url = step_url(public_id, 1)
    photo = JPEG + b"\x00" * (15 << 20)  # two phone photos: 30 MB, over the 25 MB of a request
    fields = journey["fields"]
    front = fields["Front of driver's licence"]
    back = fields["Back of driver's licence"]
    # A body built by hand (see multipart): the client's own would spill into an open file.
    body = multipart(
        {
            "csrf_token": client.csrf_token(url),
            f"slot{front}": ("f.jpg", photo),
            f"slot{back}": ("b.jpg", photo),
        }
    )
    response = client.post(url, **body)
    assert response.status_code == 302, response.get_data(as_text=True)[:1000]
    with app.app_context():
        sizes = db.session.scalars(select(JourneyUpload.size)).all()
        assert sorted(sizes) == [len(photo), len(photo)]
    # A browser that does not hold the session gets the ordinary limit, before anything is read.
    app.test_client_class = type(client)
    stranger = app.test_client()
    token = stranger.csrf_token(f"/f/{SLUG}")
    files = {"slot1": ("x.jpg", photo), "slot2": ("y.jpg", photo)}
    response = stranger.post(url, **multipart({"csrf_token": token, **files}))
    assert response.status_code == 413


def test_the_welcome_answers_the_same_whoever_the_email_is_and_is_limited(
    app: Flask, client: Any, journey: dict[str, Any], mailbox: Mailbox, fresh_minute: None
) -> None:
    with app.app_context():
        factories.record(email="known.client@example.com")
    answers = []
    for email in ("known.client@example.com", "nobody.known@example.com"):
        public_id = start(client, email=email)
        page = client.get(f"/f/{SLUG}/s/{public_id}/pin")
        answers.append((page.status_code, page.get_data(as_text=True).replace(public_id, "")))
    assert answers[0][0] == answers[1][0] == 200
    assert answers[0][1].replace("k***@", "n***@") == answers[1][1]
    # Welcome forms per email (and per address) are limited.
    limit = int(str(app.config["PORTICO_PORTAL_LOGIN_LIMIT"]).split(" ")[0])
    token = client.csrf_token(f"/f/{SLUG}")
    statuses = [
        client.post(
            f"/f/{SLUG}",
            data={"csrf_token": token, "name": "Flo Od", "email": "flood@example.com"},
        ).status_code
        for _ in range(limit + 1)
    ]
    assert statuses[-1] == 429 and 302 in statuses


def test_a_journey_without_steps_says_it_is_not_ready(app: Flask, client: Any) -> None:
    with app.app_context():
        make_journey(kinds=())
    response = client.submit(f"/f/{SLUG}", {"name": "Vera Visitor", "email": EMAIL})
    assert response.status_code == 422
    assert "This journey is not ready" in response.get_data(as_text=True)


def test_the_pages_wear_the_offices_branding(
    app: Flask, client: Any, journey: dict[str, Any]
) -> None:
    with app.app_context():
        settings = get_settings()
        settings.portal_name = "Harbour Insurance"
        settings.brand_colour = "#7a1f5c"
        settings.office_phone = "+16145550100"
        db.session.commit()
    html = client.get(f"/f/{SLUG}").get_data(as_text=True)
    assert '<span class="pt-brand">Harbour Insurance</span>' in html
    assert "/portal/branding.css?v=7a1f5c" in html and "(614) 555-0100" in html
    assert "<title>Renew your policy · Harbour Insurance</title>" in html
    closed = client.get("/f/no-such-journey").get_data(as_text=True)
    assert "Harbour Insurance" in closed


def test_pin_entry_is_limited_per_email_whatever_the_address_and_session(
    app: Flask, client: Any, journey: dict[str, Any], mailbox: Mailbox, fresh_minute: None
) -> None:
    sessions = [start(client) for _ in range(4)]
    limit = int(str(app.config["PORTICO_PORTAL_LOGIN_LIMIT"]).split(" ")[0])
    statuses = []
    for number, public_id in enumerate(sessions, 1):
        url = f"/f/{SLUG}/s/{public_id}/pin"
        token = client.csrf_token(url)
        for _ in range(3):
            response = client.post(
                url,
                data={"csrf_token": token, "code": "000000"},
                environ_base={"REMOTE_ADDR": f"10.0.0.{number}"},  # another address each time
            )
            statuses.append(response.status_code)
    assert 429 not in statuses[:limit] and statuses[limit] == 429
