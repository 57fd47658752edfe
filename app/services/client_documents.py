"""The client's side of documents: what they see (the one rule), open, download and send.

What a client may see is decided in one place, :func:`visible_to_client`: shared, on a client
record (never a lead), not past its expiry day. Anything else is "not found" to the client,
so nothing tells them it exists. Every view and download is logged with its receipt; an ID
card's download is an event of its own. Client uploads need the portal setting "Allow
clients to share documents" and a client record.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from flask_babel import gettext as _
from sqlalchemy import Select, or_, select
from sqlalchemy.orm import joinedload

from app.services import document_access, documents, events
from app.services.actors import Actor
from app.services.errors import NotFound, ValidationError
from app.services.portal_settings import module_enabled
from models import (
    AccessAction,
    Document,
    DocumentCategory,
    DocumentKind,
    DocumentSource,
    PortalAccount,
    Record,
    RecordKind,
    db,
)

Upload = documents.Upload


def client_upload(
    account: PortalAccount, uploads: Sequence[Upload], note: str | None
) -> list[Document]:
    """A client's files, with their note, on their record: unshared (the client sees them in
    "sent by you"), new in the staff inbox until marked seen, one event for the batch.
    Refused when the office has not switched client uploads on, or the record is a lead."""
    record = account.record
    if not module_enabled("uploads") or record.kind != RecordKind.CLIENT:
        raise NotFound(_("This page does not exist."))
    text = (note or "").strip()
    if len(text) > 2000:
        raise ValidationError(_("Keep the note under 2,000 characters."), field="note")
    actor = Actor.client(account)
    kept = documents.store_all(record, uploads, field="files")
    for document in kept:
        document.source = DocumentSource.CLIENT
        document.uploaded_by_account_id = account.id
        document.client_note = text or None
    db.session.flush()
    for document in kept:
        document_access.log(document, AccessAction.UPLOADED, actor)
    titles = [document.filename or document.title for document in kept]
    events.emit(
        "portal.document.uploaded",
        actor=actor,
        record=record,
        details={"documents": titles, "subject": _summary(titles), "message": text},
    )
    return kept


def _summary(titles: Sequence[str]) -> str:
    text = ", ".join(titles[:5])
    return text + (f" and {len(titles) - 5} more" if len(titles) > 5 else "")


def visible_to_client(record_id: int, today: date | None = None) -> Select[Document]:
    """The one rule of what a client sees: shared, on a client record, not expired."""
    today = today or documents.office_today()
    return (
        select(Document)
        .join(Record, Record.id == Document.record_id)
        .where(
            Document.record_id == record_id,
            Record.kind == RecordKind.CLIENT,
            Document.shared.is_(True),
            or_(Document.share_expires_on.is_(None), Document.share_expires_on >= today),
        )
    )


def shared_with(account: PortalAccount) -> list[Document]:
    """What the client of ``account`` sees on their Documents page, newest share first."""
    return list(
        db.session.scalars(
            visible_to_client(account.record_id)
            .options(joinedload(Document.category), joinedload(Document.product))
            .order_by(Document.shared_at.desc(), Document.id.desc())
        )
    )


def id_cards(account: PortalAccount) -> list[Document]:
    """The client's ID cards (shared files of an ID-card category), for the home page."""
    return list(
        db.session.scalars(
            visible_to_client(account.record_id)
            .join(DocumentCategory, DocumentCategory.id == Document.category_id)
            .where(DocumentCategory.is_id_card.is_(True), Document.kind == DocumentKind.FILE)
            .options(joinedload(Document.product))
            .order_by(Document.shared_at.desc(), Document.id.desc())
        )
    )


def sent_by(account: PortalAccount) -> list[Document]:
    """What this person sent the office (their uploads), newest first. Only theirs: a contact
    person with portal access of their own is on the same record, and neither reads the names
    and notes the other sent."""
    if account.record.kind != RecordKind.CLIENT:
        return []
    return list(
        db.session.scalars(
            select(Document)
            .where(
                Document.record_id == account.record_id,
                Document.source == DocumentSource.CLIENT,
                Document.uploaded_by_account_id == account.id,
            )
            .order_by(Document.created_at.desc(), Document.id.desc())
        )
    )


def for_client(account: PortalAccount, document_id: int) -> Document:
    """A document the client of ``account`` may open, or NotFound (for every other reason:
    another client's, a lead's, unshared, expired, deleted)."""
    document = db.session.scalar(
        visible_to_client(account.record_id)
        .where(Document.id == document_id)
        .options(joinedload(Document.category), joinedload(Document.product))
    )
    if document is None:
        raise NotFound(_("This document is not available."))
    return document


def opened_by_client(account: PortalAccount, document_id: int, *, inline: bool = False) -> Document:
    """The client opens (``inline``: in the browser) or downloads a document: logged, the
    receipt set, and an event (an ID card's download is its own event). Returns the
    document; the view answers with its file (:func:`download`) or its link."""
    document = for_client(account, document_id)
    actor = Actor.client(account)
    viewing = (inline and document.content_type in documents.INLINE_TYPES) or (
        document.kind == DocumentKind.LINK
    )
    document_access.log(
        document, AccessAction.VIEWED if viewing else AccessAction.DOWNLOADED, actor
    )
    is_card = document.category is not None and document.category.is_id_card
    events.emit(
        "portal.id_card.downloaded" if is_card else "portal.document.downloaded",
        actor=actor,
        record=account.record,
        details={
            "document": document.title,
            "document_id": document.id,
            "product": str(document.product) if document.product else None,
        },
    )
    return document
