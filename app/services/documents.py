"""Documents on a record: files staff or the client upload, and website links.

A file goes to storage (its type sniffed from its bytes, its size checked against
``PORTICO_DOCUMENT_MAX_MB``) before its row is flushed, and is deleted again if the
transaction does not commit (:mod:`app.storage.lifecycle`): an upload refused half-way, or a
batch of which one file is refused, leaves nothing behind and changes nothing already kept.
Sharing, notices and expiry are in :mod:`app.services.document_sharing`; who opened what, in
:mod:`app.services.document_access`.

What a client may see is decided in one place, :func:`visible_to_client`: shared, on a client
record (never a lead), not past its expiry day. Anything else is "not found" to the client,
so nothing tells them it exists.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import IO
from urllib.parse import SplitResult, urlsplit
from zoneinfo import ZoneInfo

from flask import Response, current_app
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from app.services import document_access
from app.services.actors import Actor
from app.services.errors import NotFound, ValidationError
from app.services.validation import check_single_line, visible
from app.storage import DOCUMENTS, UploadRule, clean_filename, storage
from app.storage.lifecycle import delete_after_commit, keep_if_committed
from models import (
    AccessAction,
    Document,
    DocumentCategory,
    DocumentKind,
    DocumentSource,
    Product,
    Record,
    SignRequest,
    SignRequestStatus,
    db,
    utcnow,
)

#: Extensions a plain-text file keeps; any other name gets ".txt" added.
TEXT_EXTENSIONS = frozenset({"txt", "csv", "tsv", "log", "md"})
#: Files one upload request may carry (each within the size limit).
MAX_FILES = 10
#: Sign requests whose document must stay: being prepared, or out for signature.
SIGNING = (SignRequestStatus.DRAFT, SignRequestStatus.SENT, SignRequestStatus.VIEWED)
#: Types a browser shows itself: only these may be opened in the browser; the rest download.
INLINE_TYPES = frozenset({"application/pdf", "image/png", "image/jpeg", "image/gif", "image/webp"})


@dataclass(frozen=True)
class Upload:
    """One file of an upload: its stream and the name the person's computer gave it."""

    stream: IO[bytes]
    filename: str | None


def upload_rule() -> UploadRule:
    """What a document upload accepts: the documents' types, the office's size limit."""
    return DOCUMENTS.with_max_bytes(int(current_app.config["PORTICO_DOCUMENT_MAX_MB"]) << 20)


def office_today() -> date:
    """Today in the office's time zone: a share "until 3 March" lasts all of 3 March there."""
    return datetime.now(ZoneInfo(current_app.config["PORTICO_TIMEZONE"])).date()


def categories() -> list[DocumentCategory]:
    """The active categories, in the admin's order."""
    return list(
        db.session.scalars(
            select(DocumentCategory)
            .where(DocumentCategory.active.is_(True))
            .order_by(DocumentCategory.position, DocumentCategory.name)
        )
    )


# -- adding ------------------------------------------------------------------------------------


def clean_title(text: str | None) -> str:
    """A title as typed, made safe to show: no direction-changing or other invisible format
    characters (they reorder what a reader sees), spaces collapsed, at most 200 characters;
    a line break or control character is refused."""
    shown = visible(text)
    try:
        check_single_line(shown)
    except ValidationError as error:
        raise ValidationError(error.message, field="title") from error
    return " ".join(shown.split())[:200]


def _display_name(filename: str | None, extension: str, content_type: str) -> str:
    if content_type == "text/plain":
        given = (filename or "").rpartition(".")[2].lower()
        return clean_filename(filename, given if given in TEXT_EXTENSIONS else "txt")
    return clean_filename(filename, extension)


def store_all(
    record: Record, uploads: Sequence[Upload], *, field: str, title: str | None = None
) -> list[Document]:
    """Put each file in storage and return their rows (added, not flushed). The first file
    refused raises ValidationError naming it, and the files of the batch already put are
    deleted at once: a refused batch keeps nothing, whatever the caller then commits."""
    check_count(uploads)
    rule = upload_rule()
    kept: list[Document] = []
    try:
        for upload in uploads:
            try:
                stored = storage().put(upload.stream, rule, field=field)
            except ValidationError as error:
                name = clean_filename(upload.filename)
                raise ValidationError(f"{name}: {error.message}", field=field) from error
            keep_if_committed(stored.key)
            name = _display_name(upload.filename, stored.extension, stored.content_type)
            kept.append(
                Document(
                    record_id=record.id,
                    kind=DocumentKind.FILE,
                    title=clean_title(title) or name.rpartition(".")[0] or name,
                    storage_key=stored.key,
                    filename=name,
                    content_type=stored.content_type,
                    size=stored.size,
                )
            )
    except BaseException:
        for document in kept:
            storage().delete(str(document.storage_key))
        raise
    db.session.add_all(kept)
    return kept


def _check_owned(record: Record, product: Product | None) -> None:
    if product is not None and product.record_id != record.id:
        raise ValidationError(_("Choose a policy of this record."), field="product")


def add_files(
    record: Record,
    uploads: Sequence[Upload],
    *,
    actor: Actor,
    title: str | None = None,
    category: DocumentCategory | None = None,
    product: Product | None = None,
) -> list[Document]:
    """Staff add one or many files to ``record`` (flushed, not shared). ``title`` names a
    single file; several files are named after themselves. Raises ValidationError (field
    ``files``) naming the file refused; nothing of the batch is kept then."""
    _check_owned(record, product)
    documents = store_all(
        record, uploads, field="files", title=title if len(uploads) == 1 else None
    )
    for document in documents:
        document.category = category
        document.product = product
        document.source = DocumentSource.STAFF
        document.added_by_id = actor.user_id
    db.session.flush()
    for document in documents:
        document_access.log(document, AccessAction.UPLOADED, actor)
    return documents


