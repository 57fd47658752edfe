"""Portal accounts: enabling, disabling and inviting, and every way a client signs in.

Secrets never rest in clear text: the personal link token and the invitation token are kept as
SHA-256 (they carry 256 bits of chance, so a plain hash is enough), passwords with argon2,
one-time codes as an HMAC keyed by the app's secret. Password sign-in counts failures: after
``lockout_failures`` in a row the password path pauses for ``lockout_minutes``; codes by email
or text and the reset link keep working, so a stranger who knows the address cannot keep the
client out. A code's attempts are counted in the database before the code is compared, in one
conditional UPDATE, so parallel guesses cannot share an attempt.

Failures answer the same whether or not an account exists, and take the same work: every
password path checks one password hash (a dummy one when there is no account, the real one when
the account is paused) and then counts and logs the failure with the same statements
(:func:`_failed`: one UPDATE, on no row for an unknown address, and one log entry with the
address masked); a wrong code counts one attempt, on no row when there is no code; asking for
a code or a reset link only queues a job (:func:`ask_for_code`, :func:`ask_for_password_reset`)
that looks the address up after the response.

The address and number someone signs in with are keys to the account: a client changes them
only by entering a code sent to the new one (:func:`start_contact_change`,
:func:`confirm_contact_change`), and the old one is told. Starting such a change needs a
sign-in of the last :data:`FRESH_SIGN_IN` (else the client confirms it's them first, with the
password or a code to the current address), and codes to new addresses are limited per account
and per address (:data:`CONTACT_CODE_LIMITS`). Nobody else (a contact person, or the primary
applicant for a co-applicant's account) changes them in the portal.

A portal session remembers the account and its ``generation``. Disabling or re-issuing access
raises the generation, so every open session ends on its next request.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import string
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import current_app, has_request_context, request
from flask_babel import gettext as _
from flask_security import hash_password, verify_password
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import and_, case, delete, func, select, update
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.attributes import set_committed_value

from app.queue import enqueue_after_commit
from app.services import events, links, outbox, sessions, templates
from app.services.errors import NotFound, ServiceError, ValidationError
from app.services.events import Actor
from app.services.portal_settings import get_settings
from app.services.users import check_new_password
from app.services.validation import normalise_email, normalise_phone
from models import (
    AccountStatus,
    Channel,
    Contact,
    ContactChange,
    ContactMethod,
    LoginCode,
    PortalAccount,
    Record,
    User,
    db,
    utcnow,
)

PASSWORD_ALPHABET = "".join(ch for ch in string.ascii_letters + string.digits if ch not in "0O1lI")
RESET_MAX_AGE = 3600
_DUMMY_HASH: str | None = None


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


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def generate_password() -> str:
    """12 unambiguous characters in groups of four, e.g. ``Kp7d-Xw9q-2mRt``."""
    raw = "".join(secrets.choice(PASSWORD_ALPHABET) for _ in range(12))
    return f"{raw[:4]}-{raw[4:8]}-{raw[8:]}"


def portal_link(token: str) -> str:
    return links.portal_link(token)


def primary_account(record: Record) -> PortalAccount | None:
    return db.session.scalar(
        select(PortalAccount).where(
            PortalAccount.record_id == record.id, PortalAccount.contact_id.is_(None)
        )
    )


def contact_account(contact: Contact) -> PortalAccount | None:
    return db.session.scalar(select(PortalAccount).where(PortalAccount.contact_id == contact.id))


def accounts_of(record: Record) -> list[PortalAccount]:
    return list(
        db.session.scalars(
            select(PortalAccount)
            .where(PortalAccount.record_id == record.id)
            .order_by(PortalAccount.contact_id.is_not(None), PortalAccount.id)
        )
    )


# -- staff side ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Enabled:
    account: PortalAccount
    link_channel: Channel
    reissued: bool


def enable_self_service(record: Record, by: User | Actor) -> Enabled:
    """Give the record's primary applicant portal access: a new personal link and a new
    password, each in its own message. If access existed, the old link, password and sessions
    stop working. ``by`` is the staff member, or the workflow, that did it."""
    if not record.email:
        raise ValidationError(
            "Add an email address to the record first: the password is always sent by email."
        )
    account = primary_account(record)
    reissued = account is not None and account.status == AccountStatus.ENABLED
    if account is None:
        account = PortalAccount(
            record_id=record.id, status=AccountStatus.ENABLED, generation=0, failed_attempts=0
        )
        db.session.add(account)
    token = secrets.token_urlsafe(32)
    password = generate_password()
    now = utcnow()
    account.status = AccountStatus.ENABLED
    account.email = record.email.lower()
    account.generation = (account.generation or 0) + 1
    if reissued:
        sessions.end_all(accounts=[account], reason=sessions.ACCESS_ENDED, now=now)
    account.link_token_hash = token_hash(token)
    account.password_hash = hash_password(password)
    account.password_set_at = now
    account.enabled_at = now
    account.disabled_at = None
    account.failed_attempts = 0
    account.locked_until = None
    account.invitation_token_hash = None
    account.invitation_expires_at = None
    db.session.flush()

    settings = get_settings()
    by_text = (
        settings.link_by_sms_when_preferred
        and record.preferred_contact == ContactMethod.SMS
        and bool(record.mobile)
        and record.sms_opt_in
    )
    context = templates.base_context(record)
    context.update(portal_link=portal_link(token), password=password)
    stamp = f"{account.id}:{account.generation}"
    link_template = "portal.link.sms" if by_text else "portal.link"
    outbox.send_template(
        link_template,
        context,
        key=f"self-service:{stamp}:link",
        to=(record.mobile if by_text else record.email) or "",
        to_name=record.full_name,
        record_id=record.id,
        reply_to=templates.reply_address(record),
    )
    outbox.send_template(
        "portal.password",
        context,
        key=f"self-service:{stamp}:password",
        to=record.email,
        to_name=record.full_name,
        record_id=record.id,
        reply_to=templates.reply_address(record),
    )
    link_channel = Channel.SMS if by_text else Channel.EMAIL
    events.emit(
        "staff.self_service.enabled",
        actor=by if isinstance(by, Actor) else Actor.staff(by),
        record=record,
        details={"link_channel": link_channel.value, "reissued": reissued},
    )
    return Enabled(account, link_channel, reissued)


def disable_self_service(record: Record, by: User) -> bool:
    """End every portal access of the record at once (its contact persons' too)."""
    changed = False
    now = utcnow()
    for account in accounts_of(record):
        if account.status == AccountStatus.DISABLED:
            continue
        account.status = AccountStatus.DISABLED
        account.generation += 1
        account.link_token_hash = None
        account.invitation_token_hash = None
        account.disabled_at = now
        changed = True
    # Every browser signed in to these accounts is signed out (the generation ends the
    # cookies; this ends their rows on the server too).
    sessions.end_all(accounts=accounts_of(record), reason=sessions.ACCESS_ENDED, now=now)
    if changed:
        events.emit("staff.self_service.disabled", actor=Actor.staff(by), record=record)
    db.session.flush()
    return changed


def invite(record: Record, by: User, contact: Contact | None = None) -> PortalAccount:
    """Invite the primary applicant (or a contact person) by email: a single-use link to a
    sign-up page where they choose a password."""
    if contact is not None and contact.record_id != record.id:
        raise ValidationError("That contact belongs to another record.")
    email = contact.email if contact else record.email
    name = contact.full_name if contact else record.full_name
    if not email:
        raise ValidationError(f"{name} has no email address to send the invitation to.")
    account = contact_account(contact) if contact else primary_account(record)
    if account is not None and account.status == AccountStatus.ENABLED and account.password_hash:
        raise ValidationError(f"{name} can already sign in to the portal.")
    if account is None:
        account = PortalAccount(
            record_id=record.id,
            contact_id=contact.id if contact else None,
            status=AccountStatus.INVITED,
            generation=0,
            failed_attempts=0,
        )
        db.session.add(account)
    token = secrets.token_urlsafe(32)
    now = utcnow()
    days = get_settings().invitation_valid_days
    account.status = AccountStatus.INVITED
    account.email = email.lower()
    account.generation = (account.generation or 0) + 1
    account.invitation_token_hash = token_hash(token)
    account.invitation_expires_at = now + timedelta(days=days)
    account.invited_at = now
    account.link_token_hash = None
    db.session.flush()
    context = templates.base_context(record)
    context.update(
        invitation_link=links.invitation(token),
        person_name=name,
        expires_on=(now + timedelta(days=days)).strftime("%d %B %Y"),
    )
    outbox.send_template(
        "portal.invitation",
        context,
        key=f"invitation:{account.id}:{account.generation}",
        to=email,
        to_name=name,
        record_id=record.id,
        reply_to=templates.reply_address(record),
    )
    events.emit(
        "staff.self_service.invited",
        actor=Actor.staff(by),
        record=record,
        details={"person": name, "email": email},
    )
    return account


def record_preview_opened(record: Record, by: User) -> None:
    events.emit("staff.self_service.viewed", actor=Actor.staff(by), record=record)


def sync_login_email(record: Record) -> None:
    """Keep the primary account's sign-in address in step with the record's email."""
    account = primary_account(record) if record.id else None
    if account is not None and record.email:
        account.email = record.email.lower()


# -- sign-in -----------------------------------------------------------------------------------


def _dummy_hash() -> str:
    global _DUMMY_HASH
    if _DUMMY_HASH is None:
        _DUMMY_HASH = hash_password(secrets.token_urlsafe(16))
    return _DUMMY_HASH


def _dummy_verify(password: str) -> None:
    """Spend the time a real check takes, so failures for unknown accounts look the same."""
    verify_password(password, _dummy_hash())


def _password_paused(account: PortalAccount, now: datetime) -> bool:
    """Only the password paths pause: codes and reset links reach the client's own mailbox or
    phone, so a stranger's failures must not block them."""
    return bool(account.locked_until and account.locked_until > now)


def mask_address(address: str | None) -> str:
    """An address as the activity log keeps it for someone who is not (known to be) a client:
    enough to trace misuse, not a list of addresses people tried: ``c***@example.com``."""
    local, at, domain = (address or "").partition("@")
    if not at:
        return ""
    return f"{local[:1]}***@{domain[:255]}"


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
        was_paused = _password_paused(account, now)
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


def _succeeded(account: PortalAccount, event_key: str, method: str, now: datetime) -> None:
    account.failed_attempts = 0
    account.locked_until = None
    account.last_login_at = now
    events.emit(
        event_key, actor=Actor.client(account), record=account.record, details={"method": method}
    )


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
    now = now or utcnow()
    account = account_for_link(token)
    if account is None or account.password_hash is None:
        _dummy_verify(password)
        _failed([], "link", None, now)
        raise SignInFailed()
    matches = verify_password(password, account.password_hash)  # paused or not: same work
    if _password_paused(account, now) or not matches:
        _failed([account], "link", None, now)
        raise SignInFailed()
    _succeeded(account, "portal.login.password", "link", now)
    return account


def sign_in_with_password(email: str, password: str, now: datetime | None = None) -> PortalAccount:
    """Email address and password. Several accounts may share an address (a couple with one
    mailbox); the password tells them apart."""
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
        _dummy_verify(password)
        _failed([], "password", address, now)
        raise SignInFailed()
    # Every candidate's hash is checked, paused or not, so a pause does not show in the timing.
    checked = [(a, verify_password(password, a.password_hash or "")) for a in candidates]
    for account, matches in checked:
        if matches and not _password_paused(account, now):
            _succeeded(account, "portal.login.password", "password", now)
            return account
    _failed(candidates, "password", address, now)
    raise SignInFailed()


# -- one-time codes -------------------------------------------------------------------------


def normalise_identifier(channel: Channel, value: str) -> str | None:
    try:
        if channel == Channel.EMAIL:
            return (normalise_email(value) or "").lower() or None
        return normalise_phone(value)
    except ValidationError:
        return None


def accounts_for_identifier(channel: Channel, identifier: str) -> list[PortalAccount]:
    query = (
        select(PortalAccount)
        .join(Record, Record.id == PortalAccount.record_id)
        .outerjoin(Contact, Contact.id == PortalAccount.contact_id)
        .where(PortalAccount.status == AccountStatus.ENABLED)
        .options(joinedload(PortalAccount.record), joinedload(PortalAccount.contact))
        .order_by(PortalAccount.id)
    )
    if channel == Channel.EMAIL:
        query = query.where(func.lower(PortalAccount.email) == identifier)
    else:
        query = query.where(
            ((PortalAccount.contact_id.is_(None)) & (Record.mobile == identifier))
            | (Contact.phone == identifier)
        )
    return list(db.session.scalars(query).unique())


def _code_hash(identifier: str, code: str) -> str:
    key = str(current_app.config["SECRET_KEY"]).encode()
    return hmac.new(key, f"{identifier}:{code}".encode(), hashlib.sha256).hexdigest()


def ask_for_code(channel: Channel, value: str) -> None:
    """Queue :func:`request_code` for after the response: the request does the same work (one
    job queued on commit) whether or not an account answers to ``value``, so neither the page
    nor its timing says which."""
    enqueue_after_commit(
        "jobs.portal_accounts.send_sign_in_code",
        channel.value,
        (value or "")[:255],
        queue=outbox.queue_for(channel),
    )


def request_code(channel: Channel, value: str, now: datetime | None = None) -> None:
    """Send a sign-in code if an account answers to this address or number (the job behind
    :func:`ask_for_code`). A paused password does not stop it."""
    now = now or utcnow()
    identifier = normalise_identifier(channel, value)
    if identifier is None:
        return
    accounts = accounts_for_identifier(channel, identifier)
    if not accounts:
        return
    settings = get_settings()
    db.session.execute(
        update(LoginCode)
        .where(
            LoginCode.channel == channel,
            LoginCode.identifier == identifier,
            LoginCode.used_at.is_(None),
            LoginCode.superseded_at.is_(None),
        )
        .values(superseded_at=now)
        .execution_options(synchronize_session=False)
    )
    code = new_code()
    login_code = LoginCode(
        channel=channel,
        identifier=identifier,
        code_hash=_code_hash(identifier, code),
        created_at=now,
        expires_at=now + timedelta(minutes=settings.code_valid_minutes),
        attempts=0,
        max_attempts=settings.code_max_attempts,
    )
    db.session.add(login_code)
    db.session.flush()
    record = accounts[0].record
    context = templates.base_context(record)
    context.update(code=code, code_minutes=settings.code_valid_minutes)
    template = "portal.login_code" if channel == Channel.EMAIL else "portal.login_code.sms"
    outbox.send_template(
        template,
        context,
        key=f"login-code:{login_code.id}",
        to=identifier,
        record_id=record.id,
    )


def new_code() -> str:
    return f"{secrets.randbelow(10**6):06d}"


def use_attempt(model: type[LoginCode] | type[ContactChange], row_id: int) -> bool:
    """Count one attempt on a code in the database, before the code is compared: one UPDATE
    that only succeeds while attempts are left. Parallel guesses each need their own row
    update (the database serialises them), so no two share an attempt. False when none is left
    (the caller refuses without comparing)."""
    result = db.session.execute(
        update(model)
        .where(model.id == row_id, model.attempts < model.max_attempts)
        .values(attempts=model.attempts + 1)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0) == 1)


