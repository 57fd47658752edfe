"""Every way a client signs in to the portal: the personal link and password, email address
and password, a one-time code by email or text.

Which ways are open is the portal settings' say (:func:`portal_settings.sign_in_methods`):
each sign-in function refuses a way that is turned off (:class:`SignInMethodOff`) before it
does any work, whoever calls it (a page, the JSON API, a job).

Password sign-in counts failures: after ``lockout_failures`` in a row the password path pauses
for ``lockout_minutes``; codes by email or text and the reset link keep working, so a stranger
who knows the address cannot keep the client out. A code's tries are counted in the database
before the code is compared (:mod:`app.services.one_time_codes`).

Failures answer the same whether or not an account exists, and take the same work: every
password path checks one password hash (a dummy one when there is no account, the real one when
the account is paused) and then counts and logs the failure with the same statements
(:func:`_failed`: one UPDATE, on no row for an unknown address, and one log entry with the
address masked); a wrong code counts one try, on no row when there is no code; asking for a
code only queues a job (:func:`ask_for_code`) that looks the address up after the response.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Any

from flask_babel import gettext as _
from flask_security import hash_password, verify_password
from sqlalchemy import case, func, select, update
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.attributes import set_committed_value

from app.queue import enqueue_after_commit
from app.services import events, one_time_codes, outbox, templates
from app.services.errors import ServiceError, ValidationError
from app.services.events import Actor
from app.services.portal_credentials import (
    accounts_for_identifier,
    mask_address,
    signed_in,
    token_hash,
)
from app.services.portal_settings import get_settings, sign_in_methods
from app.services.validation import normalise_email
from models import AccountStatus, Channel, PortalAccount, db, utcnow

_DUMMY_HASH: str | None = None

#: The sign-in method (a key of :func:`portal_settings.sign_in_methods`) a code channel is.
CODE_METHODS = {Channel.EMAIL: "email_code", Channel.SMS: "sms_code"}


class SignInFailed(ServiceError):
    """The same message for every failure, whatever the reason."""

    def __init__(self) -> None:
        super().__init__(
            _(
                "We could not sign you in with those details. Check them and try again; after "
                "several failed attempts, sign-in with a password pauses for a while (a code "
                "by email or text still works)."
            )
        )


class SignInMethodOff(SignInFailed):
    """The portal settings turned this way of signing in off (nothing was tried)."""

    reason = "sign_in_method_off"

    def __init__(self, method: str) -> None:
        ServiceError.__init__(
            self, _("This way of signing in is turned off. Use another way to sign in.")
        )
        self.method = method


def check_method(method: str) -> None:
    """:class:`SignInMethodOff` unless the portal settings allow ``method`` (``link``,
    ``password``, ``email_code``, ``sms_code``)."""
    if not sign_in_methods().get(method):
        raise SignInMethodOff(method)


# -- failures and the pause -----------------------------------------------------------------


def _dummy_hash() -> str:
    global _DUMMY_HASH
    if _DUMMY_HASH is None:
        _DUMMY_HASH = hash_password(secrets.token_urlsafe(16))
    return _DUMMY_HASH


def password_paused(account: PortalAccount, now: datetime) -> bool:
    """Only the password paths pause: codes and reset links reach the client's own mailbox or
    phone, so a stranger's failures must not block them."""
    return bool(account.locked_until and account.locked_until > now)


def _failed(accounts: list[PortalAccount], method: str, address: str | None, now: datetime) -> None:
    """Count a failed password and log it, with the same statements whoever it was.

    Each account gets one UPDATE that decides in the database: while paused nothing changes;
    the failure that reaches ``lockout_failures`` starts the pause and starts the count again;
    any other adds one. An unknown address or link gets that same UPDATE (on id 0, which no
    row has) and the same one log entry, its address masked, so neither the work nor the log
    tells a stranger whether the account exists. The failure that starts a pause is logged as
    the pause (``portal.login.locked``), so that request writes one entry too."""
    settings = get_settings()
    until = now + timedelta(minutes=settings.lockout_minutes)
    paused = PortalAccount.locked_until > now
    reaches = PortalAccount.failed_attempts + 1 >= settings.lockout_failures
    targets: list[PortalAccount | None] = list(accounts) or [None]
    for account in targets:
        row = db.session.execute(
            update(PortalAccount)
            .where(PortalAccount.id == (account.id if account is not None else 0))
            .values(
                failed_attempts=case(
                    (paused, PortalAccount.failed_attempts),
                    (reaches, 0),
                    else_=PortalAccount.failed_attempts + 1,
                ),
                locked_until=case(
                    (paused, PortalAccount.locked_until),
                    (reaches, until),
                    else_=PortalAccount.locked_until,
                ),
            )
            .returning(PortalAccount.failed_attempts, PortalAccount.locked_until)
            .execution_options(synchronize_session=False)
        ).first()
        if account is None or row is None:
            events.emit(
                "portal.login.failed",
                actor=Actor(events.CLIENT, "Someone"),
                details={"method": method, "address": mask_address(address), "known": False},
            )
            continue
        was_paused = password_paused(account, now)
        set_committed_value(account, "failed_attempts", row.failed_attempts)
        set_committed_value(account, "locked_until", row.locked_until)
        if not was_paused and row.locked_until == until:
            events.emit(
                "portal.login.locked",
                actor=Actor.system(),
                record=account.record,
                details={
                    "until": until,
                    "failures": settings.lockout_failures,
                    "method": method,
                    "person": account.person_name,
                },
            )
            continue
        details: dict[str, Any] = {"method": method, "failures": row.failed_attempts}
        if was_paused:
            details = {"method": method, "while_paused": True}
        events.emit(
            "portal.login.failed",
            actor=Actor.client(account),
            record=account.record,
            details=details,
        )