def check_count(uploads: Sequence[Upload]) -> None:
    if not uploads:
        raise ValidationError(_("Choose a file to upload."), field="files")
    if len(uploads) > MAX_FILES:
        raise ValidationError(
            _("Upload at most %(count)s files at a time.", count=MAX_FILES), field="files"
        )


#: A scheme typed without "//" (javascript:, data:, mailto:): refused, never read as a host
#: name ("carrier.example:8443/forms" is a host and its port).
_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*:(?!\d)", re.IGNORECASE)


def _port_ok(parts: SplitResult) -> bool:
    try:
        parts.port  # noqa: B018 (raises on a port that is not a number)
    except ValueError:
        return False
    return True


def check_url(url: str | None) -> str:
    """A website link as typed, checked: http or https, a host, no spaces."""
    text = (url or "").strip()
    if text and "://" not in text and not _SCHEME.match(text):
        text = "https://" + text
    parts = urlsplit(text)
    if (
        parts.scheme not in ("http", "https")
        or not parts.hostname
        or not _port_ok(parts)
        or any(c.isspace() for c in text)
    ):
        raise ValidationError(
            _("Enter a website address such as https://www.example.com/policy."), field="url"
        )
    if len(text) > 2000:
        raise ValidationError(_("The address is too long."), field="url")
    return text


def web_address(document: Document) -> str | None:
    """A link's address, checked again whenever someone is sent to it: http or https only. An
    address that reached the database another way than :func:`check_url` (an import, a hand
    edit) is never followed or shown as a link: None then."""
    if document.kind != DocumentKind.LINK or not document.url:
        return None
    try:
        return check_url(document.url)
    except ValidationError:
        return None


def add_link(
    record: Record,
    url: str | None,
    title: str | None,
    *,
    actor: Actor,
    category: DocumentCategory | None = None,
    product: Product | None = None,
) -> Document:
    """A website link on ``record`` (a carrier's policy page, a claims form), flushed."""
    address = check_url(url)
    _check_owned(record, product)
    document = Document(
        record_id=record.id,
        kind=DocumentKind.LINK,
        url=address,
        title=clean_title(title) or (urlsplit(address).hostname or address),
        category=category,
        product=product,
        source=DocumentSource.STAFF,
        added_by_id=actor.user_id,
    )
    db.session.add(document)
    db.session.flush()
    return document


# -- editing and removing ------------------------------------------------------------------


def edit(
    document: Document,
    *,
    title: str | None,
    category: DocumentCategory | None,
    product: Product | None,
    url: str | None = None,
) -> Document:
    """Staff change a document's title, category, policy (or a link's address)."""
    name = clean_title(title)
    if not name:
        raise ValidationError(_("Enter a title."), field="title")
    _check_owned(document.record, product)
    document.title = name[:200]
    document.category = category
    document.product = product
    if document.kind == DocumentKind.LINK:
        document.url = check_url(url if url is not None else document.url)
    db.session.flush()
    return document


def remove(document: Document) -> None:
    """Delete a document; its file goes from storage once the deletion is committed. A
    document a draft or open sign request is signing is refused."""
    if db.session.scalar(
        select(SignRequest.id)
        .where(SignRequest.document_id == document.id, SignRequest.status.in_(SIGNING))
        .limit(1)
    ):
        raise ValidationError(
            _("This document is out for signature: cancel its sign request first.")
        )
    if document.storage_key:
        delete_after_commit(document.storage_key)
    db.session.delete(document)
    db.session.flush()


def forget_files_of(record: Record) -> None:
    """``record`` is being deleted (its document rows go with it, by the database's cascade):
    their files go from storage once the deletion is committed."""
    for key in db.session.scalars(
        select(Document.storage_key).where(
            Document.record_id == record.id, Document.storage_key.is_not(None)
        )
    ):
        delete_after_commit(str(key))


def mark_seen(documents: Sequence[Document]) -> int:
    """Staff have looked at these client uploads: they leave the inbox."""
    now, count = utcnow(), 0
    for document in documents:
        if document.source == DocumentSource.CLIENT and document.staff_seen_at is None:
            document.staff_seen_at = now
            count += 1
    db.session.flush()
    return count


# -- reading -----------------------------------------------------------------------------------


def of_record(record: Record) -> list[Document]:
    """Every document of a record, newest first, for staff."""
    return list(
        db.session.scalars(
            select(Document)
            .where(Document.record_id == record.id)
            .options(
                joinedload(Document.category),
                joinedload(Document.product),
                joinedload(Document.uploaded_by_account),
                joinedload(Document.added_by),
            )
            .order_by(Document.created_at.desc(), Document.id.desc())
        )
    )


def download(document: Document, *, inline: bool = False) -> Response:
    """The file as a streamed response: an attachment, or shown by the browser when
    ``inline`` and the type is one browsers show safely (PDF and pictures, never SVG or a
    web page)."""
    if document.kind != DocumentKind.FILE or not document.storage_key:
        raise NotFound(_("This document is not available."))
    response = storage().download(
        document.storage_key,
        document.filename or document.title,
        document.content_type or "application/octet-stream",
    )
    if inline and document.content_type in INLINE_TYPES:
        response.headers["Content-Disposition"] = response.headers["Content-Disposition"].replace(
            "attachment", "inline", 1
        )
    return response


def staff_download(document: Document, actor: Actor, *, inline: bool = False) -> Response:
    """A staff member opens a file: logged in its access history (no receipt, no event)."""
    document_access.log(document, AccessAction.VIEWED if inline else AccessAction.DOWNLOADED, actor)
    return download(document, inline=inline)
