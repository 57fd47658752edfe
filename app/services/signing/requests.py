"""Sign requests, the staff side: start a draft from a PDF (uploaded, a document of the
record, or a saved layout), place the fields (or add a signature page in one click), send,
remind, cancel. Sending and the emails are in :mod:`.sending`; this module re-exports its
intents, so views call ``sign_requests.send(...)``.

A request is a DRAFT while staff place its fields: no signer has a link or an email, and the
portal never shows it. Every function flushes; the caller commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.services import conversations, documents
from app.services.actors import Actor
from app.services.errors import NotFound, ValidationError
from app.services.signing import layouts, pdf_files
from app.services.signing.sending import (
    cancel,
    end_of_day,
    expires_on,
    notify_next,
    remind_now,
    send,
)
from models import (
    ContactRole,
    Document,
    Record,
    SignerRole,
    SignerStatus,
    SignField,
    SignRequest,
    SignRequestSigner,
    SignRequestStatus,
    SignTemplate,
    db,
)

__all__ = [
    "SignerChoice",
    "add_signature_page",
    "cancel",
    "discard",
    "eligible_signers",
    "expires_on",
    "for_record",
    "get_for_staff",
    "notify_next",
    "place_fields",
    "remind_now",
    "send",
    "send_from_template",
    "start",
]

#: How far ahead a request may expire.
MAX_DAYS = 365
#: Automatic reminders: every 1 to 30 days.
REMIND_DAYS = range(1, 31)


@dataclass(frozen=True)
class SignerChoice:
    """One of the record's people: ``contact_id`` None is the primary applicant."""

    contact_id: int | None = None


def eligible_signers(record: Record) -> list[tuple[SignerChoice, str, str | None]]:
    """Who may sign for ``record``: the primary applicant, the co-applicant, then the contact
    persons, with their name and email (None: no email, so they cannot be asked)."""
    people: list[tuple[SignerChoice, str, str | None]] = [
        (SignerChoice(None), record.full_name, record.email or None)
    ]
    contacts = sorted(
        record.contacts,
        key=lambda c: (c.role != ContactRole.CO_APPLICANT, c.last_name, c.first_name, c.id),
    )
    people += [(SignerChoice(c.id), c.full_name, c.email or None) for c in contacts]
    return people


def role_of(record: Record, choice: SignerChoice) -> SignerRole | None:
    """The part a signer plays (a saved layout names signers by part); None for a contact
    person."""
    if choice.contact_id is None:
        return SignerRole.PRIMARY
    for contact in record.contacts:
        if contact.id == choice.contact_id and contact.role == ContactRole.CO_APPLICANT:
            return SignerRole.CO_APPLICANT
    return None


# -- starting -----------------------------------------------------------------------------------


def _signers(record: Record, chosen: list[SignerChoice]) -> list[tuple[SignerChoice, str, str]]:
    if not chosen:
        raise ValidationError(_("Choose at least one signer."), field="signers")
    if len(set(chosen)) != len(chosen):
        raise ValidationError(_("Choose each signer once."), field="signers")
    known = {choice: (name, email) for choice, name, email in eligible_signers(record)}
    people = []
    for choice in chosen:
        if choice not in known:
            raise ValidationError(_("Choose signers from this record's people."), field="signers")
        name, email = known[choice]
        if not email:
            raise ValidationError(
                _("%(name)s has no email address: add one to ask them to sign.", name=name),
                field="signers",
            )
        people.append((choice, name, email))
    return people


def _check_dates(expires_on: date, remind_every_days: int | None) -> None:
    today = documents.office_today()
    if expires_on < today:
        raise ValidationError(_("Choose an expiry date from today on."), field="expires_on")
    if expires_on > today + timedelta(days=MAX_DAYS):
        raise ValidationError(_("Choose an expiry date within a year."), field="expires_on")
    if remind_every_days is not None and remind_every_days not in REMIND_DAYS:
        raise ValidationError(
            _("Remind every 1 to 30 days, or not at all."), field="remind_every_days"
        )