def _use_once(model: type[LoginCode] | type[ContactChange], row_id: int, now: datetime) -> bool:
    """Mark a correct code used; False if a parallel request already did."""
    column = LoginCode.used_at if model is LoginCode else ContactChange.confirmed_at
    result = db.session.execute(
        update(model)
        .where(model.id == row_id, column.is_(None), model.superseded_at.is_(None))
        .values({column.key: now})
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0) == 1)


def verify_code(
    channel: Channel, value: str, code: str, now: datetime | None = None
) -> list[PortalAccount]:
    """The accounts a correct, fresh code opens (usually one); :class:`SignInFailed` if not.
    Each try uses up one of the code's attempts, counted before the code is compared."""
    now = now or utcnow()
    identifier = normalise_identifier(channel, value)
    code = "".join(ch for ch in (code or "") if ch.isdigit())
    if identifier is None:
        raise SignInFailed()
    found = db.session.execute(
        select(LoginCode.id, LoginCode.code_hash, LoginCode.expires_at)
        .where(
            LoginCode.channel == channel,
            LoginCode.identifier == identifier,
            LoginCode.used_at.is_(None),
            LoginCode.superseded_at.is_(None),
        )
        .order_by(LoginCode.id.desc())
        .limit(1)
    ).first()
    # The same statements whether or not there is a live code (there is one only for a known
    # address): one attempt is counted, on id 0 (no row) when there is none. A code is compared
    # only once its attempt is counted; a used-up code stays used up.
    live = found is not None and found.expires_at > now
    if not use_attempt(LoginCode, found.id if found is not None and live else 0):
        raise SignInFailed()
    if found is None or not hmac.compare_digest(found.code_hash, _code_hash(identifier, code)):
        raise SignInFailed()
    if not _use_once(LoginCode, found.id, now):
        raise SignInFailed()
    accounts = accounts_for_identifier(channel, identifier)
    if not accounts:
        raise SignInFailed()
    return accounts


