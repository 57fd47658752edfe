"""What staff do with one client's requests: send a new request from the record's Requests
tab, read a thread (which marks it read), reply with files, close, reopen and hand it to
someone. The inbox that lists every record's requests is admin_views.conversation."""

from __future__ import annotations

import typing as t
from datetime import date

from flask import abort, flash, g, redirect, request, url_for
from flask_admin import expose
from flask_security import current_user
from werkzeug.wrappers import Response

from admin_views.base import local_datetime, record_or_404
from admin_views.document_tab import human_size
from app import transactions
from app.errors import takes_documents
from app.services import conversation_access, conversations, documents, portal_credentials
from app.services.errors import NotFound, ValidationError
from app.services.users import agents_query
from app.text import linkify
from models import AccountStatus, Conversation, ConversationStatus, Record, User, db


def record_requests_url(record_id: int) -> str:
    return url_for("record.details_view", id=record_id) + "#requests"


NO_PORTAL = (
    "The client has no portal access yet: they can read and answer the request once you "
    "enable self service (Portal tab)."
)


def staff_options() -> list[User]:
    return list(db.session.scalars(agents_query()))


def can_answer(primary_account: t.Any, contact_accounts: t.Any = None) -> bool:
    """Whether someone of the record can sign in to the portal (invited or enabled): a
    request is still sent without, with a warning, as access may be given later."""
    accounts = [primary_account, *(contact_accounts or {}).values()]
    return any(a is not None and a.status != AccountStatus.DISABLED for a in accounts)


def count_of(record: Record) -> int:
    """The tab's badge: the record's requests where it is the office's turn (open or
    answered), counted from the tab's own list when this request has read it."""
    listed = g.get("record_conversations", {}).get(record.id)
    if listed is None:
        listed = conversation_access.of_record(record)
    return sum(1 for conversation in listed if conversation.status in conversations.OFFICE_TURN)


def tab_context(record: Record) -> dict[str, t.Any]:
    """What the record page's Requests tab reads, as ``requests_tab``."""
    listed = conversation_access.of_record(record)
    g.setdefault("record_conversations", {})[record.id] = listed
    return {
        "conversations": listed,
        "form": new_form_context(record),
        "today": documents.office_today(),
        "local_datetime": local_datetime,
        "is_overdue": conversation_access.is_overdue,
        "can_answer": can_answer,
    }


def new_form_context(
    record: Record, values: t.Any = None, errors: dict[str, str] | None = None
) -> dict[str, t.Any]:
    return {
        "action": url_for("requests.new_request", record_id=record.id),
        "typed": values or {},
        "errors": errors or {},
        "staff": staff_options(),
        "default_assignee": record.assigned_agent_id or current_user.id,
        "today": documents.office_today(),
        "max_mb": documents.upload_rule().max_bytes >> 20,
        "max_files": documents.MAX_FILES,
    }


def _uploads() -> list[documents.Upload]:
    return [
        documents.Upload(stream=file.stream, filename=file.filename)
        for file in request.files.getlist("files")
        if file.filename
    ]


def _day(text: str | None) -> date | None:
    text = (text or "").strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValidationError("Give the due date as a date (YYYY-MM-DD).", field="due_on") from None


def _staff_member(text: str | None, *, required: bool = False) -> User | None:
    text = (text or "").strip()
    if not text:
        if required:
            raise ValidationError("Choose a staff member.", field="assignee_id")
        return None
    digits = text.isascii() and text.isdigit()  # "²" is a digit to str.isdigit, not to int()
    user = db.session.get(User, int(text)) if digits and len(text) < 19 else None
    if user is None or not user.active:
        raise ValidationError("Choose an active staff member.", field="assignee_id")
    return user


def _cross_site() -> bool:
    """A page opened from another site (a link or a frame there): it must not change
    anything, not even a read mark."""
    return request.headers.get("Sec-Fetch-Site", "same-origin") not in ("same-origin", "none")


