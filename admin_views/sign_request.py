"""Sign requests for staff: the list of every record's requests (filtered by status), one
request's page (each signer's progress, cancel, remind, the original and the signed PDF), and
the record page's Signing tab. Starting one and placing its fields is in
admin_views.sign_request_new."""

from __future__ import annotations

import typing as t

from flask import abort, flash, g, redirect, url_for
from flask_admin import expose
from flask_security import current_user
from markupsafe import Markup
from sqlalchemy.orm import joinedload, selectinload
from werkzeug.wrappers import Response

from admin_views.base import StaffModelView, badge, local_datetime, plural, record_link
from admin_views.filters import EnumChoice, IntIs
from admin_views.sign_request_new import NewSignRequestRoutes, signing_tab
from app import transactions
from app.services import documents
from app.services.actors import Actor
from app.services.errors import NotFound, ValidationError
from app.services.signing import requests as sign_requests
from models import Record, SignerStatus, SignRequest, SignRequestStatus

#: Badge colours of a request's and a signer's status.
COLOURS = {
    "draft": "#6c757d",
    "waiting": "#adb5bd",
    "sent": "#17a2b8",
    "viewed": "#007bff",
    "signed": "#28a745",
    "declined": "#dc3545",
    "expired": "#343a40",
    "cancelled": "#6c757d",
}
#: Requests still in the office's hands or waiting on signers (the tab's badge).
UNFINISHED = (SignRequestStatus.DRAFT, SignRequestStatus.SENT, SignRequestStatus.VIEWED)


def status_badge(status: SignRequestStatus | SignerStatus) -> Markup:
    return badge(status.label, COLOURS.get(status.value, "#6c757d"))


def count_of(record: Record) -> int:
    """The Signing tab's badge: the record's requests not finished yet."""
    listed = g.get("record_sign_requests", {}).get(record.id)
    if listed is None:
        listed = sign_requests.for_record(record)
    return sum(1 for sr in listed if sr.status in UNFINISHED)


def tab_context(record: Record) -> dict[str, t.Any]:
    """What the record page's Signing tab reads, as ``signing_tab``."""
    listed = sign_requests.for_record(record)
    g.setdefault("record_sign_requests", {})[record.id] = listed
    return {
        "requests": listed,
        "status_badge": status_badge,
        "local_datetime": local_datetime,
        "new_url": url_for("sign_requests.new_request", record_id=record.id),
    }


def _title(view: t.Any, context: t.Any, model: SignRequest, name: str) -> Markup:
    return Markup('<a href="{}">{}</a>').format(
        url_for("sign_requests.request_page", request_id=model.id), model.title
    )


def _signers(view: t.Any, context: t.Any, model: SignRequest, name: str) -> Markup:
    return Markup("<br>").join(
        Markup("{} {}").format(s.name, status_badge(s.status)) for s in model.signers
    )


class SignRequestView(NewSignRequestRoutes, StaffModelView):
    """Every record's sign requests, newest first; one request's page."""

    noun = "Sign request"
    can_create = False
    can_edit = False
    #: A request is the record's evidence of what was signed: cancelled, never deleted.
    delete_roles: tuple[str, ...] = ()
    column_list = ("title", "record", "status", "signers", "created_at", "expires_at")
    column_labels = {"created_at": "Created", "expires_at": "Expires"}
    column_sortable_list = ("title", "status", "created_at", "expires_at")
    column_default_sort = [("created_at", True), ("id", True)]
    column_searchable_list = ("title",)
    column_formatters = {
        "title": _title,
        "record": record_link,
        "status": lambda v, c, m, n: status_badge(m.status),
        "signers": _signers,
        "created_at": lambda v, c, m, n: local_datetime(m.created_at),
        "expires_at": lambda v, c, m, n: local_datetime(m.expires_at, "%Y-%m-%d"),
    }
    column_filters = (
        EnumChoice(SignRequest.status, "Status", SignRequestStatus),
        IntIs(SignRequest.record_id, "Record"),
    )

    def get_query(self) -> t.Any:
        return (
            super()
            .get_query()
            .options(joinedload(SignRequest.record), selectinload(SignRequest.signers))
        )

    @expose("/<int:request_id>/")
    def request_page(self, request_id: int) -> t.Any:
        sign_request = self._request(request_id)
        return self.render(
            "admin/sign/request.html",
            sr=sign_request,
            record=sign_request.record,
            draft=sign_request.status == SignRequestStatus.DRAFT,
            status_badge=status_badge,
            local_datetime=local_datetime,
            back=signing_tab(sign_request.record_id),
        )

    @expose("/<int:request_id>/cancel/", methods=("POST",))
    def cancel(self, request_id: int) -> Response:
        sign_request = self._request(request_id)
        try:
            with transactions.attempt():
                sign_requests.cancel(sign_request, actor=Actor.staff(current_user))
        except ValidationError as exc:
            flash(exc.message, "error")
        else:
            flash("Cancelled: the signers' links no longer work.", "success")
        return redirect(url_for(".request_page", request_id=sign_request.id))

    @expose("/<int:request_id>/remind/", methods=("POST",))
    def remind(self, request_id: int) -> Response:
        sign_request = self._request(request_id)
        try:
            with transactions.attempt():
                reminded = sign_requests.remind_now(sign_request, actor=Actor.staff(current_user))
        except ValidationError as exc:
            flash(exc.message, "error")
        else:
            if reminded:
                flash(f"Reminded {plural(reminded, 'signer')} by email.", "success")
            else:
                flash("Nobody to remind: no signer whose turn it is is still to sign.", "info")
        return redirect(url_for(".request_page", request_id=sign_request.id))

    @expose("/<int:request_id>/original.pdf")
    def download_original(self, request_id: int) -> Response:
        sign_request = self._request(request_id)
        original = sign_request.document
        if original is None:
            abort(404)
        try:  # from storage, logged in the document's history like every staff download
            return documents.staff_download(original, Actor.staff(current_user))
        except NotFound:
            abort(404)

    @expose("/<int:request_id>/signed.pdf")
    def download_signed(self, request_id: int) -> Response:
        sign_request = self._request(request_id)
        signed = sign_request.signed_document
        if sign_request.status != SignRequestStatus.SIGNED or signed is None:
            abort(404)
        try:  # from storage, logged in the document's history, its name cleaned again
            return documents.staff_download(signed, Actor.staff(current_user))
        except NotFound:
            abort(404)


__all__ = ["SignRequestView", "count_of", "tab_context"]