def _retire(model: type[LoginCode] | type[ContactChange], row_id: int, now: datetime) -> None:
    db.session.execute(
        update(model)
        .where(model.id == row_id, model.superseded_at.is_(None))
        .values(superseded_at=now)
        .execution_options(synchronize_session=False)
    )


def complete_code_sign_in(
    account: PortalAccount, channel: Channel, now: datetime | None = None
) -> None:
    key = "portal.login.email" if channel == Channel.EMAIL else "portal.login.sms"
    _succeeded(account, key, f"code by {channel.value}", now or utcnow())


# -- invitations and passwords -----------------------------------------------------------------


def account_for_invitation(token: str, now: datetime | None = None) -> PortalAccount | None:
    now = now or utcnow()
    if not token or len(token) > 200:
        return None
    account = db.session.scalar(
        select(PortalAccount)
        .where(
            PortalAccount.invitation_token_hash == token_hash(token),
            PortalAccount.status == AccountStatus.INVITED,
        )
        .options(joinedload(PortalAccount.record), joinedload(PortalAccount.contact))
    )
    if account is None or account.invitation_expires_at is None:
        return None
    if account.invitation_expires_at <= now:
        return None
    return account


def accept_invitation(
    token: str, password: str, confirm: str, now: datetime | None = None
) -> PortalAccount:
    now = now or utcnow()
    account = account_for_invitation(token, now)
    if account is None:
        raise ValidationError(
            _("This invitation has expired or was already used. Ask the office for a new one.")
        )
    _set_password(account, password, confirm, now)
    account.status = AccountStatus.ENABLED
    account.invitation_token_hash = None
    account.invitation_expires_at = None
    account.enabled_at = now
    account.generation += 1
    sessions.end_all(accounts=[account], reason=sessions.PASSWORD_CHANGED, now=now)
    events.emit("portal.invitation.accepted", actor=Actor.client(account), record=account.record)
    _succeeded(account, "portal.login.password", "invitation", now)
    return account


