"""A sign request everyone has signed becomes the signed PDF: each signature and field drawn at
its place, the audit trail appended, the whole sealed with the office's key, kept as a new
document of the record and emailed to every signer.

:func:`complete` runs in the transaction of the last signature. The sealed file goes to
storage before its row is flushed and is deleted again unless that transaction commits
(:func:`~app.storage.lifecycle.keep_if_committed`), and the completion emails are outbox
messages under fixed keys: a request retried after a failure, or completed twice, keeps one
file and sends each email once.
"""

from __future__ import annotations

import hashlib
from datetime import date, datetime
from io import BytesIO
from typing import IO
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import force_locale, format_date
from flask_babel import gettext as _
from sqlalchemy import select

from app import pdf
from app.services import document_access, documents, events, links, outbox, templates
from app.services.actors import Actor
from app.services.errors import NotFound, ValidationError
from app.services.signing import sending
from app.storage import UploadRule, clean_filename, storage
from app.storage.lifecycle import keep_if_committed
from app.storage.rules import MB
from models import (
    AccessAction,
    Document,
    DocumentKind,
    DocumentSource,
    JourneySession,
    RecordKind,
    SignerStatus,
    SignField,
    SignFieldKind,
    SignRequest,
    SignRequestSigner,
    SignRequestStatus,
    db,
    utcnow,
)

#: What the sealed PDF is stored under: a PDF, as large as a signed document gets.
SIGNED_PDF = UploadRule("signed documents", frozenset({"application/pdf"}), 200 * MB)
#: Largest file the staff *Verify a signed PDF* page reads.
MAX_VERIFY_BYTES = 25 * MB


def _zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["PORTICO_TIMEZONE"])


def office_day(moment: datetime) -> date:
    """The day ``moment`` falls on in the office's time zone."""
    return moment.astimezone(_zone()).date()


def date_text(day: date) -> str:
    """A day as the signed document shows it, in the office's language (whoever signed last)."""
    with force_locale(str(current_app.config.get("BABEL_DEFAULT_LOCALE") or "en")):
        return str(format_date(day, format="long"))


# -- reading the files -------------------------------------------------------------------------


def _read(document: Document | None) -> bytes:
    if document is None or document.kind != DocumentKind.FILE or not document.storage_key:
        raise NotFound(_("This document is not available."))
    handle: IO[bytes]
    with storage().open(document.storage_key) as handle:
        return handle.read()


def original_pdf_bytes(request: SignRequest) -> bytes:
    """The PDF sent for signing, as it was sent."""
    return _read(request.document)


def signed_pdf_bytes(request: SignRequest) -> bytes:
    """The sealed signed PDF, once the request is complete (NotFound before)."""
    return _read(request.signed_document)


# -- the signed PDF ----------------------------------------------------------------------------


def _placement(field: SignField, signer: SignRequestSigner) -> pdf.Placement | None:
    def at(
        value: str | None = None, image: bytes | None = None, typed: str | None = None
    ) -> pdf.Placement:
        return pdf.Placement(
            field.page,
            field.x,
            field.y,
            field.width,
            field.height,
            field.kind.value,
            value=value,
            image=image,
            typed=typed,
        )

    if field.kind == SignFieldKind.DATE_SIGNED:
        if field.value:
            return at(field.value)
        return at(date_text(office_day(signer.signed_at))) if signer.signed_at else None
    if field.kind == SignFieldKind.CHECKBOX:
        return at("1" if field.value == "1" else "")
    if field.kind == SignFieldKind.TEXT:
        return at(field.value) if field.value else None
    if field.kind == SignFieldKind.SIGNATURE:
        image, typed = signer.signature_image, signer.signature_text
    else:
        image, typed = signer.initials_image, signer.initials_text
    if image:
        return at(image=image)
    return at(typed=typed) if typed else None  # None: optional initials not given


def placements(request: SignRequest) -> list[pdf.Placement]:
    """What each signer put, where it goes."""
    signers = {signer.id: signer for signer in request.signers}
    found = (_placement(field, signers[field.signer_id]) for field in request.fields)
    return [placement for placement in found if placement is not None]


def audit_signers(request: SignRequest) -> list[pdf.AuditSigner]:
    return [
        pdf.AuditSigner(
            name=signer.name,
            email=signer.email,
            ip=signer.ip or signer.consent_ip,
            user_agent=signer.user_agent or signer.consent_user_agent,
            consented_at=signer.consented_at,
            disclosure_version=signer.disclosure.version if signer.disclosure else None,
            viewed_at=signer.viewed_at,
            signed_at=signer.signed_at,
            status=signer.status.label,
        )
        for signer in request.signers
    ]


