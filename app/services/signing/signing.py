"""The signer's intents: open the request (:func:`view`), agree to sign electronically
(:func:`consent`), keep a half-finished signing (:func:`save_draft`), sign (:func:`finish`) or
decline (:func:`decline`); and the one-time code that opens an emailed link
(:func:`send_code`, :func:`check_code`).

Each acts once: a signer who signed or declined, a request that was declined, cancelled or
has expired (even before the sweeper marks it), and a signer whose turn has not come are
refused. :func:`finish` and :func:`decline` lock the request's row first, so two signers
finishing at the same moment are taken one after the other: the second sees the first's
signature, and the last one completes the request exactly once.

Who acts: :func:`signer_actor` is the signer's own portal account (the primary applicant's,
or the contact person's) when it has one, so the activity log names the same person however
they came; a signer without an account is a client actor named after the signer.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select

from app.services import events, links, one_time_codes, templates
from app.services.actors import CLIENT, Actor
from app.services.errors import ValidationError
from app.services.signing import completion, disclosures, sending
from app.services.signing.access import can_sign, is_past_expiry
from app.services.signing.signing_checks import (
    SignatureInput,
    check_signature,
    clean_draft,
    clean_values,
)
from app.services.validation import check_multi_line
from models import (
    Channel,
    PortalAccount,
    SignerStatus,
    SignFieldKind,
    SignRequestSigner,
    SignRequestStatus,
    db,
    utcnow,
)

__all__ = [
    "SignatureInput",
    "check_code",
    "consent",
    "decline",
    "finish",
    "save_draft",
    "send_code",
    "signer_actor",
    "view",
]

#: Longest reason for declining.
MAX_REASON = 2000
#: Codes sent for one signer's emailed link, at most.
CODE_RATE = "5 per hour"
#: A browser's user agent is cut to the column's size.
_UA = 400


def signer_actor(signer: SignRequestSigner) -> Actor:
    """The signer as the one who acts: their portal account when they have one, otherwise
    a client actor named after the signer (an emailed link opened with a one-time code)."""
    person = (
        PortalAccount.contact_id.is_(None)
        if signer.contact_id is None
        else PortalAccount.contact_id == signer.contact_id
    )
    account = db.session.scalar(
        select(PortalAccount).where(PortalAccount.record_id == signer.request.record_id, person)
    )
    if account is not None:
        return Actor.client(account)
    return Actor(CLIENT, signer.name, email=signer.email, is_primary=signer.contact_id is None)


def _details(signer: SignRequestSigner, **more: Any) -> dict[str, Any]:
    request = signer.request
    return {
        "subject": request.title,
        "sign_request": request.id,
        "signer": signer.name,
        **more,
    }


def _refusal(signer: SignRequestSigner) -> ValidationError | None:
    """Why the signer cannot act now, as a sentence; None when they can."""
    request = signer.request
    if signer.status == SignerStatus.SIGNED:
        return ValidationError(_("You have already signed this document."))
    if signer.status == SignerStatus.DECLINED:
        return ValidationError(_("You declined to sign this document."))
    if request.status == SignRequestStatus.EXPIRED or (request.is_open and is_past_expiry(request)):
        return ValidationError(_("This sign request has expired."))
    if request.status == SignRequestStatus.DECLINED:
        return ValidationError(_("This sign request was declined: it can no longer be signed."))
    if request.status == SignRequestStatus.CANCELLED:
        return ValidationError(_("This sign request was cancelled."))
    if signer.status == SignerStatus.WAITING:
        return ValidationError(_("It is not your turn to sign yet."))
    if not can_sign(signer):
        return ValidationError(_("This document can no longer be signed."))
    return None


def _check_can_act(signer: SignRequestSigner) -> None:
    refusal = _refusal(signer)
    if refusal is not None:
        raise refusal


def _lock(signer: SignRequestSigner) -> None:
    sending.lock(signer.sign_request_id)


def _origin(ip: str | None, user_agent: str | None) -> tuple[str | None, str | None]:
    return (ip or None) and ip[:45], (user_agent or None) and user_agent[:_UA]


# -- intents -----------------------------------------------------------------------------------


def view(
    signer: SignRequestSigner, *, actor: Actor, ip: str | None, user_agent: str | None
) -> None:
    """The signer opened the request: the first time, the view time is kept, signer and
    request become *viewed* and ``portal.sign_request.viewed`` is emitted. Later views, and
    views of a request that cannot be signed, change nothing."""
    if signer.viewed_at is not None or not can_sign(signer):
        return
    signer.viewed_at = utcnow()
    signer.status = SignerStatus.VIEWED
    request = signer.request
    if request.status == SignRequestStatus.SENT:
        request.status = SignRequestStatus.VIEWED
    db.session.flush()
    events.emit(
        "portal.sign_request.viewed", actor=actor, record=request.record, details=_details(signer)
    )


def consent(
    signer: SignRequestSigner,
    *,
    agreed: bool,
    disclosure_version: int | None,
    actor: Actor,
    ip: str | None,
    user_agent: str | None,
) -> None:
    """The signer agreed to the Electronic Record and Signature Disclosure they were shown:
    its version must be the current one (it may have changed while they read)."""
    _check_can_act(signer)
    if not agreed:
        raise ValidationError(
            _(
                "Tick the box to confirm that you have read and understood the Electronic "
                "Record and Signature Disclosure."
            ),
            field="consent",
        )
    current = disclosures.current()
    if disclosure_version != current.version:
        raise ValidationError(_("The disclosure changed: read it again."), field="consent")
    if signer.viewed_at is None:
        view(signer, actor=actor, ip=ip, user_agent=user_agent)
    signer.consented_at = utcnow()
    signer.disclosure_id = current.id
    signer.disclosure = current
    signer.consent_ip, signer.consent_user_agent = _origin(ip, user_agent)
    db.session.flush()


def save_draft(signer: SignRequestSigner, data: Mapping[str, Any]) -> dict[str, Any]:
    """Keep what the signer filled in so far (their own fields' values, the signature and
    initials so far), replacing the previous draft; returns what was kept."""
    _check_can_act(signer)
    signer.draft = clean_draft(_own_fields(signer), data)
    db.session.flush()
    return signer.draft


def _own_fields(signer: SignRequestSigner) -> list[Any]:
    return [field for field in signer.request.fields if field.signer_id == signer.id]


def finish(
    signer: SignRequestSigner,
    *,
    values: Mapping[Any, object],
    signature: SignatureInput | None,
    initials: SignatureInput | None = None,
    actor: Actor,
    ip: str | None,
    user_agent: str | None,
) -> None:
    """The signer signs: refused without consent, when they cannot sign now, with a required
    field empty, or with a signature (or initials) that is not acceptable. Then the signer is
    *signed*, their link and draft are gone, ``portal.sign_request.signed`` is emitted, and
    the next signer in order is told; when everyone has signed, the request completes
    (:func:`completion.complete`) in the same transaction."""
    _lock(signer)
    _check_can_act(signer)
    if signer.consented_at is None:
        raise ValidationError(
            _("Agree to the Electronic Record and Signature Disclosure first."), field="consent"
        )
    fields = _own_fields(signer)
    kinds = {field.kind for field in fields}
    mark = check_signature(signature)
    if mark is None:
        raise ValidationError(_("Draw or type your signature."), field="signature")
    small = check_signature(initials, initials=True)
    if small is None and any(f.kind == SignFieldKind.INITIALS and f.required for f in fields):
        raise ValidationError(_("Add your initials."), field="initials")
    filled = clean_values(fields, values)

    now = utcnow()
    if signer.viewed_at is None:
        view(signer, actor=actor, ip=ip, user_agent=user_agent)
    signer.signature_style = mark.style
    signer.signature_image, signer.signature_text = mark.image, mark.text
    if small is not None and SignFieldKind.INITIALS in kinds:
        signer.initials_image, signer.initials_text = small.image, small.text
    for field in fields:
        if field.id in filled:
            field.value = filled[field.id]
        elif field.kind == SignFieldKind.DATE_SIGNED:
            field.value = completion.date_text(completion.office_day(now))
    signer.signed_at = now
    signer.ip, signer.user_agent = _origin(ip, user_agent)
    signer.status = SignerStatus.SIGNED
    signer.token_hash = None
    signer.draft = {}
    db.session.flush()
    request = signer.request
    events.emit(
        "portal.sign_request.signed", actor=actor, record=request.record, details=_details(signer)
    )
    if all(other.status == SignerStatus.SIGNED for other in request.signers):
        completion.complete(request)
    elif request.in_order:
        sending.notify_next(request)


def decline(
    signer: SignRequestSigner,
    *,
    reason: str | None,
    actor: Actor,
    ip: str | None,
    user_agent: str | None,
) -> None:
    """The signer declines, saying why: the request is *declined*, every other signer who had
    not finished is *cancelled*, no link works any more, ``portal.sign_request.declined`` is
    emitted (the agent hears, with a task)."""
    text = (reason or "").replace("\r\n", "\n").strip()
    if not text:
        raise ValidationError(_("Say why you decline to sign."), field="reason")
    if len(text) > MAX_REASON:
        raise ValidationError(
            _("Keep the reason under %(count)s characters.", count=f"{MAX_REASON + 1:,}"),
            field="reason",
        )
    try:
        check_multi_line(text)
    except ValidationError as error:
        raise ValidationError(error.message, field="reason") from error
    _lock(signer)
    _check_can_act(signer)
    now = utcnow()
    request = signer.request
    signer.status = SignerStatus.DECLINED
    signer.declined_at = now
    signer.decline_reason = text
    signer.ip, signer.user_agent = _origin(ip, user_agent)
    for other in request.signers:
        other.token_hash = None
        other.draft = {}
        if other is not signer and not other.is_done:
            other.status = SignerStatus.CANCELLED
    request.status = SignRequestStatus.DECLINED
    request.next_reminder_at = None
    db.session.flush()
    events.emit(
        "portal.sign_request.declined",
        actor=actor,
        record=request.record,
        details=_details(signer, reason=text),
    )


# -- the emailed link's one-time code ----------------------------------------------------------


def _purpose(signer: SignRequestSigner) -> str:
    """A code's purpose names no colon (it separates purpose and address in the key)."""
    return f"sign-{signer.id}"


