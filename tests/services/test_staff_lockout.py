"""Staff sign-in limits: attempts reserved before the password is checked, and the pause per
account and address, told to the owner once."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.redis import get_redis
from app.services import staff_lockout
from models import ActivityEntry, OutboxMessage, db, utcnow
from tests import factories

#: The test configuration's PORTICO_STAFF_LOGIN_LIMIT is "10 per minute;50 per hour".
PER_MINUTE, PER_HOUR = 10, 50
HERE, THERE = "198.51.100.7", "203.0.113.9"


def _reserve(ip=HERE, email="bea@example.com", now=None):
    return staff_lockout.reserve_attempt(ip, email, now=now)


# -- attempts ---------------------------------------------------------------------------------


def test_attempts_are_taken_before_and_refused_past_the_limit(ctx):
    now = utcnow().replace(second=0, microsecond=0)
    taken = [_reserve(now=now) for _ in range(PER_MINUTE)]
    assert not any(reservation.refused for reservation in taken)
    refused = _reserve(now=now)
    assert refused.refused and 0 < refused.retry_after <= 60
    # The account's budget is spent from any address; another account from here is too.
    assert _reserve(ip=THERE, now=now).refused
    assert _reserve(email="other@example.com", now=now).refused
    # Another account from another address is untouched: a refusal took nothing.
    assert not _reserve(ip=THERE, email="other@example.com", now=now).refused


def test_a_success_gives_its_attempt_back(ctx):
    now = utcnow().replace(second=0, microsecond=0)
    for _ in range(3 * PER_MINUTE):
        reservation = _reserve(now=now)
        assert not reservation.refused
        reservation.give_back()
    assert not _reserve(now=now).refused


def test_giving_back_after_the_window_ended_leaves_no_counter(ctx):
    reservation = _reserve()
    get_redis().delete(*reservation.keys)  # the windows expired
    reservation.give_back()
    assert all(get_redis().get(key) is None for key in reservation.keys)


def test_the_hourly_budget_holds_across_minutes(ctx):
    start = utcnow().replace(minute=0, second=0, microsecond=0)
    taken = 0
    for minute in range(10):
        for _ in range(PER_MINUTE):
            if not _reserve(now=start + timedelta(minutes=minute)).refused:
                taken += 1
    assert taken == PER_HOUR


# -- the pause --------------------------------------------------------------------------------


@pytest.fixture
def bea(ctx):
    user = factories.staff(email="bea@example.com", first_name="Bea", last_name="Boss")
    db.session.commit()
    return user


def _fail(user, ip, times):
    return [staff_lockout.record_failure(user, ip=ip) for _ in range(times)]


def test_the_pause_holds_for_one_address_only(app, bea):
    limit = app.config["PORTICO_STAFF_LOCKOUT_FAILURES"]
    results = _fail(bea, THERE, limit)
    assert results[-1] is not None and results[:-1] == [None] * (limit - 1)
    assert staff_lockout.locked_until(bea, ip=THERE) == results[-1]
    assert staff_lockout.locked_until(bea, ip=HERE) is None
    # Failures from two addresses do not add up to a pause of either.
    _fail(bea, HERE, limit - 1)
    assert staff_lockout.locked_until(bea, ip=HERE) is None


def test_the_owner_is_emailed_once_per_pause_and_it_is_logged(app, bea):
    limit = app.config["PORTICO_STAFF_LOCKOUT_FAILURES"]
    _fail(bea, THERE, 3 * limit)  # failures while paused neither extend it nor mail again
    db.session.commit()
    mail = db.session.scalars(select(OutboxMessage)).all()
    assert [m.recipient for m in mail] == ["bea@example.com"]
    assert f"from the address {THERE}" in mail[0].body_text
    assert f"after {limit} wrong passwords" in mail[0].body_text
    assert mail[0].event_key == "staff.login.locked"
    locked = db.session.scalars(
        select(ActivityEntry).where(ActivityEntry.event_key == "staff.login.locked")
    ).all()
    assert len(locked) == 1
    # The next pause (after this one ended) is a new email.
    until = staff_lockout.locked_until(bea, ip=THERE)
    _fail(bea, THERE, limit)  # still paused: nothing new
    staff_lockout.unlock(bea)
    _fail(bea, THERE, limit)
    db.session.commit()
    assert len(db.session.scalars(select(OutboxMessage)).all()) == 2
    assert until is not None


def test_unlock_ends_every_pause_of_the_account(app, bea):
    other = factories.staff(email="other@example.com")
    limit = app.config["PORTICO_STAFF_LOCKOUT_FAILURES"]
    for ip in (HERE, THERE):
        _fail(bea, ip, limit)
    _fail(other, THERE, limit)
    staff_lockout.unlock(bea)
    assert staff_lockout.locked_until(bea, ip=HERE) is None
    assert staff_lockout.locked_until(bea, ip=THERE) is None
    assert staff_lockout.locked_until(other, ip=THERE) is not None


def test_an_address_the_owner_used_keeps_its_own_budget(ctx):
    now = utcnow().replace(second=0, microsecond=0)
    staff_lockout.remember_address("Bea@example.com", HERE)
    for _ in range(PER_MINUTE):
        assert not _reserve(ip=THERE, now=now).refused  # a stranger spends the account's
    assert _reserve(ip="192.0.2.1", now=now).refused  # a new address shares it
    assert not _reserve(ip=HERE, now=now).refused  # hers does not
