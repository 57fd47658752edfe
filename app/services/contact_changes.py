"""Changing the email address or mobile number someone signs in with.

The address and number someone signs in with are keys to the account: a client changes them
only by entering a code sent to the new one (:func:`start_contact_change`,
:func:`check_contact_code`), and the old one is told (:func:`tell_old_contact`). Starting such
a change needs a sign-in of the last :data:`FRESH_SIGN_IN` (else the client confirms it's them
first, with the password or a code to the current address), and codes to new addresses are
limited per account and per address (:data:`CONTACT_CODE_LIMITS`). Nobody else (a contact
person, or the primary applicant for a co-applicant's account) changes them in the portal;
which field may change, and what follows, is :mod:`app.services.portal_fields`.
"""

from __future__ import annotations

import hmac
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import and_, delete, select, update

from app.services import events, one_time_codes, outbox, portal_sign_in, templates
from app.services.errors import NotFound, ServiceError, ValidationError
from app.services.events import Actor
from app.services.one_time_codes import Limit
from app.services.portal_settings import get_settings
from models import Channel, ContactChange, PortalAccount, Record, db, utcnow

#: How recent a sign-in must be to start changing the email or mobile someone signs in with.
#: A stolen session is usually an old one; whoever holds it cannot pick the new number
#: without the password or a code to the current address first (:func:`confirm_identity_*`).
FRESH_SIGN_IN = timedelta(minutes=15)

#: Codes to a new sign-in email or mobile (each one a text or an email to wherever the client
#: typed), per account and per address (IP); one limiter, whichever page or API call asks.
#: ``PORTICO_CONTACT_CODE_LIMIT_ACCOUNT`` / ``_IP`` in the app config override them.
CONTACT_CODE_LIMITS = {"account": "5 per hour", "ip": "20 per hour"}


class ChangeCodeFailed(ValidationError):
    """A wrong, used or expired confirmation code (the attempt is counted: commit anyway)."""


class FreshSignInNeeded(ServiceError):
    """Changing a sign-in email or mobile needs a sign-in of the last few minutes."""

    reason = "fresh_sign_in_required"

    def __init__(self) -> None:
        self.message = _(
            "To change the email or mobile you sign in with, first confirm it's you: "
            "enter your password, or a code we send to your current email address."
        )
        super().__init__(self.message)


def _change_open() -> Any:
    """The condition of a change still waiting for its code: neither confirmed nor replaced
    (cancelled, out of attempts, ended by a password reset). Expiry is checked apart: a newer
    change or a reset still ends an expired one. :func:`_is_open` is the same for a row."""
    return and_(ContactChange.confirmed_at.is_(None), ContactChange.superseded_at.is_(None))


def _is_open(change: ContactChange) -> bool:
    return change.confirmed_at is None and change.superseded_at is None


def _key(account_id: int, field_key: str, new_value: str) -> str:
    return f"contact-change:{account_id}:{field_key}:{new_value}"


def check_fresh_sign_in(signed_in_at: datetime | None, now: datetime | None = None) -> None:
    """:class:`FreshSignInNeeded` unless the session signed in (or confirmed who it is)
    within :data:`FRESH_SIGN_IN`."""
    now = now or utcnow()
    if signed_in_at is None or now - signed_in_at > FRESH_SIGN_IN:
        raise FreshSignInNeeded()


def spend_contact_code(account: PortalAccount) -> None:
    """Count one code sent on the client's say-so to an address or number not yet proven
    (a new sign-in email or mobile, or a confirm-it's-you code):
    :class:`~app.services.one_time_codes.TooManyCodes` when the account or the address it
    comes from has had its share. Nothing is counted then."""
    config = current_app.config
    one_time_codes.spend(
        Limit(
            "portal-contact-code-account",
            config.get("PORTICO_CONTACT_CODE_LIMIT_ACCOUNT") or CONTACT_CODE_LIMITS["account"],
            f"account:{account.id}",
        ),
        Limit(
            "portal-contact-code-ip",
            config.get("PORTICO_CONTACT_CODE_LIMIT_IP") or CONTACT_CODE_LIMITS["ip"],
            f"ip:{one_time_codes.client_ip()}",
        ),
    )


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
    back (:func:`check_contact_code`). A newer change of the same field replaces it.

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
    code = one_time_codes.new_code()
    change = ContactChange(
        account_id=account.id,
        record_id=account.record_id,
        field_key=field_key,
        field_label=field_label,
        section=section,
        channel=channel,
        new_value=new_value,
        new_display=new_display,
        code_hash=one_time_codes.code_hash(_key(account.id, field_key, new_value), code),
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
    if not one_time_codes.count_attempt(ContactChange, change.id):
        one_time_codes.retire(ContactChange, change.id, now)
        raise gone
    db.session.refresh(change)
    expected = one_time_codes.code_hash(
        _key(account.id, change.field_key, change.new_value), one_time_codes.digits(code)
    )
    if not hmac.compare_digest(change.code_hash, expected):
        left = change.max_attempts - change.attempts
        if left <= 0:
            one_time_codes.retire(ContactChange, change.id, now)
            raise gone
        raise ChangeCodeFailed(
            _(
                "That code is not right. Check the newest message; %(left)d tries left.",
                left=left,
            ),
            field="code",
        )
    if not one_time_codes.mark_used(ContactChange, change.id, now):
        raise gone
    db.session.refresh(change)
    return change


def cancel_contact_change(account: PortalAccount, change_id: int) -> ContactChange:
    change = contact_change_of(account, change_id)
    if _is_open(change):
        change.superseded_at = utcnow()
    db.session.flush()
    return change


def end_open_changes(account: PortalAccount, now: datetime) -> None:
    """End every change still waiting for its code (a password reset ends the sessions that
    began them, and them with it)."""
    db.session.execute(
        update(ContactChange)
        .where(ContactChange.account_id == account.id, _change_open())
        .values(superseded_at=now)
        .execution_options(synchronize_session=False)
    )


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
    ``key`` names the change the notice is about, one notice per change (:func:`notice_key`)."""
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
    """The signed-in client's current password, typed again (:class:`SignInFailed` if wrong).
    A wrong one counts toward the pause like any failed sign-in, so a stolen session cannot
    be used to guess the password."""
    portal_sign_in.recheck_password(account, password, "confirm", now or utcnow())


def send_identity_code(account: PortalAccount, now: datetime | None = None) -> str:
    """Email a sign-in code to the account's current address (not a new one), for a client
    who has no password at hand; returns the address it went to. Counted with the codes to
    new addresses (:func:`spend_contact_code`)."""
    if not account.email:
        raise ValidationError(_("There is no email address to send a code to."))
    spend_contact_code(account)
    portal_sign_in.send_code(Channel.EMAIL, account.email, now)
    return account.email


def confirm_identity_with_code(
    account: PortalAccount, code: str, now: datetime | None = None
) -> None:
    """The code :func:`send_identity_code` sent (:class:`SignInFailed` if wrong; commit
    anyway, the attempt counts)."""
    if account not in portal_sign_in.accounts_for_code(
        Channel.EMAIL, account.email or "", code, now
    ):
        raise portal_sign_in.SignInFailed()


def prune(before: datetime) -> int:
    """Delete changes whose code expired before ``before`` (housekeeping)."""
    result = db.session.execute(
        delete(ContactChange)
        .where(ContactChange.expires_at < before)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]
