"""A sign request's PDF: read and checked (page limit, encrypted or broken files refused with
a sentence), kept as a document of the record, and the one-click "Signatures" page appended.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from flask import current_app
from flask_babel import gettext as _

from app import pdf
from app.services import documents
from app.services.errors import NotFound, ValidationError
from app.storage import storage
from models import (
    Document,
    DocumentKind,
    DocumentSource,
    Record,
    SignFieldKind,
    SignRequest,
    db,
)

PDF_TYPE = "application/pdf"
#: The signature page is A4, in millimetres (app.pdf.Document's unit).
PAGE_W, PAGE_H = 210.0, 297.0
#: Each signer's block on the signature page, in millimetres.
BLOCK_H, LINE_OFFSET, FIELD_H = 32.0, 20.0, 14.0
#: Below this a new page starts (the footer needs room).
BOTTOM = 262.0


def inspect(data: bytes) -> pdf.PdfInfo:
    """``data`` checked as a PDF to sign; :class:`pdf.PdfRefused` becomes a ValidationError
    of the field ``file`` with its sentence."""
    try:
        return pdf.inspect(data, max_pages=int(current_app.config["PORTICO_SIGN_MAX_PAGES"]))
    except pdf.PdfRefused as exc:
        raise ValidationError(str(exc), field="file") from exc


def read(key: str) -> bytes:
    with storage().open(key) as stream:
        return stream.read()


def original_bytes(request: SignRequest) -> bytes:
    """The PDF being signed, as sent (before any signature)."""
    if request.document is None or not request.document.storage_key:
        raise NotFound(_("The document of this sign request is gone."))
    return read(request.document.storage_key)


def new_document(
    record: Record,
    data: bytes,
    filename: str | None,
    *,
    added_by_id: int | None,
    title: str | None = None,
) -> Document:
    """``data`` kept as a new document of ``record`` (not shared, no category), flushed."""
    (document,) = documents.store_all(
        record, [documents.Upload(io.BytesIO(data), filename)], field="file", title=title
    )
    document.source = DocumentSource.STAFF
    document.added_by_id = added_by_id
    db.session.flush()
    return document


def read_upload(upload: documents.Upload) -> bytes:
    """An uploaded file's bytes, at most the documents' size limit."""
    megabytes = int(current_app.config["PORTICO_DOCUMENT_MAX_MB"])
    data = upload.stream.read((megabytes << 20) + 1)
    if len(data) > megabytes << 20:
        raise ValidationError(_("The file is larger than %(mb)s MB.", mb=megabytes), field="file")
    if not data:
        raise ValidationError(_("Choose a PDF to upload."), field="file")
    return data


def existing(record: Record, document: Document) -> bytes:
    """The bytes of ``document``, a PDF of ``record``."""
    if document.record_id != record.id:
        raise ValidationError(_("Choose a document of this record."), field="document")
    if (
        document.kind != DocumentKind.FILE
        or document.content_type != PDF_TYPE
        or not document.storage_key
    ):
        raise ValidationError(_("Choose a PDF document."), field="document")
    return read(document.storage_key)


# -- the signature page -------------------------------------------------------------------------


@dataclass(frozen=True)
class PagePlace:
    """A field on the signature page: ``page`` counts from the page's own first page."""

    signer: int
    page: int
    x: float
    y: float
    width: float
    height: float
    kind: SignFieldKind


def signature_page(title: str, names: list[str]) -> tuple[bytes, list[PagePlace]]:
    """A "Signatures" page (more pages for many signers): each signer's name over a line
    for the signature and one for the date. Returns the PDF and the fields' places."""
    doc = pdf.Document(
        _("Signatures"), branding=pdf.office_branding(), footer_label=_("Signatures")
    )
    doc.paragraph(_("Signatures for %(title)s", title=title))
    out = doc.pdf
    places: list[PagePlace] = []
    left, right = out.l_margin, PAGE_W - out.r_margin
    sign_w = (right - left) * 0.62
    date_x = left + sign_w + 8
    for index, name in enumerate(names):
        if out.get_y() + BLOCK_H > BOTTOM:
            out.add_page()
        top = out.get_y() + 4
        out.set_xy(left, top)
        out.cell(0, 6, name)
        line_y = top + LINE_OFFSET
        out.line(left, line_y, left + sign_w, line_y)
        out.line(date_x, line_y, right, line_y)
        out.set_xy(left, line_y + 1)
        out.cell(sign_w, 5, _("Signature"))
        out.set_xy(date_x, line_y + 1)
        out.cell(right - date_x, 5, _("Date"))
        page = out.page_no() - 1
        for kind, x, width in (
            (SignFieldKind.SIGNATURE, left, sign_w),
            (SignFieldKind.DATE_SIGNED, date_x, right - date_x),
        ):
            places.append(
                PagePlace(
                    signer=index,
                    page=page,
                    x=x / PAGE_W,
                    y=(line_y - FIELD_H) / PAGE_H,
                    width=width / PAGE_W,
                    height=FIELD_H / PAGE_H,
                    kind=kind,
                )
            )
        out.set_y(top + BLOCK_H)
    return doc.output(), places


def append_page(original: bytes, extra: bytes) -> bytes:
    """``original`` with the pages of ``extra`` after its own."""
    return pdf.append_pages(original, extra)
