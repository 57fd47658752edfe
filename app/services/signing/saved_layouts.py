"""Saved layouts: a request's PDF and its fields kept as a template ("Broker of record
letter"), for new requests and the workflow action "Send sign request". A layout names its
signers by part (primary applicant, co-applicant), found again on each record it is used for.
"""

from __future__ import annotations

import io

from flask_babel import gettext as _
from sqlalchemy import select

from app.services import documents
from app.services.actors import Actor
from app.services.errors import ValidationError
from app.services.signing import pdf_files
from app.storage import storage
from app.storage.lifecycle import delete_after_commit, keep_if_committed
from models import (
    ContactRole,
    SignerRole,
    SignRequest,
    SignTemplate,
    db,
)

MAX_NAME = 120


def _clean_name(name: str | None, *, keep: SignTemplate | None = None) -> str:
    text = documents.clean_title(name)
    if not text:
        raise ValidationError(_("Name the saved layout."), field="name")
    if len(text) > MAX_NAME:
        raise ValidationError(_("Keep the name under 120 characters."), field="name")
    same = db.session.scalar(select(SignTemplate).where(SignTemplate.name == text))
    if same is not None and same is not keep:
        raise ValidationError(
            _("A saved layout is called %(name)s already: choose another name.", name=text),
            field="name",
        )
    return text


def _roles(request: SignRequest) -> list[str]:
    roles = []
    for signer in request.signers:
        if signer.contact_id is None:
            roles.append(SignerRole.PRIMARY.value)
        elif signer.contact is not None and signer.contact.role == ContactRole.CO_APPLICANT:
            roles.append(SignerRole.CO_APPLICANT.value)
        else:
            raise ValidationError(
                _("Saved layouts are for the primary applicant and co-applicant."),
                field="save_as_template",
            )
    return roles


def save_from_request(request: SignRequest, name: str | None, *, actor: Actor) -> SignTemplate:
    """Keep ``request``'s PDF (a copy of its own) and fields as a saved layout called
    ``name``. Only the primary applicant and the co-applicant can be named by a layout."""
    label = _clean_name(name)
    roles = _roles(request)
    document = request.document
    data = pdf_files.original_bytes(request)
    stored = storage().put(io.BytesIO(data), documents.upload_rule(), field="file")
    keep_if_committed(stored.key)
    days = (request.expires_at - request.created_at).days if request.created_at else 30
    template = SignTemplate(
        name=label,
        title=request.title,
        message=request.message,
        storage_key=stored.key,
        filename=(document.filename if document else None) or "document.pdf",
        sha256=request.original_sha256,
        pages=request.pages,
        signer_roles=roles,
        fields=[
            {
                "page": f.page,
                "x": f.x,
                "y": f.y,
                "width": f.width,
                "height": f.height,
                "kind": f.kind.value,
                "signer": f.signer.position,
                "required": f.required,
                "label": f.label,
            }
            for f in request.fields
        ],
        in_order=request.in_order,
        expires_in_days=min(max(days, 1), 365),
        remind_every_days=request.remind_every_days,
        created_by_id=actor.user_id,
    )
    db.session.add(template)
    db.session.flush()
    return template


def rename(template: SignTemplate, name: str | None) -> SignTemplate:
    template.name = _clean_name(name, keep=template)
    db.session.flush()
    return template


def delete(template: SignTemplate) -> None:
    """Delete a saved layout; its PDF goes from storage once committed. Requests made from it
    keep their own copy."""
    delete_after_commit(template.storage_key)
    db.session.delete(template)
    db.session.flush()


def all_layouts() -> list[SignTemplate]:
    """Every saved layout, by name."""
    return list(db.session.scalars(select(SignTemplate).order_by(SignTemplate.name)))
