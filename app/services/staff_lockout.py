"""Staff sign-in limits: attempts reserved before the password is checked, and a pause per
account and address after repeated wrong passwords.

Attempts. Every sign-in POST takes one attempt from the budget of its IP address and of the
account it names (``PORTICO_STAFF_LOGIN_LIMIT``, say "10 per minute;50 per hour") *before* the
password is checked, in one Redis transaction per counter, so requests sent in parallel each
take their own attempt: none slips through while another's password hash is being checked. A
successful sign-in gives its attempt back, so an office behind one address can sign in all day;
failures keep theirs. From an address where the owner signed in before, the account's budget is
that address's own, so a stranger who spends the account's budget elsewhere keeps out only
addresses the owner never used.

Pause. After ``PORTICO_STAFF_LOCKOUT_FAILURES`` wrong passwords in a row from one address, the
account's sign-in *from that address* pauses for ``PORTICO_STAFF_LOCKOUT_MINUTES``. The pause
is keyed by account and address, so a stranger who knows a colleague's email pauses only their
own address, never the colleague's; the per-account attempt budget still bounds how many
guesses all addresses together get. While paused, every password (the right one too) gets the
generic answer after the same hash check, so a guess that happens to be right is not revealed;
the owner is told by email (once per pause) that sign-in from that address was paused, and the
pause is logged. Failures while paused do not extend it. Counts and pauses live in Redis with
their own expiry: losing them (a flushed Redis) only forgets them, it never locks anyone out.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from flask import current_app
from limits import parse_many

from app.redis import get_redis
from app.services import events, links, outbox, templates
from app.services.events import Actor
from models import User, utcnow

#: How long an address the owner signed in from keeps a budget of its own.
KNOWN_ADDRESS_DAYS = 30

# Gives an attempt back only while its window lasts: a DECR on an expired key would create a
# counter without expiry, below zero.
_GIVE_BACK = """
for i, key in ipairs(KEYS) do
  if redis.call('exists', key) == 1 then redis.call('decr', key) end
end
return 0
"""


def _prefix() -> str:
    return current_app.config.get("RATELIMIT_KEY_PREFIX") or "portico"


def _address(ip: str | None) -> str:
    """A short, fixed-width name for an address (IPv6 included) in Redis keys."""
    return hashlib.sha256((ip or "unknown").encode()).hexdigest()[:16]


# -- attempts -----------------------------------------------------------------------------------


@dataclass
class Reservation:
    """Attempts taken by one sign-in request; :meth:`give_back` returns them (on success)."""

    keys: list[str] = field(default_factory=list)
    #: Seconds until the window that refused ends (when refused).
    retry_after: int | None = None

    @property
    def refused(self) -> bool:
        return self.retry_after is not None

    def give_back(self) -> None:
        if self.keys:
            get_redis().eval(_GIVE_BACK, len(self.keys), *self.keys)
            self.keys = []


def reserve_attempt(ip: str | None, email: str | None, now: datetime | None = None) -> Reservation:
    """Take one attempt from the budgets of this address and of the account named by ``email``
    (lower-cased; none when the form names no one). Refused (``reservation.refused``) when
    either budget is spent; a refused request takes nothing."""
    now = now or utcnow()
    names = [f"ip:{ip or 'unknown'}"]
    if email:
        account = f"account:{email.strip().lower()}"
        # From an address the owner signed in from, the account's budget is that address's
        # own: a stranger spending the account's budget elsewhere cannot keep her out.
        if get_redis().exists(_known_key(email, ip)):
            account += f":at:{_address(ip)}"
        names.append(account)
    counters: list[tuple[str, int, int]] = []
    for item in parse_many(current_app.config["PORTICO_STAFF_LOGIN_LIMIT"]):
        seconds = int(item.get_expiry())
        window = int(now.timestamp()) // seconds
        for name in names:
            key = f"{_prefix()}:staff-attempts:{item.amount}/{seconds}:{window}:{name}"
            counters.append((key, int(item.amount), seconds - int(now.timestamp()) % seconds))
    pipe = get_redis().pipeline(transaction=True)
    for key, _amount, ttl in counters:
        pipe.set(key, 0, ex=ttl + 1, nx=True)  # INCR keeps the expiry set here
        pipe.incr(key)
    counts = pipe.execute()[1::2]
    reservation = Reservation(keys=[key for key, _amount, _ttl in counters])
    over = [
        ttl for (_key, amount, ttl), count in zip(counters, counts, strict=True) if count > amount
    ]
    if over:
        reservation.give_back()
        reservation.retry_after = max(over)
    return reservation


def _known_key(email: str, ip: str | None) -> str:
    digest = hashlib.sha256(email.strip().lower().encode()).hexdigest()[:16]
    return f"{_prefix()}:staff-known-address:{digest}:{_address(ip)}"


def remember_address(email: str, ip: str | None) -> None:
    """After a successful sign-in: the account's attempts from ``ip`` count apart from the
    rest for :data:`KNOWN_ADDRESS_DAYS` (renewed by each sign-in)."""
    get_redis().set(_known_key(email, ip), 1, ex=KNOWN_ADDRESS_DAYS * 86400)


# -- the pause ----------------------------------------------------------------------------------


def _keys(user: User, ip: str | None) -> tuple[str, str]:
    where = f"{user.id}:{_address(ip)}"
    return (
        f"{_prefix()}:staff-lockout:failures:{where}",
        f"{_prefix()}:staff-lockout:until:{where}",
    )


def locked_until(
    user: User, now: datetime | None = None, *, ip: str | None = None
) -> datetime | None:
    """When the pause on this account's sign-in from ``ip`` ends, or None when not paused."""
    raw = get_redis().get(_keys(user, ip)[1])
    if raw is None:
        return None
    until = datetime.fromtimestamp(float(raw), UTC)
    return until if until > (now or utcnow()) else None


