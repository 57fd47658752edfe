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

from sqlalchemy import delete, select, update
from sqlalchemy.orm.interfaces import ORMOption

from models import PortalAccount, SignInSession, User, db, utcnow

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
    if row.ended_at is not None:
        return Verdict(**owner, reason=row.end_reason or SIGNED_OUT)
    if now - row.last_seen_at > idle:
        _end(row, IDLE, now)
        return Verdict(**owner, reason=IDLE, wrote=True)
    if now - row.created_at > lifetime:
        _end(row, EXPIRED, now)
        return Verdict(**owner, reason=EXPIRED, wrote=True)
    if (now - row.last_seen_at).total_seconds() >= REFRESH_SECONDS:
        row.last_seen_at = now
        db.session.flush()
        return Verdict(**owner, wrote=True, row=row)
    return Verdict(**owner, row=row)


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