def _address(signer: SignRequestSigner) -> str:
    address = one_time_codes.normalise_address(Channel.EMAIL, signer.email)
    if address is None:
        raise ValidationError(_("This signer has no email address we can send a code to."))
    return address


def send_code(signer: SignRequestSigner) -> None:
    """Email the signer a one-time code that opens their link (at most :data:`CODE_RATE`
    for one signer: :class:`~app.services.one_time_codes.TooManyCodes` past it)."""
    _check_can_act(signer)
    address = _address(signer)
    one_time_codes.spend(one_time_codes.Limit("sign-code", CODE_RATE, str(signer.id)))
    request = signer.request
    one_time_codes.issue(
        _purpose(signer),
        Channel.EMAIL,
        address,
        template="sign.code",
        context={
            **templates.base_context(request.record),
            "signer": signer.name,
            "title": request.title,
            "message": request.message,
            "sign_url": links.portal(),
            "expires_on": sending.expires_on(request).strftime("%d %B %Y"),
        },
        record_id=request.record_id,
        to_name=signer.name,
    )


def check_code(signer: SignRequestSigner, code: str | None) -> bool:
    """Whether ``code`` is the signer's live code (used up when right). Every call counts a
    try: commit even when it answers False."""
    if not can_sign(signer):
        return False
    return one_time_codes.check(_purpose(signer), Channel.EMAIL, _address(signer), code or "")
