"""Documents: what the office shared with the client (download, view in the browser, open a
website link), their ID cards, and what the client sends the office when the portal setting
"Allow clients to share documents" (module ``uploads``) is on. The pages (``pages``) and the
JSON routes (``api``) share what is here: the upload form, the open and send calls, and how a
document is described.

What a client may open is the services' one rule (:func:`client_documents.for_client`):
anything else answers 404, never 403, so nothing tells them it exists. Every open is logged
by the service, with the receipt and its event; the views only answer with the file.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import abort, current_app, g, redirect, request, url_for
from flask_babel import format_date
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import MultipleFileField, TextAreaField
from wtforms.validators import Length, Optional

from app import transactions
from app.services import client_documents, documents
from app.services.errors import NotFound
from models import Document, DocumentKind, PortalAccount, RecordKind
from portal.api import error
from portal.guards import is_module_enabled

#: The portal module that lets clients send documents.
UPLOADS = "uploads"
#: The extensions the file input offers; what is kept is decided by the file's bytes.
ACCEPT = (
    ".pdf,.png,.jpg,.jpeg,.gif,.webp,.heic,.tif,.tiff,.doc,.docx,.xls,.xlsx,.odt,.ods,.txt,.csv"
)


class UploadForm(FlaskForm):
    """The page's upload form: its CSRF token and the note; the files are the service's to
    check (their types from their bytes, their sizes, how many)."""

    files = MultipleFileField(_l("Files"))
    note = TextAreaField(_l("Note for the office"), validators=[Optional(), Length(max=2000)])


def account_or_404() -> PortalAccount:
    """The signed-in client's account (staff in the preview without one: nothing here)."""
    account: PortalAccount | None = g.get("portal_account")
    if account is None:
        abort(404)
    return account


def can_upload() -> bool:
    """Whether this client may send documents: the module on, a client record."""
    record = g.get("portal_record")
    return record is not None and record.kind == RecordKind.CLIENT and is_module_enabled(UPLOADS)


def not_from_the_portal() -> Any:
    """Another site sent the browser here (Sec-Fetch-Site: cross-site): nothing is opened or
    logged, so no page elsewhere can make a client "see" a document; the client lands on
    their Documents page (API: 403). Links from the portal, bookmarks and typed addresses
    are same-origin or none; clients that send no such header are not browsers."""
    if request.headers.get("Sec-Fetch-Site") != "cross-site":
        return None
    if request.path.startswith("/portal/api/"):
        return error(403, _("Open documents from the portal."))
    return redirect(url_for("portal.documents"))


def open_document(document_id: int, *, inline: bool) -> Any:
    """The file, once the service has logged the open; 404 for anything not the client's
    (JSON under /portal/api/)."""
    account = account_or_404()
    if refused := not_from_the_portal():
        return refused
    try:
        with transactions.attempt():  # a link asked for as a file logs nothing
            document = client_documents.opened_by_client(account, document_id, inline=inline)
            return documents.download(document, inline=inline)
    except NotFound:
        if request.path.startswith("/portal/api/"):
            return error(404, _("This document is not available."))
        abort(404)


def received_files() -> list[client_documents.Upload]:
    """The files sent; an empty file input still sends one part without a name."""
    return [
        client_documents.Upload(part.stream, part.filename)
        for part in request.files.getlist("files")
        if part.filename
    ]


def send(note: str | None) -> list[Document]:
    """The one service call of both upload routes; raises ValidationError (or NotFound)
    when refused, and then nothing of the batch is kept."""
    account = account_or_404()
    with transactions.attempt():
        return client_documents.client_upload(account, received_files(), note)


# -- how a document is described ----------------------------------------------------------------


def local_day(when: datetime | None) -> str:
    """A moment as the day it was in the office's time zone, in the client's language
    ("Dec 2, 2026"; "2 dic 2026")."""
    if when is None:
        return ""
    return format_date(when.astimezone(ZoneInfo(current_app.config["PORTICO_TIMEZONE"])).date())


def shared_on(document: Document) -> str:
    """The day the document was shared, in the office's time zone."""
    return local_day(document.shared_at)


def policy(document: Document) -> str | None:
    """The policy it belongs to, as the client knows it: carrier, plan, number."""
    product = document.product
    if product is None:
        return None
    name = " ".join(part for part in (product.carrier, product.plan_name) if part)
    return f"{name} ({product.policy_number})" if product.policy_number else name


def human_size(size: int | None) -> str:
    if not size:
        return ""
    if size >= 1 << 20:
        return f"{size / (1 << 20):.1f} MB"
    return f"{max(1, round(size / 1024))} KB"


def viewable(document: Document) -> bool:
    """Whether the browser may show it (PDF and pictures; never SVG or a web page)."""
    return document.kind == DocumentKind.FILE and document.content_type in documents.INLINE_TYPES


# Importing the pages and JSON routes registers them.
from portal.documents import api, pages  # noqa: E402,F401
