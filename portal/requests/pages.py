"""Requests: the client's list (*Incoming requests* from the office, *Your requests and
messages*), a thread with its files and the reply form, and *Contact us*. The forms and how a
conversation is described are shared with the JSON routes (``api``).

Opening a thread marks it read, the one write of these GETs: only when the client opens it
from the portal or by hand (never the staff preview, never a page on another site sending the
browser here, so nobody elsewhere can clear a client's badge). A file opens like a document
(logged; refused when another site asks for it)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import (
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import format_date, format_time
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import MultipleFileField, StringField, TextAreaField

from app import transactions
from app.errors import takes_documents
from app.services import conversation_access, conversations, documents
from app.services.errors import NotFound, ValidationError
from app.storage import DOCUMENTS
from app.text import linkify
from models import (
    Conversation,
    ConversationKind,
    ConversationMessage,
    ConversationStatus,
    PortalAccount,
)
from portal import bp
from portal.documents import ACCEPT, account_or_404, human_size, local_day, received_files
from portal.guards import client_required
from portal.limits import contact_per_account, per_account_reads, replies_per_account
from portal.navigation import client_screen

#: The status of a conversation as the client reads it.
STATUS_WORDS = {
    ConversationStatus.OPEN: _l("Sent to the office"),
    ConversationStatus.WAITING: _l("Waiting for your answer"),
    ConversationStatus.ANSWERED: _l("With the office"),
    ConversationStatus.CLOSED: _l("Closed"),
}


class ReplyForm(FlaskForm):
    """A reply: its CSRF token, the message and files; what is kept is the service's to say
    (a message or a file at least, its length, the files' types from their bytes)."""

    message = TextAreaField(_l("Your message"))
    files = MultipleFileField(_l("Attach files"))


class ContactForm(FlaskForm):
    subject = StringField(_l("Subject"))
    message = TextAreaField(_l("Message"))
    files = MultipleFileField(_l("Attach files (optional)"))


# -- how a conversation is described ----------------------------------------------------------


def status_words(conversation: Conversation) -> str:
    return str(STATUS_WORDS[conversation.status])


def local_time(when: datetime | None) -> str:
    """A moment in the office's time zone, in the client's language ("Dec 2, 2026, 3:04 PM")."""
    if when is None:
        return ""
    local = when.astimezone(ZoneInfo(current_app.config["PORTICO_TIMEZONE"]))
    return f"{format_date(local.date())}, {format_time(local, 'short', rebase=False)}"


def due_day(conversation: Conversation) -> str:
    return format_date(conversation.due_on) if conversation.due_on else ""


def author(message: ConversationMessage, account: PortalAccount | None) -> str:
    if account is not None and message.author_account_id == account.id:
        return _("You")
    return message.author_name


def upload_help() -> dict[str, Any]:
    """What the file inputs say and accept: the documents' rules."""
    return {
        "accept": ACCEPT,
        "types": DOCUMENTS.describe_types(),
        "max_mb": int(current_app.config["PORTICO_DOCUMENT_MAX_MB"]),
        "max_files": documents.MAX_FILES,
    }


def new_request_endpoint() -> str | None:
    """ "New request" where that page exists (on the portal or in the preview)."""
    endpoint = f"{request.blueprint}.request_new"
    return endpoint if endpoint in current_app.view_functions else None


def _helpers() -> dict[str, Any]:
    return {
        "status_words": status_words,
        "local_time": local_time,
        "local_day": local_day,
        "due_day": due_day,
        "author": author,
        "linkify": linkify,
        "human_size": human_size,
        "is_overdue": conversation_access.is_overdue,
        "new_request": new_request_endpoint(),
        **upload_help(),
    }


# -- the list -----------------------------------------------------------------------------------


def requests() -> Any:
    account = g.get("portal_account")
    found = conversation_access.of_client(account) if account is not None else []
    return render_template(
        "portal/requests.html",
        incoming=[c for c in found if c.kind == ConversationKind.STAFF_REQUEST],
        yours=[c for c in found if c.kind != ConversationKind.STAFF_REQUEST],
        **_helpers(),
    )


client_screen("/requests")(requests)


# -- a thread -----------------------------------------------------------------------------------


def _from_the_portal() -> bool:
    """Opened from the portal, a bookmark or a typed address: not the staff preview, and not
    another site sending the browser here."""
    if g.get("portal_preview"):
        return False
    return request.headers.get("Sec-Fetch-Site") in (None, "same-origin", "none")


def _thread(conversation_id: int, form: ReplyForm, status: int = 200, error: str = "") -> Any:
    account = g.get("portal_account")
    if account is None:
        abort(404)
    try:
        conversation = conversation_access.for_client(account, conversation_id)
    except NotFound:
        abort(404)
    if request.method == "GET" and _from_the_portal():
        conversation_access.read_by_client(conversation)
    page = render_template(
        "portal/request_thread.html",
        conversation=conversation,
        account=account,
        closed=conversation.status == ConversationStatus.CLOSED,
        form=form,
        error=error,
        **_helpers(),
    )
    return page, status


def request_thread(conversation_id: int) -> Any:
    return _thread(conversation_id, ReplyForm(formdata=None))


client_screen("/requests/<int:conversation_id>")(request_thread)


@bp.post("/requests/<int:conversation_id>")
@takes_documents
@client_required
@replies_per_account()
def request_reply(conversation_id: int) -> Any:
    account = account_or_404()
    form = ReplyForm()
    if not form.validate_on_submit():
        return _thread(conversation_id, form, 400 if "csrf_token" in form.errors else 200)
    try:
        with transactions.attempt():
            conversations.reply_as_client(
                account, conversation_id, form.message.data, received_files()
            )
    except NotFound:
        abort(404)
    except ValidationError as refused:
        target = {"message": form.message, "files": form.files}.get(refused.field or "")
        if target is None:
            return _thread(conversation_id, form, error=refused.message)
        target.errors = [*target.errors, refused.message]
        return _thread(conversation_id, form)
    flash(_("Your reply was sent."), "success")
    return redirect(url_for("portal.request_thread", conversation_id=conversation_id))


@bp.get("/requests/<int:conversation_id>/files/<int:document_id>")
@client_required
@per_account_reads("requests")
def request_file(conversation_id: int, document_id: int) -> Any:
    """A file of the thread, as an attachment, once the service has logged the open."""
    account = account_or_404()
    if request.headers.get("Sec-Fetch-Site") == "cross-site":
        return redirect(url_for("portal.request_thread", conversation_id=conversation_id))
    try:
        with transactions.attempt():
            document = conversation_access.attachment_for_client(
                account, conversation_id, document_id
            )
            return documents.download(document, inline=False)
    except NotFound:
        abort(404)


# -- contact us ---------------------------------------------------------------------------------


def _contact_page(form: ContactForm, status: int = 200) -> Any:
    return render_template("portal/contact.html", form=form, **_helpers()), status


def contact() -> Any:
    return _contact_page(ContactForm(formdata=None))


client_screen("/contact")(contact)


@bp.post("/contact")
@takes_documents
@client_required
@contact_per_account()
def send_contact() -> Any:
    account = account_or_404()
    form = ContactForm()
    if not form.validate_on_submit():
        return _contact_page(form, 400 if "csrf_token" in form.errors else 200)
    try:
        with transactions.attempt():
            conversation = conversations.contact_us(
                account, form.subject.data, form.message.data, received_files()
            )
    except ValidationError as refused:
        fields = {"subject": form.subject, "message": form.message}
        target = fields.get(refused.field or "", form.files)
        target.errors = [*target.errors, refused.message]
        return _contact_page(form)
    flash(_("Your message reached your adviser."), "success")
    return redirect(url_for("portal.request_thread", conversation_id=conversation.id))
