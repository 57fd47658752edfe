"""A page of the staff record list is kept for the staff member's sign-in and served again until
a record or the office changes: the sign-in and the role are checked first every time, another
staff member never gets it, and a change by anyone (a colleague, a worker, the client) is on
the very next page."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
import redis
from sqlalchemy import update

from admin_views.list_cache import AT_MOST, HEADER
from app.services import page_cache, records, tags
from app.settings import ConfigError
from models import Record, RecordKind, SignInSession, Tag, User, db, utcnow
from tests import factories
from tests.conftest import PageClient, login
from tests.views.test_admin_records import record_form

LIST = "/admin/record/"
NONCE = re.compile(r'nonce="[^"]+"|\'nonce-[^\']+\'')


@pytest.fixture
def grace(app: Any) -> dict[str, Any]:
    with app.app_context():
        record = factories.record(first_name="Grace", last_name="Hopper")
        return {"id": record.id}


def page(client: Any, address: str = LIST) -> Any:
    response = client.get(address)
    assert response.status_code == 200, response.status_code
    return response


def kept(client: Any, address: str = LIST) -> Any:
    """The page, rendered once and then served from the cache."""
    assert page(client, address).headers[HEADER] == "miss"
    response = page(client, address)
    assert response.headers[HEADER] == "hit"
    return response


def test_the_list_is_served_again_with_the_same_rows_and_fresh_headers(agent_client, grace):
    first = page(agent_client)
    assert first.headers[HEADER] == "miss"
    second = page(agent_client)
    assert second.headers[HEADER] == "hit"
    assert "Hopper" in second.get_data(as_text=True)
    # The same page but for its CSP nonce, which is new on every response.
    bodies = [NONCE.sub("", r.get_data(as_text=True)) for r in (first, second)]
    assert bodies[0] == bodies[1]
    assert first.headers["Content-Security-Policy"] != second.headers["Content-Security-Policy"]
    assert second.headers["Cache-Control"] == "no-store"
    # Its bulk-action form still carries this browser's token, so it still works.
    assert agent_client.csrf_token(LIST) in bodies[1]


def test_a_kept_page_reads_only_the_sign_in(agent_client, grace, count_queries):
    kept(agent_client)
    with count_queries() as counter:
        assert page(agent_client).headers[HEADER] == "hit"
    assert counter.count == 2  # the staff user, and their sign-in's session row


def test_each_address_is_a_page_of_its_own(agent_client, grace):
    kept(agent_client)
    filtered = page(agent_client, f"{LIST}?search=nobody-by-that-name")
    assert filtered.headers[HEADER] == "miss"
    assert "Hopper" not in filtered.get_data(as_text=True)
    assert "Hopper" in page(agent_client).get_data(as_text=True)


def test_a_record_saved_by_a_colleague_is_on_the_next_page(app, agent_client, admin_client, grace):
    kept(agent_client)
    url = f"/admin/record/edit/?id={grace['id']}"
    form = record_form(first_name="Grace", last_name="Brewster", email="grace@example.com")
    assert admin_client.submit(url, form).status_code == 302
    fresh = page(agent_client)
    assert fresh.headers[HEADER] == "miss"
    assert "Brewster" in fresh.get_data(as_text=True)


def test_a_workers_change_and_a_new_record_are_on_the_next_page(app, agent_client, grace):
    with app.app_context():
        # What a workflow's job does: a service, then the job's commit.
        lead = factories.record(kind=RecordKind.LEAD, first_name="Lee", last_name="Leadley")
    kept(agent_client)
    with app.app_context():
        assert records.convert_to_client(db.session.get(Record, lead.id))
        db.session.commit()
    assert page(agent_client).headers[HEADER] == "miss"
    assert page(agent_client).headers[HEADER] == "hit"
    with app.app_context():
        factories.record(first_name="Newton", last_name="Newcomer")
    fresh = page(agent_client)
    assert fresh.headers[HEADER] == "miss" and "Newcomer" in fresh.get_data(as_text=True)


def test_a_renamed_tag_is_on_the_next_page(app, agent_client, grace):
    with app.app_context():
        tag = factories.tag("Gold star")
        # In bulk, as a workflow's "add tag" action does (one INSERT, no rows loaded).
        tags.add_tag([grace["id"]], tag)
        db.session.commit()
        tag_id = tag.id
    assert "Gold star" in kept(agent_client).get_data(as_text=True)
    with app.app_context():
        db.session.get(Tag, tag_id).name = "Very important"
        db.session.commit()
    fresh = page(agent_client)
    assert fresh.headers[HEADER] == "miss"
    assert "Very important" in fresh.get_data(as_text=True)


def test_another_staff_member_never_gets_my_page(app, agent_client, admin_user, grace):
    kept(agent_client)
    app.test_client_class = PageClient
    other = app.test_client()
    login(other, admin_user.email, factories.PASSWORD)
    assert page(other).headers[HEADER] == "miss"


def test_signing_out_is_checked_before_a_kept_page(agent_client, grace):
    kept(agent_client)
    agent_client.submit("/staff/logout", page=LIST)
    response = agent_client.get(LIST)
    assert response.status_code == 302 and "/staff/login" in response.headers["Location"]


def test_an_idle_sign_in_ends_before_a_kept_page(app, agent_client, grace):
    kept(agent_client)
    idle = int(app.config["PORTICO_STAFF_IDLE_MINUTES"])
    with app.app_context():
        db.session.execute(
            update(SignInSession)
            .where(SignInSession.ended_at.is_(None))
            .values(last_seen_at=utcnow() - timedelta(minutes=idle + 1))
        )
        db.session.commit()
    response = agent_client.get(LIST)
    assert response.status_code == 302 and "/staff/login" in response.headers["Location"]


def test_a_role_taken_away_is_checked_before_a_kept_page(app, agent_client, agent_user, grace):
    kept(agent_client)
    with app.app_context():
        user = db.session.get(User, agent_user.id)
        user.roles = [r for r in user.roles if r.name != "agent"]
        db.session.commit()
    assert agent_client.get(LIST).status_code == 403


def test_a_page_with_a_message_is_neither_kept_nor_answered_from_the_cache(agent_client, grace):
    kept(agent_client)
    # A bulk action refused for want of a tag changes nothing, and ends on the list with a
    # message: the kept page (at the same versions) must not stand in for it.
    response = agent_client.submit(
        f"{LIST}bulk-tag/", {"scope": "selected", "tag_id": "", "url": LIST}, page=LIST
    )
    assert response.status_code == 302
    shown = agent_client.get(response.headers["Location"])
    assert "Choose records and a tag." in shown.get_data(as_text=True)
    assert HEADER not in shown.headers
    # The page shown with the message was not kept either; the one after is the kept one.
    assert page(agent_client).headers[HEADER] == "hit"
    assert "Choose records and a tag." not in page(agent_client).get_data(as_text=True)


def test_a_sign_in_keeps_a_bounded_number_of_pages(agent_client, grace):
    for n in range(AT_MOST + 3):
        assert page(agent_client, f"{LIST}?search=q{n}").headers[HEADER] == "miss"
    # The first addresses were kept; past the allowance, pages are rendered and not kept.
    assert page(agent_client, f"{LIST}?search=q0").headers[HEADER] == "hit"
    assert page(agent_client, f"{LIST}?search=q{AT_MOST + 2}").headers[HEADER] == "miss"


def test_lists_whose_rows_no_version_follows_are_never_kept(agent_client):
    for address in ("/admin/activity/", "/admin/outbox/"):
        for _ in range(2):
            response = agent_client.get(address)
            assert HEADER not in response.headers


def test_pages_are_rendered_every_time_when_the_cache_is_off(make_app, agent_user):
    off = make_app(PORTICO_STAFF_LIST_CACHE_SECONDS=0)
    off.test_client_class = PageClient
    client = off.test_client()
    login(client, agent_user.email, factories.PASSWORD)
    for _ in range(2):
        assert HEADER not in page(client).headers


def test_a_negative_cache_time_is_refused_at_start(make_app):
    with pytest.raises(ConfigError, match="PORTICO_STAFF_LIST_CACHE_SECONDS must be 0"):
        make_app(PORTICO_STAFF_LIST_CACHE_SECONDS=-1)


def test_without_redis_every_page_is_rendered(agent_client, grace, monkeypatch):
    offline = redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=1)
    monkeypatch.setattr(page_cache, "get_redis", lambda: offline)
    for _ in range(2):
        response = page(agent_client)
        assert "Hopper" in response.get_data(as_text=True) and HEADER not in response.headers
