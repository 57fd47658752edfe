"""The requests JSON API: the list, a thread, marking it read, replying, and *Contact us*
(multipart: message and files), under ``/portal/api/requests`` and ``/portal/api/contact``, in
the OpenAPI document. Anything the account does not see answers 404 with a JSON body.

Reading a thread here does not mark it read: a program polling the API is not the client
reading; ``POST .../read`` says they did."""

from __future__ import annotations

from typing import Any

from flask import jsonify, request, url_for
from flask_babel import gettext as _

from app import transactions
from app.errors import takes_documents
from app.services import conversation_access, conversations, documents
from app.services.errors import NotFound, ValidationError
from models import Conversation, ConversationKind, ConversationMessage, PortalAccount
from portal import bp, openapi
from portal.api import error, read_body
from portal.documents import account_or_404, received_files
from portal.guards import client_required
from portal.limits import contact_per_account, replies_per_account
from portal.openapi import READ_ERRORS, Reply, ref
from portal.requests.pages import ContactForm, ReplyForm, status_words

STATUSES = ["open", "waiting", "answered", "closed"]

openapi.component(
    "request_summary",
    {
        "type": "object",
        "required": [
            "id",
            "kind",
            "incoming",
            "subject",
            "status",
            "status_text",
            "due_on",
            "overdue",
            "unread",
            "last_message_at",
            "url",
        ],
        "properties": {
            "id": {"type": "integer"},
            "kind": {"type": "string", "enum": [k.value for k in ConversationKind]},
            "incoming": {"type": "boolean", "description": "Sent by the office"},
            "subject": {"type": "string"},
            "status": {"type": "string", "enum": STATUSES},
            "status_text": {"type": "string"},
            "due_on": {"type": ["string", "null"], "format": "date"},
            "overdue": {"type": "boolean"},
            "unread": {"type": "boolean", "description": "The office wrote since it was read"},
            "last_message_at": {"type": "string", "format": "date-time"},
            "url": {"type": "string", "description": "The thread's page in the portal"},
        },
    },
)
openapi.component(
    "request_message",
    {
        "type": "object",
        "required": ["id", "side", "mine", "author", "body", "created_at", "attachments"],
        "properties": {
            "id": {"type": "integer"},
            "side": {"type": "string", "enum": ["client", "staff"]},
            "mine": {"type": "boolean", "description": "Written by this account"},
            "author": {"type": "string"},
            "body": {"type": "string", "description": "Plain text as typed"},
            "created_at": {"type": "string", "format": "date-time"},
            "attachments": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["id", "filename", "size", "content_type", "download_url"],
                    "properties": {
                        "id": {"type": "integer"},
                        "filename": {"type": "string"},
                        "size": {"type": ["integer", "null"]},
                        "content_type": {"type": ["string", "null"]},
                        "download_url": {"type": "string"},
                    },
                },
            },
        },
    },
)
openapi.component(
    "request_thread",
    {
        "type": "object",
        "required": ["request", "messages"],
        "properties": {
            "request": ref("request_summary"),
            "messages": {"type": "array", "items": ref("request_message")},
        },
    },
)


def summary_json(conversation: Conversation) -> dict[str, Any]:
    return {
        "id": conversation.id,
        "kind": conversation.kind.value,
        "incoming": conversation.kind == ConversationKind.STAFF_REQUEST,
        "subject": conversation.subject,
        "status": conversation.status.value,
        "status_text": status_words(conversation),
        "due_on": conversation.due_on.isoformat() if conversation.due_on else None,
        "overdue": conversation_access.is_overdue(conversation),
        "unread": conversation.unread_by_client,
        "last_message_at": conversation.last_message_at.isoformat(),
        "url": url_for("portal.request_thread", conversation_id=conversation.id),
    }


def message_json(message: ConversationMessage, account: PortalAccount) -> dict[str, Any]:
    return {
        "id": message.id,
        "side": message.side,
        "mine": message.author_account_id == account.id,
        "author": message.author_name,
        "body": message.body,
        "created_at": message.created_at.isoformat(),
        "attachments": [
            {
                "id": document.id,
                "filename": document.filename or document.title,
                "size": document.size,
                "content_type": document.content_type,
                "download_url": url_for(
                    "portal.request_file",
                    conversation_id=message.conversation_id,
                    document_id=document.id,
                ),
            }
            for document in message.attachments
        ],
    }


def _thread_json(account: PortalAccount, conversation: Conversation) -> dict[str, Any]:
    return {
        "request": summary_json(conversation),
        "messages": [message_json(m, account) for m in conversation.messages],
    }


def _files_schema() -> dict[str, Any]:
    return {
        "type": "array",
        "items": {"type": "string", "contentMediaType": "application/octet-stream"},
        "maxItems": documents.MAX_FILES,
    }


