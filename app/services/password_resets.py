"""Password resets: a client who forgot the password asks for a link by email (one hour,
single use) and chooses a new one there.

The link is signed with the app's secret and carries the account's generation and a
fingerprint of its password hash, so it stops working once used (the password changed),
once access is re-issued or disabled, and after :data:`RESET_MAX_AGE`. Asking for a link only
queues a job (:func:`ask_for_password_reset`) that looks the address up after the response, so
the page says nothing about whether an account answers to the address.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from app.queue import enqueue_after_commit
from app.services import contact_changes, events, links, one_time_codes, outbox, sessions, templates
from app.services.errors import ValidationError
from app.services.events import Actor
from app.services.portal_credentials import accounts_for_identifier, set_password
from models import AccountStatus, Channel, PortalAccount, db, utcnow

#: How long a reset link works, in seconds.
RESET_MAX_AGE = 3600


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="portal-password-reset")


def _password_fingerprint(account: PortalAccount) -> str:
    return hashlib.sha256((account.password_hash or "").encode()).hexdigest()[:16]


def ask_for_password_reset(email: str) -> None:
    """Queue :func:`request_password_reset` for after the response: the same work whether or
    not an account answers to the address."""
    enqueue_after_commit(
        "jobs.portal_accounts.send_password_reset", (email or "")[:255], queue="email"
    )


def request_password_reset(email: str) -> None:
    """Email a one-hour reset link to each account on this address; silent otherwise (the job
    behind :func:`ask_for_password_reset`)."""
    address = one_time_codes.normalise_address(Channel.EMAIL, email)
    if address is None:
        return
    for account in accounts_for_identifier(Channel.EMAIL, address):
        token = _serializer().dumps(
            {"a": account.id, "g": account.generation, "p": _password_fingerprint(account)}
        )
        context = templates.base_context(account.record)
        context.update(
            reset_link=links.password_reset(token),
            person_name=account.person_name,
        )
        outbox.send_template(
            "portal.password_reset",
            context,
            key=f"password-reset:{account.id}:{secrets.token_hex(8)}",
            to=address,
            to_name=account.person_name,
            record_id=account.record_id,
        )


def account_for_reset(token: str) -> PortalAccount | None:
    """The account of a live reset link, or None."""
    try:
        data: dict[str, Any] = _serializer().loads(token, max_age=RESET_MAX_AGE)
    except (BadSignature, SignatureExpired):
        return None
    account = db.session.get(PortalAccount, data.get("a"))
    if (
        account is None
        or account.status != AccountStatus.ENABLED
        or account.generation != data.get("g")
        or _password_fingerprint(account) != data.get("p")
    ):
        return None  # used (the password changed), re-issued or disabled since
    return account


def reset_password(
    token: str, password: str, confirm: str, now: datetime | None = None
) -> PortalAccount:
    """The new password chosen through a reset link: every other session ends, the pause
    is lifted, and sign-in email or mobile changes begun in those sessions end with them."""
    now = now or utcnow()
    account = account_for_reset(token)
    if account is None:
        raise ValidationError(
            _("This reset link has expired or was already used. Ask for a new one.")
        )
    set_password(account, password, confirm, now)
    account.generation += 1  # sessions opened with the old password end
    sessions.end_all(accounts=[account], reason=sessions.PASSWORD_CHANGED, now=now)
    account.failed_attempts = 0
    account.locked_until = None
    contact_changes.end_open_changes(account, now)
    events.emit(
        "portal.password.changed",
        actor=Actor.client(account),
        record=account.record,
        details={"how": "reset link"},
    )
    return account
