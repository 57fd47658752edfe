"""Housekeeping: ended sessions and expired codes do not pile up for ever; the sweeper queues
the clean-up once an hour, whichever worker sweeps."""

from datetime import timedelta

from sqlalchemy import func, select

from app.redis import get_redis
from app.services import contact_changes, one_time_codes, portal_sign_in, sessions
from jobs import maintenance, sweeper
from models import Channel, LoginCode, SignInSession, db, utcnow
from tests import factories
from tests.conftest import run_jobs


def _codes() -> int:
    return db.session.scalar(select(func.count()).select_from(LoginCode)) or 0


def test_housekeeping_forgets_old_sessions_and_codes_and_keeps_recent_ones(ctx):
    long_ago = utcnow() - timedelta(days=45)
    user = factories.staff()
    old = sessions.start(user=user, now=long_ago)
    sessions.end(old, now=long_ago)
    sessions.start(user=user)  # in use: kept
    for when in (long_ago, utcnow()):
        db.session.add(
            LoginCode(
                channel=Channel.EMAIL,
                identifier="someone@example.com",
                code_hash="x",
                created_at=when,
                expires_at=when + timedelta(minutes=10),
                attempts=0,
                max_attempts=5,
            )
        )
    db.session.commit()

    assert maintenance.housekeeping() == {"sessions_pruned": 1, "codes_pruned": 1}
    assert db.session.scalar(select(func.count()).select_from(SignInSession)) == 1
    assert _codes() == 1


def test_the_sweeper_queues_housekeeping_once_an_hour(app, ctx):
    user = factories.staff()
    old = sessions.start(user=user, now=utcnow() - timedelta(days=45))
    sessions.end(old, now=utcnow() - timedelta(days=45))
    db.session.commit()

    assert sweeper.sweep().get("housekeeping_queued") == 1
    assert "housekeeping_queued" not in sweeper.sweep()  # the hour has not passed
    run_jobs(app)
    db.session.remove()
    assert db.session.scalar(select(func.count()).select_from(SignInSession)) == 0
    assert get_redis().ttl(sweeper.HOUSEKEEPING_KEY) > 3500


def test_prune_codes_keeps_a_code_that_can_still_be_entered(ctx):
    portal_sign_in.request_code(Channel.EMAIL, "nobody@example.com")
    db.session.commit()
    before = _codes()
    cutoff = utcnow() - timedelta(days=30)
    assert one_time_codes.prune(cutoff) + contact_changes.prune(cutoff) == 0
    assert _codes() == before
