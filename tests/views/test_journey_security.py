"""A journey's pages against what a stranger, another visitor or a careless row could do: a
policy directive smuggled in through an embedding site, markup in the admin's step texts,
and an inbox flooded with PINs from many addresses."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import Flask
from sqlalchemy import func, select

from app.services.journeys import visitors
from models import Journey, JourneyField, JourneySession, JourneyStep, OutboxMessage, db
from portal.journeys import limits
from tests.conftest import Mailbox
from tests.views.test_journey_visitor import (
    EMAIL,
    SLUG,
    enter_pin,
    journey,
    latest_pin,
    start,
    step_url,
)

__all__ = ["journey"]  # the fixture, used by name


def _directives(response: Any) -> list[str]:
    policy = response.headers["Content-Security-Policy"]
    return [part.strip().split(" ", 1)[0] for part in policy.split(";") if part.strip()]


def test_a_stored_site_that_would_add_a_directive_never_reaches_the_header(
    app: Flask, client: Any, journey: dict[str, Any]
) -> None:
    with app.app_context():
        # Written another way than the admin form, which refuses it.
        db.session.get(
            Journey, journey["id"]
        ).embed_origins = "https://agency.example\nhttps://evil.example;sandbox"
        db.session.commit()
    response = client.get(f"/f/{SLUG}")
    assert response.status_code == 200
    directives = _directives(response)
    assert "sandbox" not in directives and len(directives) == len(set(directives))
    assert "frame-ancestors 'self' https://agency.example" in response.headers[
        "Content-Security-Policy"
    ].split("; ")


def test_step_titles_intros_labels_and_help_are_text(
    app: Flask, client: Any, journey: dict[str, Any], mailbox: Mailbox
) -> None:
    with app.app_context():
        step = db.session.scalar(
            select(JourneyStep).where(JourneyStep.journey_id == journey["id"]).limit(1)
        )
        step.title = '<img src=x onerror="alert(1)">'
        step.intro = "<script>alert(2)</script>"
        field = db.session.get(JourneyField, journey["fields"]["Anything else?"])
        field.label = "<b onmouseover=alert(3)>Else</b>"
        field.help_text = '<a href="javascript:alert(4)">help</a>'
        db.session.commit()
    public_id = start(client)
    enter_pin(client, public_id, latest_pin(app, mailbox))
    html = client.get(step_url(public_id, 0)).get_data(as_text=True)
    for raw in ("<img src=x", "<script>alert(2)", "<b onmouseover", '<a href="javascript'):
        assert raw not in html
    assert "&lt;img src=x" in html and "&lt;script&gt;alert(2)" in html


def test_pins_to_one_address_stop_whatever_addresses_ask(
    app: Flask, client: Any, journey: dict[str, Any], mailbox: Mailbox
) -> None:
    for number in range(5):
        ip = {"REMOTE_ADDR": f"198.51.100.{number + 1}"}
        client.environ_base.update(ip)
        public_id = start(client)
        token = client.csrf_token(f"/f/{SLUG}/s/{public_id}/pin")
        resent = client.post(f"/f/{SLUG}/s/{public_id}/pin/new", data={"csrf_token": token})
        assert resent.status_code == 200
    client.environ_base["REMOTE_ADDR"] = "198.51.100.99"
    token = client.csrf_token(f"/f/{SLUG}")
    refused = client.post(
        f"/f/{SLUG}", data={"csrf_token": token, "name": "Vera Visitor", "email": EMAIL}
    )
    assert refused.status_code == 422
    assert "as many codes" in refused.get_data(as_text=True)
    with app.app_context():
        sent = db.session.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.recipient == EMAIL, OutboxMessage.template_key == "journey.pin")
        )
    assert sent == 10


def test_a_fresh_pin_by_the_emailed_link_leaves_the_other_browsers_out(
    app: Flask, client: Any, journey: dict[str, Any], mailbox: Mailbox
) -> None:
    public_id = start(client)
    enter_pin(client, public_id, latest_pin(app, mailbox))
    with app.app_context(), app.test_request_context():
        found = db.session.scalar(
            select(JourneySession).where(JourneySession.public_id == public_id)
        )
        link = visitors.resume_link(found)
        db.session.commit()
    path = urlsplit(link).path
    app.test_client_class = type(client)
    phone = app.test_client()
    phone.submit(path, {}, page=path)
    response = enter_pin(phone, public_id, latest_pin(app, mailbox))
    assert response.status_code == 302
    new_id = response.headers["Location"].split("/")[-3]
    assert phone.get(step_url(new_id, 0)).status_code == 200
    # The computer the visitor left (still holding its cookie) opens nothing any more.
    for path in (step_url(public_id, 0), step_url(new_id, 0), f"/f/{SLUG}/s/{public_id}/pin"):
        assert client.get(path).status_code == 404, path


def test_looking_at_the_emailed_link_writes_nothing_to_the_trail(
    app: Flask, client: Any, journey: dict[str, Any], mailbox: Mailbox
) -> None:
    public_id = start(client)
    enter_pin(client, public_id, latest_pin(app, mailbox))
    with app.app_context(), app.test_request_context():
        found = db.session.scalar(
            select(JourneySession).where(JourneySession.public_id == public_id)
        )
        path = urlsplit(visitors.resume_link(found)).path
        db.session.commit()
        before = len(found.trail)
    for _ in range(50):  # a mail scanner, or anyone holding the link: GETs are not limited
        assert client.get(path).status_code == 200
    with app.app_context():
        found = db.session.scalar(
            select(JourneySession).where(JourneySession.public_id == public_id)
        )
        assert len(found.trail) == before


def test_every_post_of_another_visitors_session_is_not_found(
    app: Flask, client: Any, journey: dict[str, Any], mailbox: Mailbox
) -> None:
    public_id = start(client)
    enter_pin(client, public_id, latest_pin(app, mailbox))
    app.test_client_class = type(client)
    stranger = app.test_client()
    own = start(stranger, email="sam.stranger@example.com")
    token = stranger.csrf_token(f"/f/{SLUG}/s/{own}/pin")  # a valid token of its own cookie
    base = f"/f/{SLUG}/s/{public_id}"
    for path in (
        f"{base}/pin",
        f"{base}/pin/new",
        f"{base}/copy",
        step_url(public_id, 0),
        f"{step_url(public_id, 2)}/consent",
        f"{step_url(public_id, 2)}/finish",
    ):
        response = stranger.post(path, data={"csrf_token": token, "code": "123456"})
        assert response.status_code == 404, path
    draft = stranger.post(
        f"{step_url(public_id, 2)}/draft", json={"fields": {}}, headers={"X-CSRFToken": token}
    )
    assert draft.status_code == 404
    with app.app_context():
        found = db.session.scalar(
            select(JourneySession).where(JourneySession.public_id == public_id)
        )
        assert not [e for e in found.trail if "PIN wrong" in e["what"]]
        assert found.sign_request_id is None


def test_welcome_forms_from_one_address_are_limited_whatever_the_emails(
    app: Flask, client: Any, journey: dict[str, Any], fresh_minute: None
) -> None:
    limit = int(str(app.config["PORTICO_PORTAL_LOGIN_LIMIT"]).split(" ")[0])
    token = client.csrf_token(f"/f/{SLUG}")
    statuses = [
        client.post(
            f"/f/{SLUG}",
            data={"csrf_token": token, "name": "Flo Od", "email": f"flood{n}@example.com"},
        ).status_code
        for n in range(limit + 1)
    ]
    assert statuses[:limit] == [302] * limit and statuses[limit] == 429
    with app.app_context():
        started = db.session.scalar(select(func.count()).select_from(JourneySession))
    assert started == limit


def test_wrong_pins_for_one_email_are_capped_for_the_day(
    app: Flask, client: Any, journey: dict[str, Any], fresh_minute: None
) -> None:
    """Every new PIN brings its own tries: a day's cap per email keeps guesses few."""
    old = limits.PIN_EMAIL_DAY_LIMIT
    limits.PIN_EMAIL_DAY_LIMIT = "4 per day"
    try:
        statuses = []
        for _ in range(3):
            public_id = start(client)
            url = f"/f/{SLUG}/s/{public_id}/pin"
            token = client.csrf_token(url)
            for _ in range(2):
                response = client.post(url, data={"csrf_token": token, "code": "000000"})
                statuses.append(response.status_code)
        assert 429 in statuses[4:] and 429 not in statuses[:4]
    finally:
        limits.PIN_EMAIL_DAY_LIMIT = old
