"""The documents JSON API: the list, one file, and sending the office documents (multipart),
all under ``/portal/api/documents`` and in the OpenAPI document."""

from __future__ import annotations

from typing import Any

from flask import jsonify, request, url_for
from flask_babel import gettext as _

from app.errors import takes_documents
from app.services import client_documents, documents
from app.services.errors import NotFound, ValidationError
from models import Document, DocumentKind
from portal import bp, openapi
from portal.api import error
from portal.documents import account_or_404, can_upload, open_document, policy, send, viewable
from portal.guards import client_required
from portal.limits import per_account_reads, uploads_per_account
from portal.openapi import READ_ERRORS, Reply, ref

openapi.component(
    "document",
    {
        "type": "object",
        "required": [
            "id",
            "title",
            "category",
            "id_card",
            "policy",
            "shared_at",
            "kind",
            "size",
            "content_type",
            "url",
            "download_url",
            "view_url",
        ],
        "properties": {
            "id": {"type": "integer"},
            "title": {"type": "string"},
            "category": {"type": ["string", "null"]},
            "id_card": {"type": "boolean"},
            "policy": {"type": ["string", "null"]},
            "shared_at": {"type": ["string", "null"], "format": "date-time"},
            "kind": {"type": "string", "enum": ["file", "link"]},
            "size": {"type": ["integer", "null"]},
            "content_type": {"type": ["string", "null"]},
            "url": {
                "type": ["string", "null"],
                "description": "A website link: opens (logged) and goes on to the address",
            },
            "download_url": {"type": ["string", "null"], "description": "The file (attachment)"},
            "view_url": {
                "type": ["string", "null"],
                "description": "The file shown in the browser (PDF and pictures only)",
            },
        },
    },
)
openapi.component(
    "sent_document",
    {
        "type": "object",
        "required": ["id", "filename", "size", "content_type", "note"],
        "properties": {
            "id": {"type": "integer"},
            "filename": {"type": "string"},
            "size": {"type": "integer"},
            "content_type": {"type": "string"},
            "note": {"type": ["string", "null"]},
        },
    },
)


def document_json(document: Document) -> dict[str, Any]:
    is_file = document.kind == DocumentKind.FILE
    return {
        "id": document.id,
        "title": document.title,
        "category": document.category.name if document.category else None,
        "id_card": bool(document.category and document.category.is_id_card),
        "policy": policy(document),
        "shared_at": document.shared_at.isoformat() if document.shared_at else None,
        "kind": document.kind.value,
        "size": document.size,
        "content_type": document.content_type,
        "url": None if is_file else url_for("portal.document_link", document_id=document.id),
        "download_url": (
            url_for("portal.api_document_download", document_id=document.id) if is_file else None
        ),
        "view_url": (
            url_for("portal.document_view", document_id=document.id) if viewable(document) else None
        ),
    }


def _sent_json(document: Document) -> dict[str, Any]:
    return {
        "id": document.id,
        "filename": document.filename or document.title,
        "size": document.size,
        "content_type": document.content_type,
        "note": document.client_note,
    }


@bp.route("/api/documents", methods=["GET", "POST"])
@openapi.operation(
    "get",
    "The documents the office shared with the client",
    replies={
        200: Reply(
            "The list, newest share first",
            {
                "type": "object",
                "required": ["documents"],
                "properties": {"documents": {"type": "array", "items": ref("document")}},
            },
        )
    },
    errors=(401,),
)
@openapi.operation(
    "post",
    "Send the office documents (up to 10 files, each checked by its content and size, and a "
    "note); only while the office lets clients share documents",
    body=lambda: {
        "type": "object",
        "required": ["files"],
        "properties": {
            "files": {
                "type": "array",
                "items": {"type": "string", "contentMediaType": "application/octet-stream"},
                "minItems": 1,
                "maxItems": documents.MAX_FILES,
            },
            "note": {"type": "string", "maxLength": 2000},
        },
        "additionalProperties": False,
    },
    content_type="multipart/form-data",
    replies={
        201: Reply(
            "Sent: the files now on the record, for the office",
            {
                "type": "object",
                "required": ["documents"],
                "properties": {"documents": {"type": "array", "items": ref("sent_document")}},
            },
        )
    },
    errors=(400, 401, 404, 413, 422, 429),
)
@takes_documents
@client_required
@uploads_per_account()
def api_documents() -> Any:
    account = account_or_404()
    if request.method == "GET":
        return jsonify(
            {"documents": [document_json(d) for d in client_documents.shared_with(account)]}
        )
    if not can_upload():
        return error(404, _("This page does not exist."))
    try:
        sent = send(request.form.get("note"))
    except NotFound as missing:
        return error(404, str(missing))
    except ValidationError as refused:
        return error(
            422,
            _("Nothing was sent: %(reason)s", reason=refused.message),
            {refused.field or "files": [refused.message]},
        )
    return jsonify({"documents": [_sent_json(d) for d in sent]}), 201


@bp.get("/api/documents/<int:document_id>/download")
@openapi.operation(
    "get",
    "One shared file, as an attachment (opening it is logged)",
    replies={200: Reply("The file")},
    errors=(*READ_ERRORS, 403, 429),
)
@client_required
@per_account_reads("documents")
def api_document_download(document_id: int) -> Any:
    return open_document(document_id, inline=False)
