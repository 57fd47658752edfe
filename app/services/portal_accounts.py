"""Portal accounts: a client's (or a contact person's) access to the portal, as staff and
workflows give and end it.

Enabling self service issues a personal link and a password, each in its own message;
disabling ends every access of the record at once. A portal session remembers the account and
its ``generation``: disabling or re-issuing access raises the generation, so every open
session ends on its next request (:func:`account_for_session`).

The rest of a client's way in has a module of its own: what opens an account
(:mod:`~app.services.portal_credentials`), signing in (:mod:`~app.services.portal_sign_in`),
one-time codes (:mod:`~app.services.one_time_codes`), invitations
(:mod:`~app.services.invitations`), password resets (:mod:`~app.services.password_resets`)
and changing a sign-in email or mobile (:mod:`~app.services.contact_changes`).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from flask_security import hash_password
from sqlalchemy.orm import joinedload

from app.services import events, links, outbox, sessions, templates
from app.services.errors import ValidationError
from app.services.events import Actor
from app.services.portal_credentials import (
    accounts_of,
    generate_password,
    primary_account,
    token_hash,
)
from app.services.portal_settings import get_settings
from models import (
    AccountStatus,
    Channel,
    ContactMethod,
    PortalAccount,
    Record,
    SignInSession,
    User,
    db,
    utcnow,
)


def portal_link(token: str) -> str:
    return links.portal_link(token)


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


def record_preview_opened(record: Record, by: User) -> None:
    events.emit("staff.self_service.viewed", actor=Actor.staff(by), record=record)


def sync_login_email(record: Record) -> None:
    """Keep the primary account's sign-in address in step with the record's email."""
    account = primary_account(record) if record.id else None
    if account is not None and record.email:
        account.email = record.email.lower()


# -- sessions ---------------------------------------------------------------------------------


#: What a portal page reads of the signed-in account, loaded in the same query as its
#: sign-in session row: ``sessions.check(..., options=SESSION_LOAD)``.
SESSION_LOAD = (
    joinedload(SignInSession.portal_account)
    .joinedload(PortalAccount.record)
    .joinedload(Record.assigned_agent),
    joinedload(SignInSession.portal_account).joinedload(PortalAccount.contact),
)
_ACCOUNT_LOAD = (
    joinedload(PortalAccount.record).joinedload(Record.assigned_agent),
    joinedload(PortalAccount.contact),
)


def account_for_session(account_id: Any, generation: Any) -> PortalAccount | None:
    """The signed-in account, or None if its access ended since the session began. No query
    when the session check loaded it already (:data:`SESSION_LOAD`)."""
    if not isinstance(account_id, int) or not isinstance(generation, int):
        return None
    account = db.session.get(PortalAccount, account_id, options=_ACCOUNT_LOAD)
    if account is None or not still_signed_in(account.status, account.generation, generation):
        return None
    return account


def still_signed_in(status: AccountStatus, generation: int, session_generation: Any) -> bool:
    """Whether a session begun at ``session_generation`` still holds for an account in this
    state: access on, and not re-issued or taken away since."""
    return status == AccountStatus.ENABLED and generation == session_generation