def _template_fields(
    record: Record, template: SignTemplate, chosen: list[SignerChoice], pages: list[list[float]]
) -> list[layouts.FieldSpec]:
    """The saved layout's fields, their signers found by part among the chosen signers."""
    roles = [role_of(record, choice) for choice in chosen]
    specs = layouts.parse_fields(
        template.fields, pages=pages, signer_count=len(template.signer_roles)
    )
    mapped = []
    for spec in specs:
        role = SignerRole(template.signer_roles[spec.signer])
        if role not in roles:
            raise ValidationError(
                _(
                    "The saved layout %(name)s has fields for the %(role)s: choose them as a "
                    "signer.",
                    name=template.name,
                    role=role.label.lower(),
                ),
                field="signers",
            )
        mapped.append(layouts.FieldSpec(**{**spec.__dict__, "signer": roles.index(role)}))
    return mapped


def start(
    record: Record,
    *,
    actor: Actor,
    title: str | None,
    message: str | None,
    signers: list[SignerChoice],
    in_order: bool,
    expires_on: date,
    remind_every_days: int | None,
    upload: documents.Upload | None = None,
    document: Document | None = None,
    template: SignTemplate | None = None,
) -> SignRequest:
    """A new DRAFT request on ``record`` from exactly one PDF: an ``upload`` (kept as a new,
    unshared document of the record), an existing PDF ``document`` of the record, or a saved
    layout's PDF (copied to the record, its fields placed for the chosen signers)."""
    name = documents.clean_title(title)
    if not name:
        raise ValidationError(_("Give the document a title."), field="title")
    text = conversations.clean_body(message, required=False)
    people = _signers(record, signers)
    _check_dates(expires_on, remind_every_days)
    if sum(source is not None for source in (upload, document, template)) != 1:
        raise ValidationError(
            _("Choose one PDF: upload a file, or pick a document or a saved layout."),
            field="file",
        )
    if upload is not None:
        data = pdf_files.read_upload(upload)
        info = pdf_files.inspect(data)
        document = pdf_files.new_document(
            record, data, upload.filename, added_by_id=actor.user_id, title=name
        )
    elif document is not None:
        data = pdf_files.existing(record, document)
        info = pdf_files.inspect(data)
    else:
        assert template is not None
        data = pdf_files.read(template.storage_key)
        info = pdf_files.inspect(data)
    pages = [list(size) for size in info.pages]
    fields = _template_fields(record, template, signers, pages) if template else []
    if template is not None:
        document = pdf_files.new_document(
            record, data, template.filename, added_by_id=actor.user_id, title=name
        )
    request = SignRequest(
        record_id=record.id,
        record=record,
        title=name,
        message=text,
        status=SignRequestStatus.DRAFT,
        document=document,
        original_sha256=info.sha256,
        pages=pages,
        in_order=in_order,
        template_id=template.id if template else None,
        expires_at=end_of_day(expires_on),
        remind_every_days=remind_every_days,
        created_by_id=actor.user_id,
    )
    db.session.add(request)
    for position, (choice, person, email) in enumerate(people):
        request.signers.append(
            SignRequestSigner(
                position=position,
                contact_id=choice.contact_id,
                name=person[:200],
                email=email,
                status=SignerStatus.WAITING,
            )
        )
    db.session.flush()
    _put_fields(request, fields)
    return request


def _put_fields(request: SignRequest, specs: list[layouts.FieldSpec]) -> list[SignField]:
    request.fields.clear()
    db.session.flush()
    placed = [
        SignField(
            request=request,
            signer=request.signers[spec.signer],
            page=spec.page,
            x=spec.x,
            y=spec.y,
            width=spec.width,
            height=spec.height,
            kind=spec.kind,
            required=spec.required,
            label=spec.label,
        )
        for spec in specs
    ]
    db.session.add_all(placed)
    db.session.flush()
    db.session.refresh(request, ["fields"])
    return placed


