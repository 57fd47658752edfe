"""Invitations: staff invite the primary applicant (or a contact person) by email, with a
single-use link to a page where they choose a password and are signed in.

The invitation token is kept as SHA-256 (:func:`portal_credentials.token_hash`); it expires
after the portal settings' ``invitation_valid_days``.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from app.services import events, links, outbox, sessions, templates
from app.services.errors import ValidationError
from app.services.events import Actor
from app.services.portal_credentials import (
    contact_account,
    primary_account,
    set_password,
    signed_in,
    token_hash,
)
from app.services.portal_settings import get_settings
from models import AccountStatus, Contact, PortalAccount, Record, User, db, utcnow


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


def account_for_invitation(token: str, now: datetime | None = None) -> PortalAccount | None:
    """The invited account of a live invitation link, or None."""
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
    """The invited person chose a password: the account is enabled and signed in."""
    now = now or utcnow()
    account = account_for_invitation(token, now)
    if account is None:
        raise ValidationError(
            _("This invitation has expired or was already used. Ask the office for a new one.")
        )
    set_password(account, password, confirm, now)
    account.status = AccountStatus.ENABLED
    account.invitation_token_hash = None
    account.invitation_expires_at = None
    account.enabled_at = now
    account.generation += 1
    sessions.end_all(accounts=[account], reason=sessions.PASSWORD_CHANGED, now=now)
    events.emit("portal.invitation.accepted", actor=Actor.client(account), record=account.record)
    signed_in(account, "portal.login.password", "invitation", now)
    return account
