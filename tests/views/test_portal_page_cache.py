"""A client's home page is kept for their sign-in session and served again until anything it
shows changes: the sign-in is checked first every time, another client never gets it, and a
change by staff, a worker or the client is on the very next page."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
import redis
from sqlalchemy import select, update

from app.services import conversations, page_cache, portal_accounts, sessions
from app.services.portal_settings import get_settings
from app.settings import ConfigError
from models import ProductStatus, Record, SignInSession, User, db, utcnow
from portal.page_cache import HEADER
from tests import factories
from tests.conftest import PageClient
from tests.views import test_portal_details as details
from tests.views.test_portal_signin import _credentials

cora = details.cora
signed_in = details.signed_in

NONCE_IN_POLICY = re.compile(r"'nonce-[^']+'")


def home(client: Any) -> Any:
    response = client.get("/portal/home")
    assert response.status_code == 200
    return response


def kept(client: Any) -> Any:
    """Home, rendered once and then served from the cache."""
    assert home(client).headers[HEADER] == "miss"
    response = home(client)
    assert response.headers[HEADER] == "hit"
    return response


def test_home_is_served_again_with_the_same_content_and_headers(signed_in):
    first = home(signed_in)
    assert first.headers[HEADER] == "miss"
    second = home(signed_in)
    assert second.headers[HEADER] == "hit"
    assert second.get_data() == first.get_data()
    assert "Cora" in second.get_data(as_text=True)
    assert second.headers["Cache-Control"] == "no-store"
    assert second.headers["X-Frame-Options"] == "DENY"
    policies = [r.headers["Content-Security-Policy"] for r in (first, second)]
    assert policies[0] != policies[1]  # each response its own nonce
    assert NONCE_IN_POLICY.sub("", policies[0]) == NONCE_IN_POLICY.sub("", policies[1])


def test_a_kept_page_costs_one_sql_statement(signed_in, count_queries):
    kept(signed_in)
    with count_queries() as counter:
        assert home(signed_in).headers[HEADER] == "hit"
    assert counter.count == 1  # the sign-in's session row, with its account


def test_a_change_to_the_record_by_staff_is_on_the_next_page(app, signed_in, cora):
    kept(signed_in)
    with app.app_context():
        db.session.get(Record, cora["record_id"]).phone = "+12025550199"
        db.session.commit()
    page = home(signed_in)
    assert page.headers[HEADER] == "miss"
    assert "(202) 555-0199" in page.get_data(as_text=True)

    assert home(signed_in).headers[HEADER] == "hit"
    with app.app_context():
        factories.product(
            db.session.get(Record, cora["record_id"]),
            carrier="Wellcare",
            status=ProductStatus.ACTIVE,
            client_access=True,
        )
    assert "Wellcare" in home(signed_in).get_data(as_text=True)


def test_a_message_from_the_office_shows_its_badge_at_once(app, signed_in, cora):
    """A message names its record only through its conversation: that is enough."""
    assert 'class="pt-badge"' not in kept(signed_in).get_data(as_text=True)
    with app.app_context():
        record = db.session.get(Record, cora["record_id"])
        conversations.send_request(
            record, db.session.get(User, cora["staff_id"]), "Your renewal", "Please call us."
        )
        db.session.commit()
    assert 'class="pt-badge"' in home(signed_in).get_data(as_text=True)


def test_an_office_change_is_on_every_clients_next_page(app, signed_in):
    kept(signed_in)
    with app.app_context():
        get_settings().banner_html = "<p>Closed on Friday for the holiday.</p>"
        db.session.commit()
    assert "Closed on Friday" in home(signed_in).get_data(as_text=True)


def test_a_change_rolled_back_leaves_the_page_kept(app, signed_in, cora):
    kept(signed_in)
    with app.app_context():
        db.session.get(Record, cora["record_id"]).phone = "+12025550188"
        db.session.flush()
        db.session.rollback()
    assert home(signed_in).headers[HEADER] == "hit"


def test_another_client_never_gets_the_page(app, signed_in, cora):
    with app.app_context():
        staff = db.session.get(User, cora["staff_id"])
        other = factories.record(first_name="Otto", last_name="Other", email="otto@example.com")
        portal_accounts.enable_self_service(db.session.merge(other), staff)
        db.session.commit()
        otto = _credentials(other.id)
    otto_client = app.test_client()
    otto_client.submit(f"/portal/a/{otto['token']}", {"password": otto["password"]})

    for _ in range(2):
        mine, theirs = home(signed_in), home(otto_client)
        assert "Cora" in mine.get_data(as_text=True)
        assert "Cora" not in theirs.get_data(as_text=True)
        assert "Otto" in theirs.get_data(as_text=True)
    assert theirs.headers[HEADER] == "hit"


def test_the_sign_in_is_checked_before_a_kept_page(app, client, signed_in, cora):
    kept(signed_in)
    copy = app.test_client()
    copy.set_cookie("session", signed_in.get_cookie("session").value)
    assert home(copy).headers[HEADER] == "hit"  # the same sign-in, the same page

    signed_in.submit("/portal/signout", page="/portal/home")
    response = copy.get("/portal/home")
    assert response.status_code == 302 and "/portal/" in response.headers["Location"]


def test_ended_access_is_checked_before_a_kept_page(app, signed_in, cora):
    kept(signed_in)
    with app.app_context():
        record = db.session.get(Record, cora["record_id"])
        portal_accounts.disable_self_service(record, db.session.get(User, cora["staff_id"]))
        db.session.commit()
    assert signed_in.get("/portal/home").status_code == 302


def test_a_waiting_message_is_shown_and_that_page_not_kept(signed_in):
    kept(signed_in)
    with signed_in.session_transaction() as browser:
        browser["_flashes"] = [("info", "Your changes were saved.")]
    page = signed_in.get("/portal/home")
    assert "Your changes were saved." in page.get_data(as_text=True)
    assert HEADER not in page.headers
    again = home(signed_in)
    assert "Your changes were saved." not in again.get_data(as_text=True)


def test_the_staff_preview_is_never_kept(agent_client, cora, app):
    with app.app_context():
        db.session.get(Record, cora["record_id"]).assigned_agent_id = db.session.scalar(
            db.select(User.id).where(User.email == "agent7@example.com")
        )
        db.session.commit()
    for _ in range(2):
        page = agent_client.get(f"/portal/preview/{cora['record_id']}/home")
        assert page.status_code == 200 and "Cora" in page.get_data(as_text=True)
        assert HEADER not in page.headers


def test_pages_are_rendered_every_time_when_the_cache_is_off(make_app, cora):
    off = make_app(PORTICO_PORTAL_PAGE_CACHE_SECONDS=0)
    off.test_client_class = PageClient
    client = off.test_client()
    client.submit(f"/portal/a/{cora['token']}", {"password": cora["password"]})
    for _ in range(2):
        assert HEADER not in home(client).headers


def test_a_negative_cache_time_is_refused_at_start(make_app):
    with pytest.raises(ConfigError, match="PORTICO_PORTAL_PAGE_CACHE_SECONDS must be 0"):
        make_app(PORTICO_PORTAL_PAGE_CACHE_SECONDS=-1)


def test_without_redis_every_page_is_rendered(app, signed_in, monkeypatch, caplog):
    offline = redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=1)
    monkeypatch.setattr(page_cache, "get_redis", lambda: offline)
    monkeypatch.setattr(page_cache, "_warned_at", float("-inf"))
    for _ in range(3):
        page = home(signed_in)
        assert "Cora" in page.get_data(as_text=True) and HEADER not in page.headers
    said = [r for r in caplog.records if "cannot reach Redis" in r.getMessage()]
    assert len(said) == 1  # once a minute, not once a page


def _age_the_sign_in(app: Any, minutes: int) -> None:
    with app.app_context():
        db.session.execute(
            update(SignInSession)
            .where(SignInSession.ended_at.is_(None))
            .values(last_seen_at=utcnow() - timedelta(minutes=minutes))
        )
        db.session.commit()


def test_an_idle_sign_in_ends_before_a_kept_page(app, signed_in):
    kept(signed_in)
    _age_the_sign_in(app, get_settings_minutes(app) + 1)
    response = signed_in.get("/portal/home", follow_redirects=True)
    assert "signed out after" in response.get_data(as_text=True)
    assert signed_in.get("/portal/home").status_code == 302
    with app.app_context():
        assert (
            db.session.scalar(
                select(SignInSession.end_reason).where(SignInSession.portal_account_id.is_not(None))
            )
            == sessions.IDLE
        )


def test_a_kept_page_still_counts_as_activity(app, signed_in):
    kept(signed_in)
    _age_the_sign_in(app, 5)
    assert home(signed_in).headers[HEADER] == "hit"
    with app.app_context():
        seen = db.session.scalar(select(SignInSession.last_seen_at))
    assert utcnow() - seen < timedelta(minutes=1)


def get_settings_minutes(app: Any) -> int:
    with app.app_context():
        return get_settings().session_idle_minutes


def test_an_address_with_a_query_string_is_never_kept(signed_in):
    """Otherwise a client could have Redis keep any number of copies of their page."""
    for n in range(3):
        page = signed_in.get(f"/portal/home?n={n}")
        assert page.status_code == 200 and HEADER not in page.headers
    assert kept(signed_in)


def test_cacheable_screens_carry_no_rate_limit(app):
    """The rate limiter skips cacheable screens (portal/page_cache.py): none may carry a limit,
    of its own, its blueprint's, or the app's defaults."""
    from flask_limiter.util import get_qualified_name

    from app.extensions import limiter

    manager = limiter.limit_manager
    cacheable = {
        endpoint: view
        for endpoint, view in app.view_functions.items()
        if getattr(view, "portal_page_cache", False)
    }
    assert "portal.home" in cacheable
    for endpoint, view in cacheable.items():
        assert manager.decorated_limits(get_qualified_name(view)) == [], endpoint
        assert not manager.has_hints(endpoint), endpoint
        blueprint = endpoint.rsplit(".", 1)[0]
        assert not manager._blueprint_limits.get(blueprint), endpoint
    assert manager.default_limits == [] and manager.application_limits == []
