"""Sign-in sessions kept on the server, for the portal and the staff panel alike.

A browser's signed session cookie says who it is; since a copy of that cookie would work as
well as the original, it also carries a random session id whose row here must still be open.
Signing out, a password change, switching self service off, an idle spell or the absolute
lifetime ends the row, and with it every copy of the cookie.

Cost per request: one lookup by the unique hash of the id; ``last_seen_at`` is written at most
once every :data:`REFRESH_SECONDS`, so a busy page does not write on every request.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.orm.interfaces import ORMOption

from models import AccountStatus, PortalAccount, SignInSession, User, db, utcnow

#: How stale ``last_seen_at`` may get before a request refreshes it.
REFRESH_SECONDS = 60

# Why a session ended (``SignInSession.end_reason``).
SIGNED_OUT = "signed out"
IDLE = "idle"
EXPIRED = "expired"
PASSWORD_CHANGED = "password changed"  # noqa: S105 (a reason, not a password)
ACCESS_ENDED = "access ended"
REPLACED = "replaced"
UNKNOWN = "unknown"


def _hash(sid: str) -> str:
    return hashlib.sha256(sid.encode()).hexdigest()


@dataclass(frozen=True)
class Verdict:
    """What :func:`check` found. ``wrote`` says the caller has a change to commit."""

    user_id: int | None = None
    account_id: int | None = None
    reason: str | None = None
    wrote: bool = False
    #: The open session's row, kept by whoever holds the verdict: with it, what ``check``'s
    #: ``options`` loaded stays in the session's identity map (which holds objects weakly).
    row: SignInSession | None = field(default=None, repr=False, compare=False)

    @property
    def valid(self) -> bool:
        return self.reason is None


def start(
    *,
    account: PortalAccount | None = None,
    user: User | None = None,
    ip: str | None = None,
    user_agent: str | None = None,
    now: datetime | None = None,
) -> str:
    """Open a session for a portal account or a staff user (exactly one) and return the id
    to keep in the browser's session cookie. The caller commits."""
    if (account is None) == (user is None):
        raise ValueError("a session belongs to a portal account or a staff user")
    now = now or utcnow()
    sid = secrets.token_urlsafe(32)
    db.session.add(
        SignInSession(
            token_hash=_hash(sid),
            portal_account_id=account.id if account is not None else None,
            user_id=int(user.id) if user is not None else None,
            created_at=now,
            last_seen_at=now,
            ip=(ip or "")[:64] or None,
            user_agent=(user_agent or "")[:255] or None,
        )
    )
    db.session.flush()
    return sid


def check(
    sid: Any,
    *,
    idle: timedelta,
    lifetime: timedelta,
    now: datetime | None = None,
    options: Sequence[ORMOption] = (),
) -> Verdict:
    """Whether the session ``sid`` is still open: not ended, used within ``idle`` and begun
    within ``lifetime``. A session found idle or too old is ended here. The caller compares
    the owner with whoever the cookie names and commits when ``wrote`` is set. ``options``
    load what the caller reads next in the same query (the portal: the account and its
    record), so a signed-in page starts with one query, not two."""
    if not isinstance(sid, str) or not sid or len(sid) > 100:
        return Verdict(reason=UNKNOWN)
    now = now or utcnow()
    row = db.session.scalar(
        select(SignInSession).where(SignInSession.token_hash == _hash(sid)).options(*options)
    )
    if row is None:
        return Verdict(reason=UNKNOWN)
    owner = {"user_id": row.user_id, "account_id": row.portal_account_id}
    reason, refresh = _judge(row, idle, lifetime, now)
    if reason is not None:
        if reason in (IDLE, EXPIRED):
            _end(row, reason, now)
            return Verdict(**owner, reason=reason, wrote=True)
        return Verdict(**owner, reason=reason)
    if refresh:
        row.last_seen_at = now
        db.session.flush()
        return Verdict(**owner, wrote=True, row=row)
    return Verdict(**owner, row=row)


@dataclass(frozen=True)
class AccountFacts:
    """What :func:`check_portal` reads of a portal session's account, in the same query."""

    status: AccountStatus
    generation: int
    record_id: int


def check_portal(
    sid: Any, *, idle: timedelta, lifetime: timedelta, now: datetime | None = None
) -> tuple[Verdict, AccountFacts | None]:
    """:func:`check` for a portal page that needs no more than whether the sign-in still
    holds: one SELECT of a few columns of the session and its account, no objects (a page
    kept by the portal page cache is served on that alone)."""
    if not isinstance(sid, str) or not sid or len(sid) > 100:
        return Verdict(reason=UNKNOWN), None
    now = now or utcnow()
    # Core, on a connection of its own in autocommit: no ORM step for a few columns, and on
    # PostgreSQL no BEGIN and COMMIT around them (two round trips of the four a kept page
    # made: 1.1 to 0.9 ms in-process; the same on SQLite). A refresh or an end below is
    # written in the request's transaction, as before.
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        found = connection.execute(_PORTAL_CHECK, {"token_hash": _hash(sid)}).first()
    if found is None:
        return Verdict(reason=UNKNOWN), None
    facts = AccountFacts(found.status, found.generation, found.record_id)
    reason, refresh = _judge(found, idle, lifetime, now)
    if reason in (IDLE, EXPIRED):
        _end_by_id(found.id, reason, now)
    elif reason is None and refresh:
        db.session.execute(
            update(SignInSession).where(SignInSession.id == found.id).values(last_seen_at=now)
        )
    verdict = Verdict(
        account_id=found.portal_account_id,
        reason=reason,
        wrote=reason in (IDLE, EXPIRED) or (reason is None and refresh),
    )
    return verdict, facts


