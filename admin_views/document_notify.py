"""Sharing documents and telling the client: what the record tab's Actions and the documents
list's bulk actions share, and the notification dialog that follows a share (email, text, or
nothing)."""

from __future__ import annotations

import typing as t
from collections.abc import Sequence
from datetime import date

from flask import flash, redirect, request, url_for
from flask_admin import expose
from flask_admin.helpers import get_redirect_target
from flask_security import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload
from werkzeug.wrappers import Response

from admin_views.base import StaffModelView, int_ids, plural
from app import transactions
from app.services import document_sharing, documents
from app.services.actors import Actor
from app.services.errors import ValidationError
from models import Document, Record, db

#: How many refusals are listed one by one; the rest are counted.
MAX_LISTED = 10


def load_documents(ids: t.Iterable[t.Any], record: Record | None = None) -> list[Document]:
    """The documents of these ids (of ``record`` only, when given), with their records."""
    wanted = int_ids(ids)
    if not wanted:
        return []
    query = (
        select(Document)
        .where(Document.id.in_(wanted))
        .options(joinedload(Document.record))
        .order_by(Document.id)
    )
    if record is not None:
        query = query.where(Document.record_id == record.id)
    return list(db.session.scalars(query))


def parse_day(text: str | None) -> date | None:
    """A date input's value (YYYY-MM-DD); "" is no date."""
    value = (text or "").strip()
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValidationError("Enter the day as YYYY-MM-DD.", field="expires_on") from None


def flash_refused(refused: Sequence[tuple[Document, str]], what: str) -> None:
    """One message per refused document: its title and why."""
    for document, why in refused[:MAX_LISTED]:
        flash(f"Not {what}: {document.title} ({document.record.display_name}): {why}", "error")
    if len(refused) > MAX_LISTED:
        flash(f"{len(refused) - MAX_LISTED} more were not {what} for the same reasons.", "error")


def notify_url(done: Sequence[Document], back: str) -> str:
    return url_for("document.notify_view", document_id=[d.id for d in done], url=back)


class DocumentNotify(StaffModelView):
    """Share, then the dialog offering to tell the client (or not)."""

    def share_and_offer_notice(
        self,
        chosen: Sequence[Document],
        back: str,
        expires_on: date | None = None,
        record: Record | None = None,
    ) -> Response:
        """Share ``chosen``; when any was shared, go on to the notification dialog: on the
        record's page when they are one record's (``record``), else on a page of its own."""
        if not chosen:
            flash("Tick the documents first.", "error")
            return redirect(back)
        try:
            with transactions.attempt():
                outcome = document_sharing.share(
                    chosen,
                    actor=Actor.staff(current_user),
                    today=documents.office_today(),
                    expires_on=expires_on,
                )
        except ValidationError as exc:
            flash(exc.message, "error")
            return redirect(back)
        flash_refused(outcome.refused, "shared")
        if not outcome.done:
            return redirect(back)
        until = f" until {expires_on.isoformat()}" if expires_on else ""
        flash(f"Shared {plural(len(outcome.done), 'document')} with the client{until}.", "success")
        if record is not None:
            ids = [document.id for document in outcome.done]
            return redirect(url_for("record.details_view", id=record.id, notify=ids) + "#documents")
        return redirect(notify_url(outcome.done, back))

    @expose("/notify/", methods=("GET", "POST"))
    def notify_view(self) -> t.Any:
        """The dialog after sharing (and "Send shared notification"): email the client, text
        the client (only where a text may go), or cancel, which sends nothing."""
        back = get_redirect_target() or url_for(".index_view")
        values = request.form if request.method == "POST" else request.args
        chosen = load_documents(values.getlist("document_id"))
        if not chosen:
            flash("Tick the documents first.", "error")
            return redirect(back)
        if request.method == "POST":
            return self._notify(chosen, request.form.get("channel", ""), back)
        records = list({document.record_id: document.record for document in chosen}.values())
        cannot_text = [record for record in records if not document_sharing.can_text(record)]
        return self.render(
            "admin/documents/notify.html",
            documents=chosen,
            records=records,
            cannot_text=cannot_text,
            can_text=len(cannot_text) < len(records),
            return_url=back,
        )

    def _notify(self, chosen: Sequence[Document], channel: str, back: str) -> Response:
        if channel not in (document_sharing.EMAIL, document_sharing.TEXT):
            flash("No notification was sent.", "info")
            return redirect(back)
        try:
            with transactions.attempt():
                outcome = document_sharing.notify(
                    chosen, channel, actor=Actor.staff(current_user), today=documents.office_today()
                )
        except ValidationError as exc:
            flash(exc.message, "error")
            return redirect(back)
        flash_refused(outcome.refused, "notified")
        if outcome.done:
            how = "an email" if channel == document_sharing.EMAIL else "a text"
            clients = outcome.records
            names = ", ".join(record.display_name for record in clients[:MAX_LISTED])
            flash(
                f"Sent {how} about {plural(len(outcome.done), 'document')} to "
                f"{plural(len(clients), 'client')}: {names}.",
                "success",
            )
        return redirect(back)
