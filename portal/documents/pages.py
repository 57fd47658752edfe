"""The Documents page, opening a document (download, view, website link) and sending the
office documents from the page."""

from __future__ import annotations

from typing import Any

from flask import abort, current_app, flash, g, redirect, render_template, url_for
from flask_babel import gettext as _

from app import transactions
from app.errors import takes_documents
from app.services import client_documents, documents
from app.services.errors import NotFound, ValidationError
from app.storage import DOCUMENTS
from portal import bp
from portal.documents import (
    ACCEPT,
    UPLOADS,
    UploadForm,
    account_or_404,
    can_upload,
    human_size,
    local_day,
    not_from_the_portal,
    open_document,
    policy,
    send,
    shared_on,
    viewable,
)
from portal.guards import client_required, module_enabled
from portal.limits import per_account_reads, uploads_per_account
from portal.navigation import client_screen


def _page(form: UploadForm, status: int = 200) -> Any:
    account = g.get("portal_account")
    shared = client_documents.shared_with(account) if account else []
    cards = [d for d in shared if d.category is not None and d.category.is_id_card]
    uploads = can_upload()
    page = render_template(
        "portal/documents.html",
        id_cards=cards,
        shared=[d for d in shared if d not in cards],
        sent=client_documents.sent_by(account) if account and uploads else [],
        can_upload=uploads,
        form=form,
        accept=ACCEPT,
        types=DOCUMENTS.describe_types(),
        max_mb=int(current_app.config["PORTICO_DOCUMENT_MAX_MB"]),
        max_files=documents.MAX_FILES,
        shared_on=shared_on,
        local_day=local_day,
        policy=policy,
        human_size=human_size,
        viewable=viewable,
    )
    return page, status


def documents_page() -> Any:
    return _page(UploadForm(formdata=None))


documents_page.__name__ = "documents"  # the endpoint: portal.documents
client_screen("/documents")(documents_page)


@bp.get("/documents/<int:document_id>/download")
@client_required
@per_account_reads("documents")
def document_download(document_id: int) -> Any:
    return open_document(document_id, inline=False)


@bp.get("/documents/<int:document_id>/view")
@client_required
@per_account_reads("documents")
def document_view(document_id: int) -> Any:
    """Shown in the browser when it is a PDF or a picture; anything else downloads."""
    return open_document(document_id, inline=True)


@bp.get("/documents/<int:document_id>/link")
@client_required
@per_account_reads("documents")
def document_link(document_id: int) -> Any:
    """A website link the office shared: logged, then on to the address staff set."""
    account = account_or_404()
    if refused := not_from_the_portal():
        return refused
    try:
        with transactions.attempt():  # a file asked for as a link logs nothing
            document = client_documents.opened_by_client(account, document_id, inline=True)
            address = documents.web_address(document)  # http or https, checked again
            if address is None:
                raise NotFound(_("This document is not available."))
    except NotFound:
        abort(404)
    return redirect(address)


@bp.post("/documents")
@takes_documents
@client_required
@module_enabled(UPLOADS)
@uploads_per_account()
def upload_documents() -> Any:
    form = UploadForm()
    if not form.validate_on_submit():
        return _page(form, 400 if "csrf_token" in form.errors else 200)
    try:
        send(form.note.data)
    except NotFound:
        abort(404)
    except ValidationError as refused:
        target = form.note if refused.field == "note" else form.files
        target.errors = [*target.errors, refused.message]
        return _page(form)
    flash(_("Thank you: your documents were sent to the office."), "success")
    return redirect(url_for("portal.documents"))
