"""'Finish later': a visitor halfway through asks for the emailed link back, at the SMTP
server, and comes back by it; at most three links a session; a journey without resume has no
such button; another visitor's session is a 404."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from flask import Flask
from sqlalchemy import select

from models import Journey, db
from tests.conftest import Mailbox, body_of, run_jobs
from tests.views.test_journey_visitor import (
    EMAIL,
    SLUG,
    enter_pin,
    fill_form,
    journey,
    latest_pin,
    start,
    step_url,
)

__all__ = ["journey"]  # the fixture, used by name


def later_url(public_id: str) -> str:
    return f"/f/{SLUG}/s/{public_id}/later"


def test_finish_later_emails_a_link_that_brings_the_visitor_back(
    app: Flask, client: Any, journey: dict[str, Any], mailbox: Mailbox
) -> None:
    public_id = start(client)
    enter_pin(client, public_id, latest_pin(app, mailbox))
    fill_form(client, public_id, journey["fields"])
    page = client.get(step_url(public_id, 1)).get_data(as_text=True)
    assert "Finish later: email me a link" in page and later_url(public_id) in page
    mailbox.clear()
    response = client.submit(later_url(public_id), {}, page=step_url(public_id, 1))
    text = response.get_data(as_text=True)
    assert response.status_code == 200 and "We emailed a link to v***@example.com" in text
    run_jobs(app)
    [mail] = mailbox.wait_for(1)
    assert EMAIL in str(mail["To"])
    link = re.search(r"https?://\S+/f/" + SLUG + r"/resume/[\w-]+", body_of(mail))
    assert link, body_of(mail)

    other = app.test_client()  # the phone the link is opened on
    path = urlsplit(link.group(0)).path
    mailbox.clear()
    response = other.submit(path, {}, page=path)
    assert response.headers["Location"].endswith("/pin")
    response = enter_pin(other, public_id, latest_pin(app, mailbox))
    assert "/step/1" in response.headers["Location"]  # where they asked to finish later


def test_at_most_three_links_a_session_and_none_without_resume(
    app: Flask, client: Any, journey: dict[str, Any], mailbox: Mailbox
) -> None:
    public_id = start(client)
    enter_pin(client, public_id, latest_pin(app, mailbox))
    statuses = [
        client.submit(later_url(public_id), {}, page=step_url(public_id, 0)).status_code
        for _ in range(4)
    ]
    assert statuses == [200, 200, 200, 422]
    refused = client.submit(later_url(public_id), {}, page=step_url(public_id, 0))
    assert "3 times already" in refused.get_data(as_text=True)

    with app.app_context():
        db.session.scalar(select(Journey).where(Journey.slug == SLUG)).resume_days = 0
        db.session.commit()
    second = start(client)  # a session started now keeps the journey as it is now
    enter_pin(client, second, latest_pin(app, mailbox))
    assert "Finish later" not in client.get(step_url(second, 0)).get_data(as_text=True)
    refused = client.submit(later_url(second), {}, page=step_url(second, 0))
    assert refused.status_code == 422
    assert "cannot be finished later" in refused.get_data(as_text=True)


def test_another_visitors_session_cannot_ask_for_its_link(
    app: Flask, client: Any, journey: dict[str, Any], mailbox: Mailbox
) -> None:
    public_id = start(client)
    enter_pin(client, public_id, latest_pin(app, mailbox))
    other = app.test_client()
    stranger = start(other, email="someone.else@example.com")
    assert (
        other.submit(later_url(public_id), {}, page=f"/f/{SLUG}/s/{stranger}/pin").status_code
        == 404
    )