def _set_password(account: PortalAccount, password: str, confirm: str, now: datetime) -> None:
    if password != confirm:
        raise ValidationError(_("The two passwords are not the same."), field="confirm")
    record = account.record
    # The one rule for every new password (app.services.passwords), staff's too.
    cleaned = check_new_password(
        password,
        email=account.email,
        user_inputs=(
            account.person_name,
            record.full_name,
            record.email,
            record.company_name,
            get_settings().portal_name,
        ),
    )
    account.password_hash = hash_password(cleaned)
    account.password_set_at = now


def _reset_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="portal-password-reset")


def _password_fingerprint(account: PortalAccount) -> str:
    return hashlib.sha256((account.password_hash or "").encode()).hexdigest()[:16]


def ask_for_password_reset(email: str) -> None:
    """Queue :func:`request_password_reset` for after the response (see :func:`ask_for_code`)."""
    enqueue_after_commit(
        "jobs.portal_accounts.send_password_reset", (email or "")[:255], queue="email"
    )


def request_password_reset(email: str) -> None:
    """Email a one-hour reset link to each account on this address; silent otherwise (the job
    behind :func:`ask_for_password_reset`)."""
    address = normalise_identifier(Channel.EMAIL, email)
    if address is None:
        return
    for account in accounts_for_identifier(Channel.EMAIL, address):
        token = _reset_serializer().dumps(
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
    try:
        data: dict[str, Any] = _reset_serializer().loads(token, max_age=RESET_MAX_AGE)
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
    now = now or utcnow()
    account = account_for_reset(token)
    if account is None:
        raise ValidationError(
            _("This reset link has expired or was already used. Ask for a new one.")
        )
    _set_password(account, password, confirm, now)
    account.generation += 1  # sessions opened with the old password end
    sessions.end_all(accounts=[account], reason=sessions.PASSWORD_CHANGED, now=now)
    account.failed_attempts = 0
    account.locked_until = None
    # A sign-in email or mobile change begun in one of those sessions ends with them.
    db.session.execute(
        update(ContactChange)
        .where(
            ContactChange.account_id == account.id,
            _change_open(),
        )
        .values(superseded_at=now)
        .execution_options(synchronize_session=False)
    )
    events.emit(
        "portal.password.changed",
        actor=Actor.client(account),
        record=account.record,
        details={"how": "reset link"},
    )
    return account


# -- changing the address or number someone signs in with -----------------------------------


def _change_open() -> Any:
    """The condition of a change still waiting for its code: neither confirmed nor replaced
    (cancelled, out of attempts, ended by a password reset). Expiry is checked apart: a newer
    change or a reset still ends an expired one. :func:`_is_open` is the same for a row."""
    return and_(ContactChange.confirmed_at.is_(None), ContactChange.superseded_at.is_(None))


def _is_open(change: ContactChange) -> bool:
    return change.confirmed_at is None and change.superseded_at is None


class ChangeCodeFailed(ValidationError):
    """A wrong, used or expired confirmation code (the attempt is counted: commit anyway)."""


#: How recent a sign-in must be to start changing the email or mobile someone signs in with.
#: A stolen session is usually an old one; whoever holds it cannot pick the new number
#: without the password or a code to the current address first (:func:`confirm_identity`).
FRESH_SIGN_IN = timedelta(minutes=15)

#: Codes to a new sign-in email or mobile (each one a text or an email to wherever the client
#: typed), per account and per address (IP); one limiter, whichever page or API call asks.
#: ``PORTICO_CONTACT_CODE_LIMIT_ACCOUNT`` / ``_IP`` in the app config override them.
CONTACT_CODE_LIMITS = {"account": "5 per hour", "ip": "20 per hour"}


class FreshSignInNeeded(ServiceError):
    """Changing a sign-in email or mobile needs a sign-in of the last few minutes."""

    reason = "fresh_sign_in_required"

    def __init__(self) -> None:
        self.message = _(
            "To change the email or mobile you sign in with, first confirm it's you: "
            "enter your password, or a code we send to your current email address."
        )
        super().__init__(self.message)


class TooManyCodes(ServiceError):
    """Too many codes to new sign-in addresses or numbers; ``retry_after`` in seconds."""

    reason = "too_many_codes"

    def __init__(self, retry_after: int) -> None:
        self.message = _(
            "We have sent as many codes to new addresses and numbers as we may for now. "
            "Try again in %(minutes)d minutes, or ask your adviser.",
            minutes=max(1, -(-retry_after // 60)),
        )
        super().__init__(self.message)
        self.retry_after = retry_after


def check_fresh_sign_in(signed_in_at: datetime | None, now: datetime | None = None) -> None:
    """:class:`FreshSignInNeeded` unless the session signed in (or confirmed who it is)
    within :data:`FRESH_SIGN_IN`."""
    now = now or utcnow()
    if signed_in_at is None or now - signed_in_at > FRESH_SIGN_IN:
        raise FreshSignInNeeded()


def spend_contact_code(account: PortalAccount) -> None:
    """Count one code sent on the client's say-so to an address or number not yet proven
    (a new sign-in email or mobile, or a confirm-it's-you code): :class:`TooManyCodes` when
    the account or the address it comes from has had its share. Nothing is counted then."""
    from limits import parse

    from app.extensions import limiter

    config = current_app.config
    ip = (request.remote_addr if has_request_context() else None) or "-"
    checks = [
        (
            parse(
                config.get("PORTICO_CONTACT_CODE_LIMIT_ACCOUNT") or CONTACT_CODE_LIMITS["account"]
            ),
            ("portal-contact-code-account", f"account:{account.id}"),
        ),
        (
            parse(config.get("PORTICO_CONTACT_CODE_LIMIT_IP") or CONTACT_CODE_LIMITS["ip"]),
            ("portal-contact-code-ip", f"ip:{ip}"),
        ),
    ]
    strategy = limiter.limiter
    for item, keys in checks:
        if not strategy.test(item, *keys):
            reset = strategy.get_window_stats(item, *keys).reset_time
            raise TooManyCodes(max(1, int(reset - time.time())))
    for item, keys in checks:
        strategy.hit(item, *keys)


def start_contact_change(
    account: PortalAccount,
    *,
    field_key: str,
    field_label: str,
    section: str,
    channel: Channel,
    new_value: str,
    new_display: str,
    signed_in_at: datetime | None,
    now: datetime | None = None,
) -> ContactChange:
    """Hold a change of a sign-in address or number until the code sent to the new one comes
    back (:func:`confirm_contact_change`). A newer change of the same field replaces it.

    Only a session that signed in (or confirmed who it is) in the last
    :data:`FRESH_SIGN_IN` may start one (:class:`FreshSignInNeeded`), and codes are limited
    per account and per address (:class:`TooManyCodes`); nothing is written then."""
    now = now or utcnow()
    check_fresh_sign_in(signed_in_at, now)
    spend_contact_code(account)
    settings = get_settings()
    db.session.execute(
        update(ContactChange)
        .where(
            ContactChange.account_id == account.id,
            ContactChange.field_key == field_key,
            _change_open(),
        )
        .values(superseded_at=now)
        .execution_options(synchronize_session=False)
    )
    code = new_code()
    change = ContactChange(
        account_id=account.id,
        record_id=account.record_id,
        field_key=field_key,
        field_label=field_label,
        section=section,
        channel=channel,
        new_value=new_value,
        new_display=new_display,
        code_hash=_code_hash(f"contact-change:{account.id}:{field_key}:{new_value}", code),
        created_at=now,
        expires_at=now + timedelta(minutes=settings.code_valid_minutes),
        attempts=0,
        max_attempts=settings.code_max_attempts,
    )
    db.session.add(change)
    db.session.flush()
    record = account.record
    context = templates.base_context(record)
    context.update(
        code=code,
        code_minutes=settings.code_valid_minutes,
        person_name=account.person_name,
        field_label=field_label,
        new_value=new_display,
    )
    template = "portal.contact_code" if channel == Channel.EMAIL else "portal.contact_code.sms"
    outbox.send_template(
        template,
        context,
        key=f"contact-change:{change.id}",
        to=new_value,
        to_name=account.person_name,
        record_id=record.id,
    )
    events.emit(
        "portal.contact_change.requested",
        actor=Actor.client(account),
        record=record,
        details={"field": field_label, "new": new_display},
    )
    return change


def open_contact_changes(
    account: PortalAccount, now: datetime | None = None
) -> list[ContactChange]:
    """Changes of this account waiting for their code, oldest first."""
    now = now or utcnow()
    return list(
        db.session.scalars(
            select(ContactChange)
            .where(
                ContactChange.account_id == account.id,
                _change_open(),
                ContactChange.expires_at > now,
            )
            .order_by(ContactChange.id)
        )
    )


def contact_change_of(account: PortalAccount, change_id: int) -> ContactChange:
    """The account's own change; another account's is as missing as one that never was."""
    change = db.session.get(ContactChange, change_id)
    if change is None or change.account_id != account.id:
        raise NotFound(_("There is no such change waiting for a code."))
    return change


def check_contact_code(
    account: PortalAccount, change_id: int, code: str, now: datetime | None = None
) -> ContactChange:
    """The change a correct code confirms (marked confirmed), or :class:`ChangeCodeFailed`.
    The attempt is counted in the database before the code is compared."""
    now = now or utcnow()
    change = contact_change_of(account, change_id)
    gone = ChangeCodeFailed(
        _(
            "This code has expired or was used up. Change %(field)s again to get a new code.",
            field=change.field_label,
        ),
        field="code",
    )
    if not _is_open(change) or change.expires_at <= now:
        raise gone
    if not use_attempt(ContactChange, change.id):
        _retire(ContactChange, change.id, now)
        raise gone
    db.session.refresh(change)
    typed = "".join(ch for ch in (code or "") if ch.isdigit())
    expected = _code_hash(
        f"contact-change:{account.id}:{change.field_key}:{change.new_value}", typed
    )
    if not hmac.compare_digest(change.code_hash, expected):
        left = change.max_attempts - change.attempts
        if left <= 0:
            _retire(ContactChange, change.id, now)
            raise gone
        raise ChangeCodeFailed(
            _(
                "That code is not right. Check the newest message; %(left)d tries left.",
                left=left,
            ),
            field="code",
        )
    if not _use_once(ContactChange, change.id, now):
        raise gone
    db.session.refresh(change)
    return change


def cancel_contact_change(account: PortalAccount, change_id: int) -> ContactChange:
    change = contact_change_of(account, change_id)
    if _is_open(change):
        change.superseded_at = utcnow()
    db.session.flush()
    return change


def notice_key(
    record_id: int,
    field_key: str,
    *,
    change: ContactChange | None = None,
    approval_id: int | None = None,
) -> str:
    """The outbox key of the notice to the old address or number, one per change: the
    :class:`ContactChange` its code confirmed, or the staff approval that applied it. A
    removal (it needs no code, so it has no row) is keyed by the record, field and time."""
    if change is not None:
        return f"contact-changed:{change.id}"
    if approval_id is not None:
        return f"contact-changed:approval:{approval_id}"
    return f"contact-changed:{record_id}:{field_key}:{utcnow().isoformat()}"


def tell_old_contact(
    record: Record,
    *,
    key: str,
    channel: Channel,
    old_value: str | None,
    field_label: str,
    new_display: str,
    person_name: str,
) -> None:
    """Tell the old address or number that it no longer signs in (if there was none, the
    record's email hears of the new one), so a change the client did not make is noticed.
    ``key`` names the change the notice is about, one notice per change: ``contact-changed:``
    and the :class:`ContactChange` id (see :func:`notice_key`)."""
    to, by = old_value, channel
    if not to:
        to, by = record.email, Channel.EMAIL
    if not to:
        return
    context = templates.base_context(record)
    context.update(person_name=person_name, field_label=field_label, new_value=new_display)
    template = "portal.contact_changed" if by == Channel.EMAIL else "portal.contact_changed.sms"
    outbox.send_template(
        template,
        context,
        key=key,
        to=to,
        to_name=person_name,
        record_id=record.id,
        reply_to=templates.reply_address(record),
    )


# -- confirming who it is, before a sign-in email or mobile changes ---------------------------


def confirm_identity_with_password(
    account: PortalAccount, password: str, now: datetime | None = None
) -> None:
    """The signed-in client's current password, re-entered (:class:`SignInFailed` if wrong).
    A wrong one counts toward the pause like any failed sign-in, so a stolen session cannot
    be used to guess the password."""
    now = now or utcnow()
    matches = verify_password(password or "", account.password_hash or _dummy_hash())
    if not matches or account.password_hash is None or _password_paused(account, now):
        _failed([account], "confirm", None, now)
        raise SignInFailed()


def send_identity_code(account: PortalAccount, now: datetime | None = None) -> str:
    """Email a sign-in code to the account's current address (not a new one), for a client
    who has no password at hand; returns the address it went to. Counted with the codes to
    new addresses (:func:`spend_contact_code`)."""
    if not account.email:
        raise ValidationError(_("There is no email address to send a code to."))
    spend_contact_code(account)
    request_code(Channel.EMAIL, account.email, now)
    return account.email


def confirm_identity_with_code(
    account: PortalAccount, code: str, now: datetime | None = None
) -> None:
    """The code :func:`send_identity_code` sent (:class:`SignInFailed` if wrong; commit
    anyway, the attempt counts)."""
    if account not in verify_code(Channel.EMAIL, account.email or "", code, now):
        raise SignInFailed()


# -- sessions ---------------------------------------------------------------------------------


def account_for_session(account_id: Any, generation: Any) -> PortalAccount | None:
    """The signed-in account, or None if its access ended since the session began."""
    if not isinstance(account_id, int) or not isinstance(generation, int):
        return None
    account = db.session.scalar(
        select(PortalAccount)
        .where(PortalAccount.id == account_id)
        .options(
            joinedload(PortalAccount.record).joinedload(Record.assigned_agent),
            joinedload(PortalAccount.contact),
        )
    )
    if account is None or account.status != AccountStatus.ENABLED:
        return None
    if account.generation != generation:
        return None
    return account


def prune_codes(before: datetime) -> int:
    """Delete sign-in codes and sign-in contact changes that expired before ``before``
    (housekeeping: the activity log keeps what happened; the rows are only needed while a
    code can still be entered)."""
    removed = 0
    for model in (LoginCode, ContactChange):
        result = db.session.execute(
            delete(model)
            .where(model.expires_at < before)
            .execution_options(synchronize_session=False)
        )
        removed += int(result.rowcount)  # type: ignore[attr-defined]
    return removed
