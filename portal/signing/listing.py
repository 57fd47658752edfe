"""The sign requests a client is asked to sign, as the incoming list (home, the Requests page,
the staff preview) and the signing page's heading describe them."""

from __future__ import annotations

from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app, g
from flask_babel import format_date
from flask_babel import gettext as _

from app.services.signing import access, sending
from models import SignerStatus, SignRequestSigner, SignRequestStatus, utcnow
from portal import bp, preview_bp


def _zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["PORTICO_TIMEZONE"])


def today() -> str:
    return format_date(utcnow().astimezone(_zone()).date())


def expires_on(signer: SignRequestSigner) -> str:
    day: date = sending.expires_on(signer.request)
    return format_date(day)


def sender(signer: SignRequestSigner) -> str:
    staff = signer.request.created_by
    return staff.full_name if staff is not None else ""


def status_words(signer: SignRequestSigner) -> str:
    """The signer's state as they read it."""
    if signer.status == SignerStatus.SIGNED:
        if signer.request.status == SignRequestStatus.SIGNED:
            return _("Signed by everyone")
        return _("Signed by you")
    if signer.status == SignerStatus.DECLINED:
        return _("You declined")
    if access.can_sign(signer):
        return _("Waiting for your signature")
    if signer.request.status == SignRequestStatus.DECLINED:
        return _("Declined by another signer")
    if signer.request.status == SignRequestStatus.CANCELLED:
        return _("Cancelled by the office")
    return _("Expired")


def incoming() -> list[SignRequestSigner]:
    """The signed-in client's sign requests (the portal's or the preview's account), once a
    request however often a page asks."""
    if "portal_signers" not in g:
        account = g.get("portal_account")
        g.portal_signers = access.signers_for_account(account) if account is not None else []
    return list(g.portal_signers)


def _describe() -> dict[str, Any]:
    """What the incoming list (home, the Requests page) uses."""
    return {
        "incoming_signatures": incoming,
        "signatures_to_sign": lambda: [s for s in incoming() if access.can_sign(s)],
        "sign_status": status_words,
        "sign_expires_on": expires_on,
        "sign_sender": sender,
        "sign_can_sign": access.can_sign,
    }


bp.context_processor(_describe)
preview_bp.context_processor(_describe)
