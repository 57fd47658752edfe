"""Documents: the list of every record's documents with its filters and bulk actions, the
inbox of new client uploads, and the categories admins keep. Documents are added from a
record's Documents tab (admin_views.document_record)."""

from __future__ import annotations

import typing as t

from flask import flash, redirect, url_for
from flask_admin.actions import action
from flask_admin.contrib.sqla.filters import BaseSQLAFilter, BooleanEqualFilter
from flask_admin.helpers import get_redirect_target
from flask_security import current_user
from markupsafe import Markup
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from admin_views.base import ADMIN_ONLY, StaffModelView, plural, record_link
from admin_views.document_notify import DocumentNotify, load_documents, notify_url
from admin_views.document_record import DocumentRecordRoutes
from admin_views.document_tab import expiry_note, receipt_time
from admin_views.filters import EnumChoice, IntChoice, IntIs, OfficeDayBetween
from admin_views.record_list import FastListView
from app import transactions
from app.services import document_categories, document_sharing, documents
from app.services.actors import Actor
from models import Document, DocumentCategory, DocumentKind, DocumentSource, db

YES_NO = (("1", "yes"), ("0", "no"))


class _YesNo(BaseSQLAFilter):
    """A condition the row meets ("yes") or not ("no")."""

    def __init__(self, name: str) -> None:
        super().__init__(Document.id, name, options=YES_NO)

    def condition(self) -> t.Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def validate(self, value: t.Any) -> bool:
        return value in ("0", "1")

    def apply(self, query: t.Any, value: t.Any, alias: t.Any = None) -> t.Any:
        return query.filter(self.condition() if value == "1" else ~self.condition())

    def operation(self) -> str:
        return "is"


class Expired(_YesNo):
    """Shared until a day already past on the office's calendar."""

    def __init__(self) -> None:
        super().__init__("Expired")

    def condition(self) -> t.Any:
        return Document.share_expires_on.is_not(None) & (
            Document.share_expires_on < documents.office_today()
        )


class NotOpened(_YesNo):
    """Shared, and the client has not opened it yet."""

    def __init__(self) -> None:
        super().__init__("Not yet opened")

    def condition(self) -> t.Any:
        return Document.shared.is_(True) & Document.first_opened_at.is_(None)


def category_options() -> t.Iterable[tuple[int, str]]:
    return db.session.execute(
        select(DocumentCategory.id, DocumentCategory.name).order_by(
            DocumentCategory.position, DocumentCategory.name
        )
    )


def _title(view: t.Any, context: t.Any, model: Document, name: str) -> Markup:
    url = url_for("record.details_view", id=model.record_id) + "#documents"
    history = url_for("document.history", document_id=model.id)
    return Markup('<a href="{}">{}</a> <a class="small" href="{}">History</a>').format(
        url, model.title, history
    )


def _shared(view: t.Any, context: t.Any, model: Document, name: str) -> Markup:
    if not model.shared:
        return Markup('<span class="text-muted">No</span>')
    note = expiry_note(model, documents.office_today())
    if note == "expired":
        return Markup(
            '<span class="text-success">&#10004;</span> '
            '<span class="badge badge-secondary">expired</span>'
        )
    return Markup('<span class="text-success" aria-label="Shared">&#10004;</span>')


def _receipt(view: t.Any, context: t.Any, model: Document, name: str) -> str:
    if model.first_opened_at:
        return f"Seen on {receipt_time(model.first_opened_at)}"
    return "Not opened yet" if model.shared else ""


