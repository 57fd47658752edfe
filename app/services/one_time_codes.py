"""One-time codes: six digits sent by email or text message, for one purpose, to one address.

A code needs no portal account. It is keyed by its purpose (:data:`SIGN_IN`, or a visitor's
journey, or confirming who someone is) and the address or number it went to, so a journey at
/f/<slug> checks its visitor's email the same way the portal signs a client in. Whoever asks
for the code decides what it opens: the sign-in finds the accounts on the address once the
code is right; a journey marks its visitor's address as proven.

A code is kept as an HMAC keyed by the app's secret and bound to its purpose and address. The
row (:class:`~models.LoginCode`) holds that key: the address itself for sign-in codes, and
``<purpose>:<address>`` for every other purpose, so codes of two purposes never replace or
open each other. A newer code for the same key replaces the older one; a code works once,
until it expires, for a limited number of tries. Each try is counted in the database before
the code is compared, in one conditional UPDATE, so parallel guesses cannot share a try; the
same statements run whether or not a live code exists, so the work does not tell a stranger.

Codes sent on someone's say-so to an address not yet proven are limited (:func:`spend`): the
caller names its limits (per account, per address, per IP), one limiter counts them all.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import current_app, has_request_context, request
from flask_babel import gettext as _
from limits import parse
from sqlalchemy import delete, select, update

from app.extensions import limiter
from app.services import outbox
from app.services.errors import ServiceError, ValidationError
from app.services.portal_settings import get_settings
from app.services.validation import normalise_email, normalise_phone
from models import Channel, ContactChange, LoginCode, db, utcnow

#: The purpose of the codes clients sign in to the portal with.
SIGN_IN = "sign-in"
#: Longest purpose name: the key (purpose, colon, address) fits the row's 255 characters.
PURPOSE_MAX = 40

#: Rows that hold a code of their own and count its tries the same way.
CodeRow = type[LoginCode] | type[ContactChange]


class TooManyCodes(ServiceError):
    """Too many codes to addresses or numbers not yet proven; ``retry_after`` in seconds."""

    reason = "too_many_codes"

    def __init__(self, retry_after: int) -> None:
        self.message = _(
            "We have sent as many codes to new addresses and numbers as we may for now. "
            "Try again in %(minutes)d minutes, or ask your adviser.",
            minutes=max(1, -(-retry_after // 60)),
        )
        super().__init__(self.message)
        self.retry_after = retry_after


@dataclass(frozen=True)
class Limit:
    """One limit on codes sent: ``rate`` like ``"5 per hour"``, counted per ``key`` (an
    account, an address, an IP) within ``scope`` (what the codes are for)."""

    scope: str
    rate: str
    key: str


def client_ip() -> str:
    """The address the request comes from (``-`` outside a request, in a job)."""
    return (request.remote_addr if has_request_context() else None) or "-"


def spend(*limits: Limit) -> None:
    """Count one code against each limit: :class:`TooManyCodes` (nothing counted) when any
    of them has had its share."""
    strategy = limiter.limiter
    checks = [(parse(limit.rate), (limit.scope, limit.key)) for limit in limits]
    for item, keys in checks:
        if not strategy.test(item, *keys):
            reset = strategy.get_window_stats(item, *keys).reset_time
            raise TooManyCodes(max(1, int(reset - time.time())))
    for item, keys in checks:
        strategy.hit(item, *keys)


# -- the code itself ------------------------------------------------------------------------


def normalise_address(channel: Channel, value: str) -> str | None:
    """An email address in lower case, or a phone number as E.164; None if it is neither."""
    try:
        if channel == Channel.EMAIL:
            return (normalise_email(value) or "").lower() or None
        return normalise_phone(value)
    except ValidationError:
        return None


def new_code() -> str:
    return f"{secrets.randbelow(10**6):06d}"


def digits(code: str | None) -> str:
    """What someone typed, spaces and dashes left out."""
    return "".join(ch for ch in (code or "") if ch.isdigit())


def code_hash(key: str, code: str) -> str:
    """The code as kept: an HMAC with the app's secret, bound to ``key``."""
    secret = str(current_app.config["SECRET_KEY"]).encode()
    return hmac.new(secret, f"{key}:{code}".encode(), hashlib.sha256).hexdigest()


def code_key(purpose: str, address: str) -> str:
    """The key a code is kept under: the address for sign-in, ``purpose:address`` else."""
    if not purpose or len(purpose) > PURPOSE_MAX or ":" in purpose:
        raise ValueError(f"A code's purpose is a short name without a colon, not {purpose!r}.")
    return address if purpose == SIGN_IN else f"{purpose}:{address}"


