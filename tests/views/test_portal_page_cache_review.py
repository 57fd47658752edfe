"""Holes in the portal page cache found in review: each test shows one, and stays to keep it
closed."""

from __future__ import annotations

import time
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import load_only

from app.redis import get_redis
from models import Product, Record, SignRequest, db, utcnow
from tests import factories
from tests.conftest import login
from tests.views import test_portal_details as details
from tests.views.test_portal_page_cache import home, kept
from tests.views.test_portal_signing import send_request

cora = details.cora
signed_in = details.signed_in


def test_a_kept_page_carries_the_browsers_current_form_token(signed_in, agent_user):
    """Staff signed in to the staff panel in the same browser: their sign-out (or its idle
    time-out) drops the browser's form token. The client's kept home page still carries the
    old token, so its Sign out button is refused until the page is rendered again."""
    login(signed_in, agent_user.email, factories.PASSWORD)
    kept(signed_in)
    signed_in.submit("/staff/logout", page="/admin/")
    signed_in.get("/portal/home")  # the staff sign-out's message, shown once
    response = signed_in.submit("/portal/signout", page="/portal/home")
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    assert signed_in.get("/portal/home").status_code == 302  # signed out


def _pause_redis(seconds: float) -> None:
    """Redis stops answering every client for a while (busy, swapping, a stalled network):
    whoever asks it something waits."""
    get_redis().execute_command("CLIENT", "PAUSE", int(seconds * 1000), "ALL")


def test_a_busy_redis_does_not_hold_up_a_commit(app, cora):
    """Every commit that touches a shown row renews a version in Redis (staff pages, jobs,
    the client's own changes): a Redis that stops answering must not hold those commits up
    (before the cache, a staff save or a job never waited on Redis)."""
    with app.app_context():
        get_redis().ping()  # the connection is made before Redis stops answering
        _pause_redis(2)
        started = time.monotonic()
        db.session.get(Record, cora["record_id"]).phone = "+12025550177"
        db.session.commit()
        waited = time.monotonic() - started
    time.sleep(max(0.0, 2.5 - waited))  # let Redis answer again before the next test
    assert waited < 1, f"the commit waited {waited:.1f} s for Redis"


def test_a_sign_request_past_its_expiry_leaves_the_kept_page(app, signed_in, cora):
    """No row changes when a sign request expires: the clock passes its ``expires_at``. A page
    kept before must not go on offering it as waiting for the client's signature."""
    sent = send_request(app, cora["record_id"])
    with app.app_context():
        db.session.execute(
            update(SignRequest)
            .where(SignRequest.id == sent["id"])
            .values(expires_at=utcnow() + timedelta(seconds=2))
        )
        db.session.commit()
    assert "Incoming requests" in kept(signed_in).get_data(as_text=True)
    time.sleep(2.5)
    assert "Incoming requests" not in home(signed_in).get_data(as_text=True)


def test_a_row_loaded_without_its_record_column_still_renews_the_page(app, signed_in, cora):
    """A row loaded with only some columns (load_only, as the staff record list loads
    accounts) and then changed names no record in the flush's history: its change must still
    reach the page (the office's version, at worst), not be missed."""
    with app.app_context():
        record = db.session.get(Record, cora["record_id"])
        factories.product(record, carrier="Aetna", client_access=True)
        db.session.commit()
    assert "Aetna" in kept(signed_in).get_data(as_text=True)
    with app.app_context():
        product = db.session.scalars(
            select(Product)
            .where(Product.record_id == cora["record_id"])
            .options(load_only(Product.carrier))
        ).one()
        product.carrier = "Humana"
        db.session.commit()
    page = home(signed_in).get_data(as_text=True)
    assert "Humana" in page and "Aetna" not in page