def record_failure(
    user: User, now: datetime | None = None, *, ip: str | None = None
) -> datetime | None:
    """Count a wrong password from ``ip``; returns the end of the pause if this failure started
    one. Logs the failure (and the pause) and queues the email to the owner; the caller
    commits."""
    now = now or utcnow()
    config = current_app.config
    limit = int(config["PORTICO_STAFF_LOCKOUT_FAILURES"])
    minutes = int(config["PORTICO_STAFF_LOCKOUT_MINUTES"])
    failures_key, until_key = _keys(user, ip)
    redis = get_redis()
    if locked_until(user, now, ip=ip) is not None:
        events.emit("staff.login.failed", actor=Actor.staff(user), details={"while_paused": True})
        return None
    pipe = redis.pipeline(transaction=True)
    pipe.incr(failures_key)
    pipe.expire(failures_key, minutes * 60)
    failures = int(pipe.execute()[0])
    events.emit("staff.login.failed", actor=Actor.staff(user), details={"failures": failures})
    if failures < limit:
        return None
    until = now + timedelta(minutes=minutes)
    # Only the request whose SET wins starts the pause (and sends the one email).
    started = redis.set(until_key, str(until.timestamp()), ex=minutes * 60, nx=True)
    redis.delete(failures_key)
    if not started:
        return None
    current_app.logger.warning(
        "Staff sign-in for user %s from %s paused until %s after %s failed passwords",
        user.id,
        ip,
        until.isoformat(timespec="seconds"),
        failures,
    )
    events.emit(
        "staff.login.locked",
        actor=Actor.system(),
        details={"user": str(user.email), "until": until, "failures": failures},
    )
    _tell_owner(user, ip, until, failures, minutes)
    return until


def _tell_owner(user: User, ip: str | None, until: datetime, failures: int, minutes: int) -> None:
    """One email per pause, through the outbox (its key names the pause)."""
    context = templates.base_context(None)
    context.update(
        staff={"full_name": user.full_name, "first_name": user.first_name},
        ip=ip or "unknown",
        minutes=minutes,
        failures=failures,
        sign_in_url=links.staff_sign_in(),
    )
    outbox.send_template(
        "staff.sign_in_paused",
        context,
        key=f"staff-sign-in-paused:{user.id}:{_address(ip)}:{until.timestamp():.6f}",
        to=str(user.email),
        to_name=user.full_name,
        event_key="staff.login.locked",
    )


def clear(user: User, *, ip: str | None = None) -> None:
    """A successful sign-in from ``ip`` starts its count again."""
    get_redis().delete(_keys(user, ip)[0])


def unlock(user: User) -> None:
    """End every pause (and count) of this account at once, from whatever address."""
    redis = get_redis()
    keys = list(redis.scan_iter(match=f"{_prefix()}:staff-lockout:*:{user.id}:*", count=500))
    if keys:
        redis.delete(*keys)
