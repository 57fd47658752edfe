"""A journey's signature step: a sign request made once per session from the step's saved
layout, on the session's record, its one signer the visitor (the record's primary applicant,
whose email the PIN proved). The visitor signs it on the journey's own pages, so nobody is
emailed a link: the request is sent (its signer's turn has come) without the "please sign"
email. :mod:`.visitors` re-exports :func:`sign_request_for` and says when the step is done
(``sign_done``).
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

from flask_babel import gettext as _

from app.services import documents
from app.services.errors import ValidationError
from app.services.journeys.progress import actor, check_open, log, step_def
from app.services.signing import requests as sign_requests
from app.services.signing.access import token_hash
from models import (
    JourneySession,
    SignerStatus,
    SignRequest,
    SignRequestSigner,
    SignRequestStatus,
    SignTemplate,
    StepKind,
    db,
    utcnow,
)


def _sign_step(session: JourneySession, index: int) -> dict[str, Any]:
    check_open(session)
    step = step_def(session, index)
    if step["kind"] != StepKind.SIGN.value:
        raise ValidationError(_("This step has nothing to sign."))
    return step


def _usable(request: SignRequest | None) -> bool:
    return request is not None and request.status in (
        SignRequestStatus.SENT,
        SignRequestStatus.VIEWED,
        SignRequestStatus.SIGNED,
    )


def sign_request_for(
    session: JourneySession, index: int, ip: str | None = None
) -> SignRequestSigner:
    """The visitor's signer of the session's request for sign step ``index``, made the first
    time (from the step's saved layout as the session's copy names it)."""
    step = _sign_step(session, index)
    request = session.sign_request
    if not _usable(request):
        request = _start(session, step)
        session.sign_request = request
        log(session, f"Document to sign prepared: {request.title}", ip)
        db.session.flush()
    assert request is not None
    return request.signers[0]


def _start(session: JourneySession, step: dict[str, Any]) -> SignRequest:
    template = db.session.get(SignTemplate, int(step.get("sign_template_id") or 0))
    if template is None:
        raise ValidationError(_("This document can no longer be signed: ask the office."))
    record = session.record
    assert record is not None, "a verified session has its record"
    request = sign_requests.start(
        record,
        actor=actor(session),
        title=template.title,
        message=template.message,
        signers=[sign_requests.SignerChoice(None)],
        in_order=True,
        expires_on=documents.office_today() + timedelta(days=template.expires_in_days),
        # The visitor signs now, on the journey's pages: no reminders by email.
        remind_every_days=None,
        template=template,
    )
    # Sent without the email: the signer's turn comes, with a link token of their own kept
    # only as a hash (the journey's pages know the signer; no link goes out).
    now = utcnow()
    request.status = SignRequestStatus.SENT
    request.next_reminder_at = None
    for signer in request.signers:
        # The visitor signs as the name they gave: the record's own name (its company, a
        # spouse's spelling) is the office's to know, never shown to whoever proves its email.
        signer.name = session.name[:200]
        signer.status = SignerStatus.SENT
        signer.notified_at = now
        signer.token_hash = token_hash(secrets.token_urlsafe(32))
    db.session.flush()
    return request


def check_signed(session: JourneySession, index: int) -> SignRequest:
    """Before sign step ``index`` is done: the session's request, signed by the visitor
    (ValidationError otherwise)."""
    _sign_step(session, index)
    request = session.sign_request
    if request is None or any(s.status != SignerStatus.SIGNED for s in request.signers):
        raise ValidationError(_("Sign the document first."))
    return request
