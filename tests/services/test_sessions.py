"""Sign-in sessions on the server, the staff lockout and staff password strength."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.services import sessions, staff_lockout, users
from app.services.errors import ValidationError
from models import ActivityEntry, SignInSession, db, utcnow
from tests import factories

IDLE = timedelta(minutes=30)
LIFETIME = timedelta(hours=12)


def _check(sid, now=None):
    return sessions.check(sid, idle=IDLE, lifetime=LIFETIME, now=now)


def test_a_session_is_kept_by_the_hash_of_its_id(ctx):
    user = factories.staff()
    sid = sessions.start(user=user, ip="203.0.113.9", user_agent="Firefox")
    row = db.session.scalar(select(SignInSession))
    assert sid not in row.token_hash and len(sid) >= 40
    assert (row.user_id, row.portal_account_id, row.ip, row.user_agent) == (
        user.id,
        None,
        "203.0.113.9",
        "Firefox",
    )
    verdict = _check(sid)
    assert verdict.valid and verdict.user_id == user.id and not verdict.wrote


def test_unknown_ended_and_malformed_ids_are_refused(ctx):
    user = factories.staff()
    sid = sessions.start(user=user)
    for bad in (None, "", 42, "x" * 500, "not-a-session"):
        assert _check(bad).reason == sessions.UNKNOWN
    assert sessions.end(sid) is True
    assert sessions.end(sid) is False  # already ended
    verdict = _check(sid)
    assert not verdict.valid and verdict.reason == sessions.SIGNED_OUT


def test_idle_sessions_end_and_say_why(ctx):
    sid = sessions.start(user=factories.staff())
    later = utcnow() + IDLE + timedelta(seconds=1)
    verdict = _check(sid, now=later)
    assert (verdict.reason, verdict.wrote) == (sessions.IDLE, True)
    row = db.session.scalar(select(SignInSession))
    assert row.end_reason == sessions.IDLE and row.ended_at == later
    assert _check(sid).reason == sessions.IDLE  # and stays ended


def test_sessions_end_after_their_lifetime_however_active(ctx):
    start = utcnow()
    sid = sessions.start(user=factories.staff(), now=start)
    now = start
    while now - start < LIFETIME:  # a request every 20 minutes, all day long
        now += timedelta(minutes=20)
        verdict = _check(sid, now=now)
        if now - start <= LIFETIME:
            assert verdict.valid
    assert _check(sid, now=now + timedelta(minutes=20)).reason == sessions.EXPIRED


def test_last_seen_is_written_at_most_once_a_minute(ctx):
    start = utcnow()
    sid = sessions.start(user=factories.staff(), now=start)
    assert not _check(sid, now=start + timedelta(seconds=30)).wrote
    assert _check(sid, now=start + timedelta(seconds=61)).wrote
    assert not _check(sid, now=start + timedelta(seconds=90)).wrote
    row = db.session.scalar(select(SignInSession))
    assert row.last_seen_at == start + timedelta(seconds=61)


def test_end_all_keeps_the_session_asked_for_and_no_one_elses(ctx):
    alice, bob = (
        factories.staff(email="alice@example.com"),
        factories.staff(email="bob@example.com"),
    )
    here, there = sessions.start(user=alice), sessions.start(user=alice)
    bobs = sessions.start(user=bob)
    assert sessions.end_all(user=alice, reason=sessions.PASSWORD_CHANGED, keep=here) == 1
    assert _check(here).valid and _check(bobs).valid
    assert _check(there).reason == sessions.PASSWORD_CHANGED
    assert [s.id for s in sessions.open_sessions(user=alice)] == [
        db.session.scalar(select(SignInSession.id).where(SignInSession.user_id == alice.id))
    ]


def test_an_unsaved_user_ends_nobodys_sessions(ctx):
    from models import User

    sid = sessions.start(user=factories.staff())
    assert sessions.end_all(user=User(email="new@example.com"), reason="x") == 0
    assert _check(sid).valid


def test_client_sessions_end_with_a_password_reset_and_with_self_service(ctx):
    from app.services import portal_accounts

    staff = factories.staff()
    record = factories.record(email="cleo@example.com")
    account = portal_accounts.enable_self_service(record, staff).account
    phone, laptop = sessions.start(account=account), sessions.start(account=account)
    db.session.commit()
    portal_accounts.disable_self_service(record, staff)
    assert _check(phone).reason == _check(laptop).reason == sessions.ACCESS_ENDED


def test_a_session_has_exactly_one_owner(ctx):
    with pytest.raises(ValueError):
        sessions.start()


def test_prune_removes_old_sessions_only(ctx):
    start = utcnow() - timedelta(days=100)
    user = factories.staff()
    old = sessions.start(user=user, now=start)
    sessions.end(old, now=start)
    recent = sessions.start(user=user)
    assert sessions.prune(utcnow() - timedelta(days=90)) == 1
    assert _check(recent).valid


# -- staff lockout ----------------------------------------------------------------------------


def test_five_wrong_passwords_pause_staff_sign_in_and_are_logged(ctx, app):
    user = factories.staff(email="locked@example.com")
    limit = app.config["PORTICO_STAFF_LOCKOUT_FAILURES"]
    results = [staff_lockout.record_failure(user) for _ in range(limit)]
    assert results[:-1] == [None] * (limit - 1) and results[-1] is not None
    until = staff_lockout.locked_until(user)
    minutes = app.config["PORTICO_STAFF_LOCKOUT_MINUTES"]
    assert timedelta(minutes=minutes - 1) < until - utcnow() <= timedelta(minutes=minutes)
    keys = [e.event_key for e in db.session.scalars(select(ActivityEntry))]
    assert keys.count("staff.login.failed") == limit
    assert keys.count("staff.login.locked") == 1


def test_failures_while_paused_do_not_extend_the_pause(ctx, app):
    user = factories.staff()
    for _ in range(app.config["PORTICO_STAFF_LOCKOUT_FAILURES"]):
        staff_lockout.record_failure(user)
    until = staff_lockout.locked_until(user)
    for _ in range(20):
        assert staff_lockout.record_failure(user) is None
    assert staff_lockout.locked_until(user) == until
    assert staff_lockout.locked_until(user, now=until + timedelta(seconds=1)) is None


def test_a_success_starts_the_count_again(ctx, app):
    user = factories.staff()
    limit = app.config["PORTICO_STAFF_LOCKOUT_FAILURES"]
    for _ in range(limit - 1):
        staff_lockout.record_failure(user)
    staff_lockout.clear(user)
    for _ in range(limit - 1):
        assert staff_lockout.record_failure(user) is None
    assert staff_lockout.locked_until(user) is None


def test_one_accounts_failures_do_not_pause_another(ctx, app):
    alice, bob = (
        factories.staff(email="alice@example.com"),
        factories.staff(email="bob@example.com"),
    )
    for _ in range(app.config["PORTICO_STAFF_LOCKOUT_FAILURES"]):
        staff_lockout.record_failure(alice)
    assert staff_lockout.locked_until(alice) and staff_lockout.locked_until(bob) is None
    staff_lockout.unlock(alice)
    assert staff_lockout.locked_until(alice) is None


# -- staff password strength ------------------------------------------------------------------


@pytest.mark.parametrize("weak", ["Password123!", "qwertyuiop1", "boss@example.com1"])
def test_weak_staff_passwords_are_refused_with_what_to_do(ctx, weak):
    with pytest.raises(ValidationError) as caught:
        users.create_staff_user("boss@example.com", weak, "admin")
    assert "too easy to guess" in caught.value.message
    assert "uncommon words" in caught.value.message


def test_strong_staff_passwords_pass(ctx):
    user = users.create_staff_user("boss@example.com", "velvet quarry lantern 42", "admin")
    assert user.id


def test_an_admin_setting_a_password_signs_the_user_out_everywhere(ctx):
    user = factories.staff()
    sid = sessions.start(user=user)
    users.set_password(user, "velvet quarry lantern 42")
    assert _check(sid).reason == sessions.PASSWORD_CHANGED


@pytest.mark.parametrize(
    ("minutes_ago", "started_hours_ago", "ended", "reason"),
    [
        (0, 0, False, None),
        (5, 1, False, None),  # open; its last_seen_at is refreshed
        (31, 1, False, sessions.IDLE),
        (1, 13, False, sessions.EXPIRED),
        (0, 0, True, sessions.SIGNED_OUT),
    ],
)
def test_the_lean_portal_check_judges_as_the_full_one(
    ctx, minutes_ago, started_hours_ago, ended, reason
):
    """check_portal (a kept page's one SELECT) and check (every other page) say the same of
    the same session, and write the same: an idle or expired session ends, an open one is
    refreshed at most once a minute."""
    from app.services import portal_accounts

    staff = factories.staff()
    record = factories.record()
    account = portal_accounts.enable_self_service(record, staff).account
    now = utcnow()
    sids = [sessions.start(account=account) for _ in range(2)]
    db.session.flush()
    for row in db.session.scalars(select(SignInSession)):
        row.created_at = now - timedelta(hours=started_hours_ago)
        row.last_seen_at = now - timedelta(minutes=minutes_ago)
    db.session.commit()
    if ended:
        for sid in sids:
            sessions.end(sid)
        db.session.commit()

    lean, facts = sessions.check_portal(sids[0], idle=IDLE, lifetime=LIFETIME, now=now)
    full = _check(sids[1], now=now)
    assert lean.reason == full.reason == reason
    assert lean.wrote == full.wrote
    assert lean.account_id == full.account_id == account.id
    assert facts is not None and facts.record_id == record.id
    assert portal_accounts.still_signed_in(facts.status, facts.generation, account.generation)
    db.session.commit()
    rows = db.session.scalars(select(SignInSession).order_by(SignInSession.id)).all()
    assert (rows[0].end_reason, rows[0].last_seen_at) == (rows[1].end_reason, rows[1].last_seen_at)


def test_the_lean_portal_check_refuses_what_the_full_one_refuses(ctx):
    staff = factories.staff()
    staff_sid = sessions.start(user=staff)
    db.session.commit()
    for sid in (None, "", 42, "x" * 500, "not-a-session", staff_sid):
        verdict, facts = sessions.check_portal(sid, idle=IDLE, lifetime=LIFETIME)
        assert verdict.reason == sessions.UNKNOWN and facts is None