class DocumentListBase(FastListView, DocumentNotify):
    """A read-only list of documents with the sharing actions; rows are deleted through the
    documents service (the file leaves storage once the deletion is committed)."""

    noun = "Document"
    can_create = False
    can_edit = False
    delete_roles = ("admin", "agent")
    column_list: tuple[str, ...] = (
        "title",
        "record",
        "category",
        "kind",
        "shared",
        "share_expires_on",
        "first_opened_at",
        "source",
        "created_at",
    )
    column_labels = {
        "share_expires_on": "Shared until",
        "first_opened_at": "Client receipt",
        "created_at": "Added",
    }
    column_sortable_list = ("title", "shared", "share_expires_on", "first_opened_at", "created_at")
    column_default_sort = ("created_at", True)
    column_searchable_list = ("title", "filename")
    column_formatters = {
        "title": _title,
        "record": record_link,
        "shared": _shared,
        "first_opened_at": _receipt,
    }

    def get_query(self) -> t.Any:
        return (
            super().get_query().options(joinedload(Document.record), joinedload(Document.category))
        )

    def delete_model(self, model: Document) -> bool:
        try:
            with transactions.attempt():
                documents.remove(model)
        except Exception as exc:
            self.handle_view_exception(exc)
            return False
        return True

    def _back(self) -> str:
        return get_redirect_target() or url_for(".index_view")

    @action("share", "Share with the client")
    def action_share(self, ids: list[str]) -> t.Any:
        return self.share_and_offer_notice(load_documents(ids), self._back())

    @action("unshare", "Unshare")
    def action_unshare(self, ids: list[str]) -> t.Any:
        outcome = document_sharing.unshare(load_documents(ids), actor=Actor.staff(current_user))
        flash(f"Unshared {plural(len(outcome.done), 'document')}.", "success")
        return redirect(self._back())

    @action("notify", "Send shared notification…")
    def action_notify(self, ids: list[str]) -> t.Any:
        return redirect(notify_url(load_documents(ids), self._back()))

    @action("seen", "Mark seen")
    def action_seen(self, ids: list[str]) -> t.Any:
        count = documents.mark_seen(load_documents(ids))
        flash(f"Marked {plural(count, 'client upload')} seen.", "success")
        return redirect(self._back())


class DocumentView(DocumentListBase, DocumentRecordRoutes):
    """Every document of every record, and the routes of the record page's Documents tab."""

    column_filters = (
        BooleanEqualFilter(Document.shared, "Shared"),
        Expired(),
        NotOpened(),
        EnumChoice(Document.source, "Source", DocumentSource),
        EnumChoice(Document.kind, "Kind", DocumentKind),
        IntChoice(Document.category_id, "Category", category_options),
        IntIs(Document.record_id, "Record"),
        OfficeDayBetween(Document.created_at, "Added"),
    )


def _inbox_filter(query: t.Any) -> t.Any:
    return query.filter(Document.source == DocumentSource.CLIENT, Document.staff_seen_at.is_(None))


class DocumentInboxView(DocumentListBase):
    """Client uploads no one has marked seen yet, newest first."""

    column_list = ("title", "record", "category", "client_note", "created_at")
    column_labels = {"client_note": "Client's note", "created_at": "Uploaded"}

    def get_query(self) -> t.Any:
        return _inbox_filter(super().get_query())

    def get_count_query(self) -> t.Any:
        return _inbox_filter(super().get_count_query())


def new_client_documents() -> int:
    """How many client uploads wait in the inbox (the menu's badge)."""
    return int(db.session.scalar(_inbox_filter(select(func.count()).select_from(Document))) or 0)


class DocumentCategoryView(StaffModelView):
    """Policy documents, ID cards, ...: admins keep the list; a category in use cannot be
    deleted (untick Active instead)."""

    noun = "Category"
    required_roles = ADMIN_ONLY
    column_list = ("name", "is_id_card", "position", "active")
    column_default_sort = [("position", False), ("name", False)]
    column_labels = {"is_id_card": "ID cards category"}
    form_columns = ("name", "is_id_card", "position", "active")
    form_args = {
        "is_id_card": {
            "label": "ID cards category",
            "description": "Documents of this category are also on the client's portal home "
            "page, one click to download.",
        },
        "position": {"description": "Lower comes first in lists."},
    }

    def on_model_change(self, form: t.Any, model: DocumentCategory, is_created: bool) -> None:
        document_categories.check_name(model)

    def on_model_delete(self, model: DocumentCategory) -> None:
        document_categories.check_removable(model)


__all__ = [
    "DocumentCategoryView",
    "DocumentInboxView",
    "DocumentView",
    "new_client_documents",
]
