"""Who may see and sign which sign request: the one rule (:func:`visible_to`), the signer's
list and badge, and the emailed link.

A signer is one person of the record: the primary applicant (``contact_id`` None) or one of
its contacts. The primary applicant's portal account reaches the primary applicant's signers
of its record, a contact person's account only the signers of that contact; nobody sees a
draft, nor their part of a request before their turn has come (a signer still waiting in
order was never told of it). Anything else is "not found", so nothing tells a person that
it exists.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import Select, func, select
from sqlalchemy.orm import selectinload

from app.services.errors import NotFound
from models import (
    PortalAccount,
    SignerStatus,
    SignRequest,
    SignRequestSigner,
    SignRequestStatus,
    db,
    utcnow,
)

#: A signer in one of these has their turn and has not finished.
TURN_STATUSES = (SignerStatus.SENT, SignerStatus.VIEWED)


def token_hash(token: str) -> str:
    """How a signer's link token is kept (SHA-256 hex): it has 256 bits of entropy."""
    return hashlib.sha256(token.encode()).hexdigest()


def visible_to(account: PortalAccount) -> Select[Any]:
    """The one rule of which signers an account acts as: its person's signers on its record,
    of requests that were sent, from the signer's turn on."""
    person = (
        SignRequestSigner.contact_id.is_(None)
        if account.contact_id is None
        else SignRequestSigner.contact_id == account.contact_id
    )
    return (
        select(SignRequestSigner)
        .join(SignRequest, SignRequest.id == SignRequestSigner.sign_request_id)
        .where(
            SignRequest.record_id == account.record_id,
            SignRequest.status != SignRequestStatus.DRAFT,
            SignRequestSigner.status != SignerStatus.WAITING,
            person,
        )
    )


def signers_for_account(account: PortalAccount) -> list[SignRequestSigner]:
    """The account's signers, open and done, newest request first, requests loaded."""
    return list(
        db.session.scalars(
            visible_to(account)
            .options(selectinload(SignRequestSigner.request))
            .order_by(SignRequest.created_at.desc(), SignRequest.id.desc())
        )
    )


def signer_for_account(account: PortalAccount, signer_id: int) -> SignRequestSigner:
    """One signer the account acts as, or NotFound."""
    signer = db.session.scalar(visible_to(account).where(SignRequestSigner.id == signer_id))
    if signer is None:
        raise NotFound(_("This sign request does not exist."))
    return signer


def signer_by_token(token: str | None) -> SignRequestSigner | None:
    """The signer of an emailed link, while it can still be used: None when the token is
    unknown, the signer finished, or the request is no longer open."""
    if not token or len(token) > 200:
        return None
    signer = db.session.scalar(
        select(SignRequestSigner).where(SignRequestSigner.token_hash == token_hash(token))
    )
    if signer is None or signer.is_done or not can_sign(signer):
        return None
    return signer


def is_past_expiry(request: SignRequest, now: datetime | None = None) -> bool:
    """Past its last day, even before the sweeper has marked it expired."""
    return request.expires_at <= (now or utcnow())


def can_sign(signer: SignRequestSigner, now: datetime | None = None) -> bool:
    """Whether the signer may sign now: the request open and not past its expiry, and the
    signer's turn come and not finished."""
    request = signer.request
    return request.is_open and not is_past_expiry(request, now) and signer.status in TURN_STATUSES


def pending_query(account: PortalAccount, now: datetime | None = None) -> Select[Any]:
    """How many requests wait for this account's signature, as a statement (the navigation
    asks it together with its other numbers)."""
    query = visible_to(account).where(
        SignRequest.status.in_((SignRequestStatus.SENT, SignRequestStatus.VIEWED)),
        SignRequest.expires_at > (now or utcnow()),
        SignRequestSigner.status.in_(TURN_STATUSES),
    )
    return select(func.count()).select_from(query.subquery())


def pending_count(account: PortalAccount, now: datetime | None = None) -> int:
    """Requests waiting for this account's signature (the badge and the home page)."""
    return int(db.session.scalar(pending_query(account, now)) or 0)