class ConversationRoutes:
    """The record tab's and the thread page's routes, on the Requests view."""

    render: t.Callable[..., t.Any]

    _record = staticmethod(record_or_404)

    def _thread(self, conversation_id: int) -> Conversation:
        try:
            return conversation_access.thread(conversation_id)
        except NotFound:
            abort(404)

    @expose("/record/<int:record_id>/new/", methods=("GET", "POST"))
    @takes_documents
    def new_request(self, record_id: int) -> t.Any:
        """The New request form: the record's tab posts here; a refusal shows this page with
        the message and what was typed."""
        record = self._record(record_id)
        errors: dict[str, str] = {}
        if request.method == "POST":
            form = request.form
            try:
                with transactions.attempt():
                    due_on = _day(form.get("due_on"))
                    assignee = _staff_member(form.get("assignee_id"))
                    conversation = conversations.send_request(
                        record,
                        current_user,
                        form.get("subject"),
                        form.get("message"),
                        _uploads(),
                        due_on=due_on,
                        assignee=assignee,
                    )
            except ValidationError as exc:
                errors[exc.field or "form"] = exc.message
            else:
                flash(f"Request “{conversation.subject}” sent to {record.display_name}.", "success")
                if not can_answer(None, dict(enumerate(portal_credentials.accounts_of(record)))):
                    flash(NO_PORTAL, "warning")
                return redirect(record_requests_url(record.id))
        return self.render(
            "admin/conversation/new.html",
            record=record,
            form=new_form_context(record, request.form, errors),
            can_answer=can_answer(None, dict(enumerate(portal_credentials.accounts_of(record)))),
            back=record_requests_url(record.id),
        )

    @expose("/<int:conversation_id>/")
    def thread(self, conversation_id: int) -> t.Any:
        conversation = self._thread(conversation_id)
        if not _cross_site():
            conversation_access.read_by_staff(conversation)
        return self._render_thread(conversation)

    def _render_thread(
        self, conversation: Conversation, values: t.Any = None, error: str | None = None
    ) -> t.Any:
        return self.render(
            "admin/conversation/thread.html",
            conversation=conversation,
            record=conversation.record,
            answers=answer_rows(conversation),
            staff=staff_options(),
            values=values or {},
            error=error,
            overdue=conversation_access.is_overdue(conversation),
            closed=conversation.status == ConversationStatus.CLOSED,
            linked_text=linkify,
            local_datetime=local_datetime,
            human_size=human_size,
            back=record_requests_url(conversation.record_id),
            max_mb=documents.upload_rule().max_bytes >> 20,
        )

    @expose("/<int:conversation_id>/reply/", methods=("POST",))
    @takes_documents
    def reply(self, conversation_id: int) -> t.Any:
        conversation = self._thread(conversation_id)
        try:
            with transactions.attempt():
                conversations.reply_as_staff(
                    conversation, current_user, request.form.get("message"), _uploads()
                )
        except ValidationError as exc:
            return self._render_thread(conversation, request.form, exc.message)
        flash("Reply sent: the request now waits on the client.", "success")
        return redirect(url_for(".thread", conversation_id=conversation.id))

    @expose("/<int:conversation_id>/close/", methods=("POST",))
    def close(self, conversation_id: int) -> Response:
        conversation = self._thread(conversation_id)
        conversations.close(conversation, current_user)
        flash("Closed. The client can no longer reply; reopen it if needed.", "success")
        return redirect(url_for(".thread", conversation_id=conversation.id))

    @expose("/<int:conversation_id>/reopen/", methods=("POST",))
    def reopen(self, conversation_id: int) -> Response:
        conversation = self._thread(conversation_id)
        conversations.reopen(conversation, current_user)
        flash("Reopened: it is the office's turn.", "success")
        return redirect(url_for(".thread", conversation_id=conversation.id))

    @expose("/<int:conversation_id>/assign/", methods=("POST",))
    def assign(self, conversation_id: int) -> Response:
        conversation = self._thread(conversation_id)
        try:
            with transactions.attempt():
                conversations.assign(conversation, _staff_member(request.form.get("assignee_id")))
        except ValidationError as exc:
            flash(exc.message, "error")
        else:
            who = conversation.assignee.full_name if conversation.assignee else "nobody"
            flash(f"Assigned to {who}.", "success")
        return redirect(url_for(".thread", conversation_id=conversation.id))


def answer_rows(conversation: Conversation) -> list[tuple[str, str, list[t.Any]]]:
    """A client request's answers as (label, text, files), in the request type's order; an
    answer to a field no longer in the type keeps a plain label. Without its request type (an
    admin deleted it) there are no labels: the message, the answers as lines, says it all."""
    if not conversation.answers or conversation.request_type is None:
        return []
    fields = {str(f.id): f for f in conversation.request_type.fields}
    files = {
        document.id: document
        for message in conversation.messages
        for document in message.attachments
    }
    order = {key: n for n, key in enumerate(fields)}
    rows = []
    for key in sorted(conversation.answers, key=lambda k: (order.get(k, len(order)), k)):
        value = conversation.answers[key]
        field = fields.get(key)
        label = field.label if field is not None else "Answer"
        if field is not None and field.field_type == "file":
            ids = value if isinstance(value, list) else [value]
            rows.append((label, "", [files[i] for i in ids if i in files]))
            continue
        rows.append((label, _shown(value), []))
    return rows


def _shown(value: t.Any) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, list):
        return ", ".join(_shown(v) for v in value)
    return str(value)


__all__ = ["ConversationRoutes", "count_of", "tab_context"]