def issue(
    purpose: str,
    channel: Channel,
    address: str,
    *,
    template: str,
    context: dict[str, Any],
    record_id: int | None = None,
    to_name: str | None = None,
    now: datetime | None = None,
    valid_minutes: int | None = None,
    max_attempts: int | None = None,
) -> LoginCode:
    """Send a new code for ``purpose`` to ``address`` (normalised: :func:`normalise_address`)
    with the templated message ``template``; its context gets ``code`` and ``code_minutes``.
    A live code for the same purpose and address is replaced. Validity and tries come from
    the portal settings unless ``valid_minutes`` and ``max_attempts`` say otherwise (a
    journey sets its own). ``record_id`` links the message to a record, when there is one."""
    now = now or utcnow()
    settings = get_settings()
    minutes = valid_minutes or settings.code_valid_minutes
    key = code_key(purpose, address)
    db.session.execute(
        update(LoginCode)
        .where(
            LoginCode.channel == channel,
            LoginCode.identifier == key,
            LoginCode.used_at.is_(None),
            LoginCode.superseded_at.is_(None),
        )
        .values(superseded_at=now)
        .execution_options(synchronize_session=False)
    )
    code = new_code()
    row = LoginCode(
        channel=channel,
        identifier=key,
        code_hash=code_hash(key, code),
        created_at=now,
        expires_at=now + timedelta(minutes=minutes),
        attempts=0,
        max_attempts=max_attempts or settings.code_max_attempts,
    )
    db.session.add(row)
    db.session.flush()
    outbox.send_template(
        template,
        {**context, "code": code, "code_minutes": minutes},
        key=f"login-code:{row.id}",
        to=address,
        to_name=to_name,
        record_id=record_id,
    )
    return row


def check(
    purpose: str, channel: Channel, address: str, code: str, now: datetime | None = None
) -> bool:
    """Whether ``code`` is the live code for this purpose and address (normalised); a right
    code is used up at once. Every call counts one try, in the database, before the code is
    compared (on no row when there is no live code: the same statements either way). Commit
    even when it answers False: the try must stay counted."""
    now = now or utcnow()
    key = code_key(purpose, address)
    found = db.session.execute(
        select(LoginCode.id, LoginCode.code_hash, LoginCode.expires_at)
        .where(
            LoginCode.channel == channel,
            LoginCode.identifier == key,
            LoginCode.used_at.is_(None),
            LoginCode.superseded_at.is_(None),
        )
        .order_by(LoginCode.id.desc())
        .limit(1)
    ).first()
    live = found is not None and found.expires_at > now
    if not count_attempt(LoginCode, found.id if found is not None and live else 0):
        return False
    if found is None or not hmac.compare_digest(found.code_hash, code_hash(key, digits(code))):
        return False
    return mark_used(LoginCode, found.id, now)


# -- what every row with a code shares ------------------------------------------------------


def count_attempt(model: CodeRow, row_id: int) -> bool:
    """Count one try on a code in the database, before the code is compared: one UPDATE that
    only succeeds while tries are left. Parallel guesses each need their own row update (the
    database serialises them), so no two share a try. False when none is left (the caller
    refuses without comparing)."""
    result = db.session.execute(
        update(model)
        .where(model.id == row_id, model.attempts < model.max_attempts)
        .values(attempts=model.attempts + 1)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0) == 1)


def mark_used(model: CodeRow, row_id: int, now: datetime) -> bool:
    """Mark a right code used; False if a parallel request already did."""
    column = LoginCode.used_at if model is LoginCode else ContactChange.confirmed_at
    result = db.session.execute(
        update(model)
        .where(model.id == row_id, column.is_(None), model.superseded_at.is_(None))
        .values({column.key: now})
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0) == 1)


def retire(model: CodeRow, row_id: int, now: datetime) -> None:
    """End a code that can no longer be used (out of tries, cancelled)."""
    db.session.execute(
        update(model)
        .where(model.id == row_id, model.superseded_at.is_(None))
        .values(superseded_at=now)
        .execution_options(synchronize_session=False)
    )


def prune(before: datetime) -> int:
    """Delete codes that expired before ``before`` (housekeeping: the activity log keeps
    what happened; a row is only needed while its code can still be entered)."""
    result = db.session.execute(
        delete(LoginCode)
        .where(LoginCode.expires_at < before)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]