def build_signed_pdf(request: SignRequest, completed_at: datetime) -> bytes:
    """The sealed signed PDF of a request whose signers have all signed."""
    original = original_pdf_bytes(request)
    if hashlib.sha256(original).hexdigest() != request.original_sha256:
        raise ValueError(f"sign request {request.id}: the stored original has changed")
    audit = pdf.audit_trail(
        request_id=request.id,
        title=request.title,
        original_sha256=request.original_sha256,
        signers=audit_signers(request),
        completed_at=completed_at,
        branding=pdf.office_branding(),
        timezone=str(current_app.config["PORTICO_TIMEZONE"]),
    )
    return pdf.seal(pdf.signed_pdf(original, placements(request), audit))


def _store(request: SignRequest, data: bytes) -> Document:
    stored = storage().put(BytesIO(data), SIGNED_PDF, field=None)
    keep_if_committed(stored.key)
    title = documents.clean_title(_("%(title)s (signed)", title=request.title))
    document = Document(
        record_id=request.record_id,
        kind=DocumentKind.FILE,
        title=title,
        storage_key=stored.key,
        filename=clean_filename(title, "pdf"),
        content_type=stored.content_type,
        size=stored.size,
        source=DocumentSource.STAFF,
    )
    db.session.add(document)
    return document


def _in_a_journey(request: SignRequest) -> bool:
    """Whether ``request`` is a journey's signature step (its visitor is emailed once, when
    the journey completes, not also here)."""
    found = db.session.scalar(
        select(JourneySession.id).where(JourneySession.sign_request_id == request.id).limit(1)
    )
    return found is not None


def complete(request: SignRequest) -> Document | None:
    """Everyone signed: seal the signed PDF, keep it on the record (shared with the client on
    a client record), mark the request *signed*, emit ``sign_request.completed`` and email
    each signer the PDF. A request already complete is left as it is; one where someone has
    not signed yet is not completed (None)."""
    if request.status == SignRequestStatus.SIGNED and request.signed_document is not None:
        return request.signed_document
    if not request.signers or any(s.status != SignerStatus.SIGNED for s in request.signers):
        return None
    now = utcnow()
    try:
        signed = build_signed_pdf(request, now)
    except (NotFound, ValueError):
        # The original's file is gone or no longer the one sent: nothing can be signed into
        # it. The signer is told in a sentence (their signature is not kept), not with a 500.
        raise ValidationError(
            _(
                "Your signature could not be completed: the document sent for signing is no "
                "longer available. Please contact your agent."
            )
        ) from None
    document = _store(request, signed)
    actor = Actor.system()
    record = request.record
    if record.kind == RecordKind.CLIENT:
        document.shared = True
        document.shared_at = now
    request.signed_document = document
    request.status = SignRequestStatus.SIGNED
    request.completed_at = now
    request.next_reminder_at = None
    db.session.flush()
    if document.shared:
        document_access.log(document, AccessAction.SHARED, actor)
    events.emit(
        "sign_request.completed",
        actor=actor,
        record=record,
        details={"subject": request.title, "sign_request": request.id, "document": document.title},
    )
    if _in_a_journey(request):
        return document  # the journey's completion email carries it, with the rest
    for signer in request.signers:
        outbox.send_template(
            "sign.completed",
            {
                **templates.base_context(record),
                "signer": signer.name,
                "title": request.title,
                "message": request.message,
                "sign_url": links.portal(),
                "expires_on": sending.expires_on(request).strftime("%d %B %Y"),
            },
            key=f"sign-completed:{request.id}:{signer.id}",
            to=signer.email,
            to_name=signer.name,
            record_id=record.id,
            attachment_document_id=document.id,
        )
    return document


# -- the staff Verify page ---------------------------------------------------------------------


def verify_upload(upload: documents.Upload) -> pdf.Verdict:
    """Whether an uploaded PDF is intact and sealed by this office; a file that is not a PDF,
    or is larger than :data:`MAX_VERIFY_BYTES`, is refused with a sentence."""
    data = upload.stream.read(MAX_VERIFY_BYTES + 1)
    if not data:
        raise ValidationError(_("Choose a PDF file to check."), field="file")
    if len(data) > MAX_VERIFY_BYTES:
        raise ValidationError(
            _("The file is larger than %(size)s MB.", size=MAX_VERIFY_BYTES // MB), field="file"
        )
    if not data.startswith(b"%PDF-"):
        raise ValidationError(_("This is not a PDF file."), field="file")
    return pdf.verify(data)