def _reply_body() -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {
            "message": {"type": "string", "maxLength": conversations.MAX_BODY},
            "files": _files_schema(),
        },
        "additionalProperties": False,
    }


def _contact_body() -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["subject", "message"],
        "properties": {
            "subject": {"type": "string", "minLength": 1, "maxLength": 200},
            "message": {"type": "string", "minLength": 1, "maxLength": conversations.MAX_BODY},
            "files": _files_schema(),
        },
        "additionalProperties": False,
    }


def _json_refused(schema: dict[str, Any]) -> Any:
    """The answer to a JSON body that is not an object of text (the form would read a list
    or an object as text, or fail on a body that is not an object); None for any other body.
    The documented body is multipart; a JSON object of text values is read alike."""
    if not request.is_json:
        return None
    _body, refused = read_body(schema)
    return refused


def _refused(refused: ValidationError) -> Any:
    return error(
        422,
        _("Nothing was sent: %(reason)s", reason=refused.message),
        {refused.field or "message": [refused.message]},
    )


@bp.get("/api/requests")
@openapi.operation(
    "get",
    "The client's requests: those the office sent (incoming) and their own, with their "
    "messages through Contact us; newest activity first",
    replies={
        200: Reply(
            "The list",
            {
                "type": "object",
                "required": ["requests", "unread"],
                "properties": {
                    "requests": {"type": "array", "items": ref("request_summary")},
                    "unread": {"type": "integer", "description": "How many are unread"},
                },
            },
        )
    },
    errors=(401,),
)
@client_required
def api_requests() -> Any:
    account = account_or_404()
    found = conversation_access.of_client(account)
    return jsonify(
        {
            "requests": [summary_json(c) for c in found],
            "unread": sum(1 for c in found if c.unread_by_client),
        }
    )


@bp.get("/api/requests/<int:conversation_id>")
@openapi.operation(
    "get",
    "One request with its messages, oldest first (reading it here does not mark it read)",
    replies={200: Reply("The thread", "request_thread")},
    errors=READ_ERRORS,
)
@client_required
def api_request(conversation_id: int) -> Any:
    account = account_or_404()
    try:
        conversation = conversation_access.for_client(account, conversation_id)
    except NotFound as missing:
        return error(404, str(missing))
    return jsonify(_thread_json(account, conversation))


@bp.post("/api/requests/<int:conversation_id>/read")
@openapi.operation(
    "post",
    "The client has read the request (its unread mark and the badge go)",
    replies={200: Reply("Marked read", "request_summary")},
    errors=(400, 401, 404),
)
@client_required
def api_request_read(conversation_id: int) -> Any:
    account = account_or_404()
    try:
        conversation = conversation_access.for_client(account, conversation_id)
    except NotFound as missing:
        return error(404, str(missing))
    conversation_access.read_by_client(conversation)
    return jsonify(summary_json(conversation))


@bp.post("/api/requests/<int:conversation_id>/replies")
@openapi.operation(
    "post",
    "Reply in a request with a message, files (each checked by its content and size), or "
    "both; a closed request takes no reply (422)",
    body=_reply_body,
    content_type="multipart/form-data",
    replies={201: Reply("Sent", "request_thread")},
    errors=(400, 401, 404, 413, 422, 429),
)
@takes_documents
@client_required
@replies_per_account()
def api_request_reply(conversation_id: int) -> Any:
    account = account_or_404()
    not_text = _json_refused(_reply_body())
    if not_text is not None:
        return not_text
    form = ReplyForm(meta={"csrf": False})
    try:
        with transactions.attempt():
            conversations.reply_as_client(
                account, conversation_id, form.message.data, received_files()
            )
            conversation = conversation_access.for_client(account, conversation_id)
    except NotFound as missing:
        return error(404, str(missing))
    except ValidationError as refused:
        return _refused(refused)
    return jsonify(_thread_json(account, conversation)), 201


@bp.post("/api/contact")
@openapi.operation(
    "post",
    "Write to the adviser (Contact us): a subject, a message and files; kept as a request "
    "of the client's, and the adviser is emailed",
    body=_contact_body,
    content_type="multipart/form-data",
    replies={201: Reply("Sent: the new request's thread", "request_thread")},
    errors=(400, 401, 404, 413, 422, 429),
)
@takes_documents
@client_required
@contact_per_account()
def api_contact() -> Any:
    account = account_or_404()
    not_text = _json_refused(_contact_body())
    if not_text is not None:
        return not_text
    form = ContactForm(meta={"csrf": False})
    try:
        with transactions.attempt():
            conversation = conversations.contact_us(
                account, form.subject.data, form.message.data, received_files()
            )
    except ValidationError as refused:
        return _refused(refused)
    return jsonify(_thread_json(account, conversation)), 201
