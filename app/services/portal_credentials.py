"""What opens a portal account, and finding the account it opens.

Secrets never rest in clear text: the personal link token and the invitation token are kept as
SHA-256 (they carry 256 bits of chance, so a plain hash is enough), passwords with argon2
under the one password rule (:func:`set_password`). The sign-in paths, invitations and
password resets all build on these; the account's own life (enabling, disabling, the
generation that ends sessions) is :mod:`app.services.portal_accounts`.
"""

from __future__ import annotations

import hashlib
import secrets
import string
from datetime import datetime

from flask_babel import gettext as _
from flask_security import hash_password
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from app.services import events
from app.services.errors import ValidationError
from app.services.events import Actor
from app.services.portal_settings import get_settings
from app.services.users import check_new_password
from models import AccountStatus, Channel, Contact, PortalAccount, Record, db

PASSWORD_ALPHABET = "".join(ch for ch in string.ascii_letters + string.digits if ch not in "0O1lI")


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def generate_password() -> str:
    """12 unambiguous characters in groups of four, e.g. ``Kp7d-Xw9q-2mRt``."""
    raw = "".join(secrets.choice(PASSWORD_ALPHABET) for _ in range(12))
    return f"{raw[:4]}-{raw[4:8]}-{raw[8:]}"


def set_password(account: PortalAccount, password: str, confirm: str, now: datetime) -> None:
    """The client's new password, typed twice, checked by the one rule for every new password
    (:mod:`app.services.passwords`, staff's too), or :class:`ValidationError`."""
    if password != confirm:
        raise ValidationError(_("The two passwords are not the same."), field="confirm")
    record = account.record
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


def signed_in(account: PortalAccount, event_key: str, method: str, now: datetime) -> None:
    """A sign-in succeeded: the failure count starts again, and it is logged."""
    account.failed_attempts = 0
    account.locked_until = None
    account.last_login_at = now
    events.emit(
        event_key, actor=Actor.client(account), record=account.record, details={"method": method}
    )


def mask_address(address: str | None) -> str:
    """An address as the activity log keeps it for someone who is not (known to be) a client:
    enough to trace misuse, not a list of addresses people tried: ``c***@example.com``."""
    local, at, domain = (address or "").partition("@")
    if not at:
        return ""
    return f"{local[:1]}***@{domain[:255]}"


# -- finding accounts ---------------------------------------------------------------------------


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


def accounts_for_identifier(channel: Channel, identifier: str) -> list[PortalAccount]:
    """The enabled accounts that sign in with this email address (lower case) or mobile
    number (E.164): several when a couple shares a mailbox."""
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
