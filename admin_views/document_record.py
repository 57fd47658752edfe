"""What staff do from a record's Documents tab: upload files (one request per file from the
page's script, all at once without it), add a website link, the ticked rows' Actions, edit,
delete, open a file and read its access history."""

from __future__ import annotations

import typing as t

from flask import abort, flash, jsonify, redirect, request, url_for
from flask_admin import expose
from flask_security import current_user
from werkzeug.wrappers import Response

from admin_views.base import local_datetime, plural, record_or_404
from admin_views.document_notify import (
    DocumentNotify,
    load_documents,
    notify_url,
    parse_day,
)
from admin_views.document_tab import human_size, product_label, receipt_time, render_rows
from app import transactions
from app.errors import takes_documents, wants_json
from app.services import document_access, document_sharing, documents
from app.services.actors import Actor
from app.services.errors import NotFound, ValidationError
from models import Document, DocumentCategory, DocumentKind, Product, db


def _tab(record_id: int) -> str:
    return url_for("record.details_view", id=record_id) + "#documents"


def _chosen(model: type, name: str) -> t.Any:
    value = request.form.get(name, type=int)
    return db.session.get(model, value) if value else None


class DocumentRecordRoutes(DocumentNotify):
    _record = staticmethod(record_or_404)

    def _document(self, document_id: int) -> Document:
        document = db.session.get(Document, document_id)
        if document is None:
            abort(404)
        return document

    @expose("/record/<int:record_id>/upload/", methods=("POST",))
    @takes_documents
    def upload(self, record_id: int) -> t.Any:
        """One or many files. The page's script sends one file per request and reads JSON
        ({ok, documents} or {error}); a plain form posts them all and comes back to the tab."""
        record = self._record(record_id)
        uploads = [
            documents.Upload(stream=file.stream, filename=file.filename)
            for file in request.files.getlist("files")
            if file.filename
        ]
        try:
            with transactions.attempt():
                added = documents.add_files(
                    record,
                    uploads,
                    actor=Actor.staff(current_user),
                    title=request.form.get("title"),
                    category=_chosen(DocumentCategory, "category_id"),
                    product=_chosen(Product, "product_id"),
                )
        except ValidationError as exc:
            if wants_json():
                return jsonify(error=exc.message), 400
            flash(exc.message, "error")
            return redirect(_tab(record.id))
        if wants_json():
            rows = render_rows(record, added)
            return jsonify(
                ok=True,
                documents=[
                    {
                        "id": document.id,
                        "title": document.title,
                        "filename": document.filename,
                        "size": document.size,
                        "row": row,
                    }
                    for document, row in zip(added, rows, strict=True)
                ],
            )
        flash(f"Uploaded {plural(len(added), 'file')}.", "success")
        return redirect(_tab(record.id))

    @expose("/record/<int:record_id>/link/", methods=("POST",))
    def add_link(self, record_id: int) -> Response:
        record = self._record(record_id)
        try:
            with transactions.attempt():
                link = documents.add_link(
                    record,
                    request.form.get("url"),
                    request.form.get("title"),
                    actor=Actor.staff(current_user),
                    category=_chosen(DocumentCategory, "category_id"),
                    product=_chosen(Product, "product_id"),
                )
        except ValidationError as exc:
            flash(exc.message, "error")
        else:
            flash(f"Added the link {link.title}.", "success")
        return redirect(_tab(record.id))

    @expose("/record/<int:record_id>/bulk/", methods=("POST",))
    def record_bulk(self, record_id: int) -> Response:
        """The tab's Actions on the ticked rows."""
        record = self._record(record_id)
        back = _tab(record.id)
        chosen = load_documents(request.form.getlist("document_id"), record)
        operation = request.form.get("operation", "")
        if not chosen:
            flash("Tick the documents first.", "error")
            return redirect(back)
        try:
            expires_on = parse_day(request.form.get("expires_on"))
        except ValidationError as exc:
            flash(exc.message, "error")
            return redirect(back)
        if operation == "share":
            return self.share_and_offer_notice(chosen, back, expires_on, record)
        if operation == "notify":
            return redirect(notify_url(chosen, back))
        try:
            with transactions.attempt():
                message = self._apply(operation, chosen, expires_on)
        except ValidationError as exc:
            flash(exc.message, "error")
        else:
            flash(message, "success")
        return redirect(back)

    def _apply(self, operation: str, chosen: list[Document], expires_on: t.Any) -> str:
        actor = Actor.staff(current_user)
        if operation == "unshare":
            outcome = document_sharing.unshare(chosen, actor=actor)
            unshared = plural(len(outcome.done), "document")
            return f"Unshared {unshared}: the client no longer sees them."
        if operation == "expiry":
            shared = [document for document in chosen if document.shared]
            if not shared:
                raise ValidationError("Share the documents first, then set their expiry.")
            document_sharing.set_expiry(shared, expires_on, today=documents.office_today())
            until = f"until {expires_on.isoformat()}" if expires_on else "with no end"
            return f"{plural(len(shared), 'shared document')} now shown {until}."
        if operation == "seen":
            count = documents.mark_seen(chosen)
            return f"Marked {plural(count, 'client upload')} seen."
        raise ValidationError("Choose an action.")

    @expose("/<int:document_id>/edit-document/", methods=("GET", "POST"))
    def edit_document(self, document_id: int) -> t.Any:
        document = self._document(document_id)
        if request.method == "POST":
            try:
                with transactions.attempt():
                    documents.edit(
                        document,
                        title=request.form.get("title"),
                        category=_chosen(DocumentCategory, "category_id"),
                        product=_chosen(Product, "product_id"),
                        url=request.form.get("url") if document.kind == DocumentKind.LINK else None,
                    )
            except ValidationError as exc:
                flash(exc.message, "error")
            else:
                flash(f"Saved {document.title}.", "success")
                return redirect(_tab(document.record_id))
        return self.render(
            "admin/documents/edit.html",
            document=document,
            categories=documents.categories(),
            products=document.record.products,
            product_label=product_label,
            human_size=human_size,
            form_values=request.form if request.method == "POST" else None,
            back=_tab(document.record_id),
        )

    @expose("/<int:document_id>/delete-document/", methods=("POST",))
    def delete_document(self, document_id: int) -> Response:
        if not self.can_delete:
            abort(403)
        document = self._document(document_id)
        record_id, title = document.record_id, document.title
        documents.remove(document)
        flash(f"Deleted {title}.", "success")
        return redirect(_tab(record_id))

    @expose("/<int:document_id>/history/")
    def history(self, document_id: int) -> t.Any:
        document = self._document(document_id)
        return self.render(
            "admin/documents/history.html",
            document=document,
            entries=document_access.history(document),
            receipt_time=receipt_time,
            local_datetime=local_datetime,
            back=_tab(document.record_id),
        )

    @expose("/<int:document_id>/download/")
    def download(self, document_id: int) -> Response:
        return self._send(document_id, inline=False)

    @expose("/<int:document_id>/view/")
    def view_inline(self, document_id: int) -> Response:
        return self._send(document_id, inline=True)

    def _send(self, document_id: int, *, inline: bool) -> Response:
        document = self._document(document_id)
        if document.kind == DocumentKind.LINK:
            address = documents.web_address(document)  # http or https, checked again
            if address is None:
                abort(404)
            return redirect(address)
        try:
            return documents.staff_download(document, Actor.staff(current_user), inline=inline)
        except NotFound:
            abort(404)