def _check_draft(request: SignRequest) -> None:
    if request.status != SignRequestStatus.DRAFT:
        raise ValidationError(_("This sign request was sent: its fields can no longer change."))


def place_fields(
    request: SignRequest, raw_fields: list[dict[str, object]] | str
) -> list[SignField]:
    """Replace the draft's fields with ``raw_fields`` (as the field placer posts them)."""
    _check_draft(request)
    specs = layouts.parse_fields(raw_fields, pages=request.pages, signer_count=len(request.signers))
    return _put_fields(request, specs)


def add_signature_page(request: SignRequest) -> None:
    """Append a "Signatures" page to the draft's PDF, a line for each signer with their
    signature and date-signed fields on it. The longer PDF becomes a new document of the
    record (the one before stays); fields placed before are kept."""
    _check_draft(request)
    original = pdf_files.original_bytes(request)
    page, places = pdf_files.signature_page(request.title, [s.name for s in request.signers])
    data = pdf_files.append_page(original, page)
    info = pdf_files.inspect(data)
    before = len(request.pages)
    previous = request.document
    assert previous is not None
    document = pdf_files.new_document(
        request.record,
        data,
        previous.filename,
        added_by_id=request.created_by_id,
        title=request.title,
    )
    request.document = document
    request.original_sha256 = info.sha256
    request.pages = [list(size) for size in info.pages]
    for place in places:
        db.session.add(
            SignField(
                request=request,
                signer=request.signers[place.signer],
                page=before + place.page,
                x=place.x,
                y=place.y,
                width=place.width,
                height=place.height,
                kind=place.kind,
                required=True,
                label="",
            )
        )
    db.session.flush()
    db.session.refresh(request, ["fields"])


def discard(request: SignRequest) -> None:
    """Delete a draft (its PDF stays on the record as a document)."""
    if request.status != SignRequestStatus.DRAFT:
        raise ValidationError(_("Only a draft can be discarded; cancel a sent request."))
    db.session.delete(request)
    db.session.flush()


def send_from_template(template: SignTemplate, record: Record, *, actor: Actor) -> SignRequest:
    """Start and send a request from a saved layout in one step (the workflow action): its
    signers by part (primary applicant, co-applicant), expiring ``expires_in_days`` from today.
    A part the record lacks, or a signer without email, is refused with a sentence."""
    chosen = []
    for value in template.signer_roles:
        role = SignerRole(value)
        if role == SignerRole.PRIMARY:
            chosen.append(SignerChoice(None))
            continue
        co = next((c for c in record.contacts if c.role == ContactRole.CO_APPLICANT), None)
        if co is None:
            raise ValidationError(
                _(
                    "%(record)s has no co-applicant, and the saved layout %(name)s needs one.",
                    record=record.display_name,
                    name=template.name,
                )
            )
        chosen.append(SignerChoice(co.id))
    request = start(
        record,
        actor=actor,
        title=template.title,
        message=template.message,
        signers=chosen,
        in_order=template.in_order,
        expires_on=documents.office_today() + timedelta(days=template.expires_in_days),
        remind_every_days=template.remind_every_days,
        template=template,
    )
    send(request, actor=actor)
    return request


# -- reading ------------------------------------------------------------------------------------


def for_record(record: Record) -> list[SignRequest]:
    """Every request of ``record`` (drafts included), newest first, for staff."""
    return list(
        db.session.scalars(
            select(SignRequest)
            .where(SignRequest.record_id == record.id)
            .options(selectinload(SignRequest.signers))
            .order_by(SignRequest.created_at.desc(), SignRequest.id.desc())
        )
    )


def get_for_staff(request_id: int) -> SignRequest:
    """The request with ``request_id``, or NotFound."""
    found = db.session.get(SignRequest, request_id)
    if found is None:
        raise NotFound(_("This sign request does not exist."))
    return found
