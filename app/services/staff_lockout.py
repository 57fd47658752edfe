"""Staff sign-in lockout: after ``PORTICO_STAFF_LOCKOUT_FAILURES`` wrong passwords in a row, an
account's sign-in pauses for ``PORTICO_STAFF_LOCKOUT_MINUTES``.

The password is still checked while an account is paused, and a wrong one gets the usual
generic answer: whoever guesses learns nothing (not even that the account exists or is paused),
and the timing is the same. Only the right password is told that sign-in is paused, and until
when. Failures while paused do not extend the pause, so nobody can keep a colleague out for
longer than one pause at a time. The count and the pause live in Redis with their own expiry:
losing them (a flushed Redis) only forgets a pause, it never locks anyone out.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask import current_app

from app.redis import get_redis
from app.services import events
from app.services.events import Actor
from models import User, utcnow


def _keys(user: User) -> tuple[str, str]:
    prefix = current_app.config.get("RATELIMIT_KEY_PREFIX") or "portico"
    return (
        f"{prefix}:staff-lockout:failures:{user.id}",
        f"{prefix}:staff-lockout:until:{user.id}",
    )


def locked_until(user: User, now: datetime | None = None) -> datetime | None:
    """When the pause on this account ends, or None when it is not paused."""
    raw = get_redis().get(_keys(user)[1])
    if raw is None:
        return None
    until = datetime.fromtimestamp(float(raw), UTC)
    return until if until > (now or utcnow()) else None


def record_failure(user: User, now: datetime | None = None) -> datetime | None:
    """Count a wrong password; returns the end of the pause if this failure started one.
    Logs the failure (and the pause); the caller commits."""
    now = now or utcnow()
    config = current_app.config
    limit = int(config["PORTICO_STAFF_LOCKOUT_FAILURES"])
    minutes = int(config["PORTICO_STAFF_LOCKOUT_MINUTES"])
    failures_key, until_key = _keys(user)
    redis = get_redis()
    if locked_until(user, now) is not None:
        events.emit("staff.login.failed", actor=Actor.staff(user), details={"while_paused": True})
        return None
    pipe = redis.pipeline()
    pipe.incr(failures_key)
    pipe.expire(failures_key, minutes * 60)
    failures = int(pipe.execute()[0])
    events.emit("staff.login.failed", actor=Actor.staff(user), details={"failures": failures})
    if failures < limit:
        return None
    until = now + timedelta(minutes=minutes)
    pipe = redis.pipeline()
    pipe.set(until_key, str(until.timestamp()), ex=minutes * 60)
    pipe.delete(failures_key)
    pipe.execute()
    current_app.logger.warning(
        "Staff sign-in for user %s paused until %s after %s failed passwords",
        user.id,
        until.isoformat(timespec="seconds"),
        failures,
    )
    events.emit(
        "staff.login.locked",
        actor=Actor.system(),
        details={"user": str(user.email), "until": until, "failures": failures},
    )
    return until


def clear(user: User) -> None:
    """A successful sign-in starts the count again."""
    get_redis().delete(_keys(user)[0])


def unlock(user: User) -> None:
    """End a pause (and the count) at once."""
    get_redis().delete(*_keys(user))