def recheck_password(account: PortalAccount, password: str, method: str, now: datetime) -> None:
    """The signed-in client's password, typed again (:class:`SignInFailed` if wrong). A wrong
    one counts toward the pause like any failed sign-in."""
    matches = verify_password(password or "", account.password_hash or _dummy_hash())
    if not matches or account.password_hash is None or password_paused(account, now):
        _failed([account], method, None, now)
        raise SignInFailed()


# -- link and password ------------------------------------------------------------------------


def account_for_link(token: str) -> PortalAccount | None:
    if not token or len(token) > 200:
        return None
    return db.session.scalar(
        select(PortalAccount)
        .where(
            PortalAccount.link_token_hash == token_hash(token),
            PortalAccount.status == AccountStatus.ENABLED,
        )
        .options(joinedload(PortalAccount.record))
    )


def sign_in_with_link(token: str, password: str, now: datetime | None = None) -> PortalAccount:
    """The personal link names the account; the password proves it."""
    check_method("link")
    now = now or utcnow()
    account = account_for_link(token)
    if account is None or account.password_hash is None:
        verify_password(password, _dummy_hash())  # the time a real check takes
        _failed([], "link", None, now)
        raise SignInFailed()
    matches = verify_password(password, account.password_hash)  # paused or not: same work
    if password_paused(account, now) or not matches:
        _failed([account], "link", None, now)
        raise SignInFailed()
    signed_in(account, "portal.login.password", "link", now)
    return account


def sign_in_with_password(email: str, password: str, now: datetime | None = None) -> PortalAccount:
    """Email address and password. Several accounts may share an address (a couple with one
    mailbox); the password tells them apart."""
    check_method("password")
    now = now or utcnow()
    try:
        address = (normalise_email(email) or "").lower()
    except ValidationError:
        address = ""
    candidates = (
        list(
            db.session.scalars(
                select(PortalAccount)
                .where(
                    func.lower(PortalAccount.email) == address,
                    PortalAccount.status == AccountStatus.ENABLED,
                    PortalAccount.password_hash.is_not(None),
                )
                .options(joinedload(PortalAccount.record), joinedload(PortalAccount.contact))
                .order_by(PortalAccount.id)
            )
        )
        if address
        else []
    )
    if not candidates:
        verify_password(password, _dummy_hash())
        _failed([], "password", address, now)
        raise SignInFailed()
    # Every candidate's hash is checked, paused or not, so a pause does not show in the timing.
    checked = [(a, verify_password(password, a.password_hash or "")) for a in candidates]
    for account, matches in checked:
        if matches and not password_paused(account, now):
            signed_in(account, "portal.login.password", "password", now)
            return account
    _failed(candidates, "password", address, now)
    raise SignInFailed()


# -- one-time codes ---------------------------------------------------------------------------


def normalise_identifier(channel: Channel, value: str) -> str | None:
    return one_time_codes.normalise_address(channel, value)


def ask_for_code(channel: Channel, value: str) -> None:
    """Queue :func:`request_code` for after the response: the request does the same work (one
    job queued on commit) whether or not an account answers to ``value``, so neither the page
    nor its timing says which."""
    check_method(CODE_METHODS[channel])
    enqueue_after_commit(
        "jobs.portal_accounts.send_sign_in_code",
        channel.value,
        (value or "")[:255],
        queue=outbox.queue_for(channel),
    )


def request_code(channel: Channel, value: str, now: datetime | None = None) -> None:
    """Send a sign-in code if an account answers to this address or number and the settings
    allow codes by this channel (the job behind :func:`ask_for_code`). A paused password does
    not stop it."""
    if sign_in_methods().get(CODE_METHODS[channel]):
        send_code(channel, value, now)


def send_code(channel: Channel, value: str, now: datetime | None = None) -> None:
    """Send a sign-in code to an address or number an account answers to, whichever ways of
    signing in are open (a signed-in client confirming who they are uses it too)."""
    identifier = normalise_identifier(channel, value)
    if identifier is None:
        return
    accounts = accounts_for_identifier(channel, identifier)
    if not accounts:
        return
    record = accounts[0].record
    one_time_codes.issue(
        one_time_codes.SIGN_IN,
        channel,
        identifier,
        template="portal.login_code" if channel == Channel.EMAIL else "portal.login_code.sms",
        context=templates.base_context(record),
        record_id=record.id,
        now=now,
    )


def verify_code(
    channel: Channel, value: str, code: str, now: datetime | None = None
) -> list[PortalAccount]:
    """The accounts a right, fresh sign-in code opens (usually one); :class:`SignInFailed`
    if not. Each try uses up one of the code's tries, counted before the code is compared."""
    check_method(CODE_METHODS[channel])
    return accounts_for_code(channel, value, code, now)


def accounts_for_code(
    channel: Channel, value: str, code: str, now: datetime | None = None
) -> list[PortalAccount]:
    """:func:`verify_code`, whichever ways of signing in are open."""
    identifier = normalise_identifier(channel, value)
    if identifier is None:
        raise SignInFailed()
    if not one_time_codes.check(one_time_codes.SIGN_IN, channel, identifier, code, now):
        raise SignInFailed()
    accounts = accounts_for_identifier(channel, identifier)
    if not accounts:
        raise SignInFailed()
    return accounts


def complete_code_sign_in(
    account: PortalAccount, channel: Channel, now: datetime | None = None
) -> None:
    """Sign in the account a code opened (the client chose it when the code opened several)."""
    key = "portal.login.email" if channel == Channel.EMAIL else "portal.login.sms"
    signed_in(account, key, f"code by {channel.value}", now or utcnow())
