"""A visitor's pages cost the same number of SQL statements however much the office has: as
many sessions, records and uploads on the record as you like, the welcome page, a step and
the review read only what they show."""

from __future__ import annotations

from typing import Any

from flask import Flask
from sqlalchemy import insert

from models import Document, DocumentKind, JourneySession, Record, RecordKind, db
from tests.conftest import Mailbox
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


def _pages(client: Any, public_id: str) -> list[str]:
    return [f"/f/{SLUG}", step_url(public_id, 0), step_url(public_id, 1)]


def _counts(client: Any, count_queries: Any, public_id: str) -> list[int]:
    found = []
    for path in _pages(client, public_id):
        client.get(path)  # warm: the first visit of a minute notes the visit
        with count_queries() as counter:
            assert client.get(path).status_code == 200, path
        found.append(counter.count)
    return found


def test_visitor_pages_cost_the_same_whatever_the_office_holds(
    app: Flask, client: Any, journey: dict[str, Any], mailbox: Mailbox, count_queries: Any
) -> None:
    public_id = start(client)
    enter_pin(client, public_id, latest_pin(app, mailbox))
    fill_form(client, public_id, journey["fields"])
    before = _counts(client, count_queries, public_id)

    with app.app_context():
        record = db.session.scalar(
            db.select(Record).where(Record.email == EMAIL, Record.kind == RecordKind.LEAD)
        )
        assert record is not None
        db.session.execute(
            insert(Document),
            [
                {
                    "record_id": record.id,
                    "kind": DocumentKind.LINK,
                    "title": f"Link {n}",
                    "url": f"https://example.com/{n}",
                }
                for n in range(200)
            ],
        )
        session = db.session.scalar(
            db.select(JourneySession).where(JourneySession.public_id == public_id)
        )
        db.session.execute(
            insert(JourneySession),
            [
                {
                    "journey_id": session.journey_id,
                    "public_id": f"other-{n}",
                    "version": session.version,
                    "definition": session.definition,
                    "name": f"Visitor {n}",
                    "email": f"visitor{n}@example.com",
                }
                for n in range(200)
            ],
        )
        db.session.commit()
    assert _counts(client, count_queries, public_id) == before
    assert max(before) <= 6, before  # 2, 3 and 4 when written