#: The columns :func:`_judge` reads.
_JUDGED = (
    SignInSession.id,
    SignInSession.ended_at,
    SignInSession.end_reason,
    SignInSession.last_seen_at,
    SignInSession.created_at,
    SignInSession.portal_account_id,
)
#: :func:`check_portal`'s statement, built once (building it was a tenth of a kept page).
_PORTAL_CHECK = (
    select(*_JUDGED, PortalAccount.status, PortalAccount.generation, PortalAccount.record_id)
    .join(PortalAccount, PortalAccount.id == SignInSession.portal_account_id)
    .where(SignInSession.token_hash == bindparam("token_hash"))
)


def _judge(
    row: Any, idle: timedelta, lifetime: timedelta, now: datetime
) -> tuple[str | None, bool]:
    """Why the session (a row or the :data:`_JUDGED` columns) no longer holds, or None; and
    whether its ``last_seen_at`` is due a refresh."""
    if row.ended_at is not None:
        return row.end_reason or SIGNED_OUT, False
    if now - row.last_seen_at > idle:
        return IDLE, False
    if now - row.created_at > lifetime:
        return EXPIRED, False
    return None, (now - row.last_seen_at).total_seconds() >= REFRESH_SECONDS


def signed_in_at(sid: Any) -> datetime | None:
    """When the open session ``sid`` signed in: its row's ``created_at`` (a client who
    confirms who they are gets a new row, so it is also the last time they proved it)."""
    if not isinstance(sid, str) or not sid or len(sid) > 100:
        return None
    return db.session.scalar(
        select(SignInSession.created_at).where(
            SignInSession.token_hash == _hash(sid), SignInSession.ended_at.is_(None)
        )
    )


def _end(row: SignInSession, reason: str, now: datetime) -> None:
    row.ended_at = now
    row.end_reason = reason
    db.session.flush()


def _end_by_id(session_id: int, reason: str, now: datetime) -> None:
    db.session.execute(
        update(SignInSession)
        .where(SignInSession.id == session_id, SignInSession.ended_at.is_(None))
        .values(ended_at=now, end_reason=reason)
        .execution_options(synchronize_session=False)
    )


def end(sid: Any, reason: str = SIGNED_OUT, now: datetime | None = None) -> bool:
    """End one session (signing out). True if it was open. The caller commits."""
    if not isinstance(sid, str) or not sid:
        return False
    result = db.session.execute(
        update(SignInSession)
        .where(SignInSession.token_hash == _hash(sid), SignInSession.ended_at.is_(None))
        .values(ended_at=now or utcnow(), end_reason=reason)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def end_all(
    *,
    user: User | None = None,
    accounts: Iterable[PortalAccount] = (),
    reason: str,
    keep: str | None = None,
    now: datetime | None = None,
) -> int:
    """End every open session of a staff user or of some portal accounts, except ``keep``
    (the session doing it, when it should stay signed in). Returns how many ended."""
    condition: Any
    if user is not None:
        if user.id is None:
            return 0  # a user not saved yet has no sessions (and NULL would match clients')
        condition = SignInSession.user_id == user.id
    else:
        ids = [account.id for account in accounts if account.id is not None]
        if not ids:
            return 0
        condition = SignInSession.portal_account_id.in_(ids)
    statement = (
        update(SignInSession)
        .where(condition, SignInSession.ended_at.is_(None))
        .values(ended_at=now or utcnow(), end_reason=reason)
        .execution_options(synchronize_session=False)
    )
    if keep:
        statement = statement.where(SignInSession.token_hash != _hash(keep))
    return int(db.session.execute(statement).rowcount)  # type: ignore[attr-defined]


def open_sessions(
    *, user: User | None = None, account: PortalAccount | None = None
) -> list[SignInSession]:
    """The open sessions of a staff user or a portal account, newest first."""
    query = select(SignInSession).where(SignInSession.ended_at.is_(None))
    if user is not None:
        query = query.where(SignInSession.user_id == user.id)
    elif account is not None:
        query = query.where(SignInSession.portal_account_id == account.id)
    else:
        raise ValueError("whose sessions?")
    return list(db.session.scalars(query.order_by(SignInSession.id.desc())))


def prune(before: datetime) -> int:
    """Delete sessions that ended, or were last used, before ``before`` (housekeeping)."""
    result = db.session.execute(
        delete(SignInSession)
        .where((SignInSession.ended_at < before) | (SignInSession.last_seen_at < before))
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]
