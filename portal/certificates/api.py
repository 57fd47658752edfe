"""The certificates JSON API, under ``/portal/api/certificates`` and in the OpenAPI document:
the shared masters (policies, insurers, dates, limits), adding a holder (201 with the
certificate for a Yes, 202 with the request for a No), the certificates issued, one
certificate's PDF, and *Request new certificate*. Bodies are the pages' forms fed JSON.
Anything not the client's answers 404 with a JSON body; a lead has no certificates (404)."""

from __future__ import annotations

from typing import Any

from flask import g, jsonify, url_for
from flask_babel import gettext as _

from app.services.certificates import client_certificates
from app.services.errors import NotFound, ValidationError
from models import Certificate, CertificateHolder, CertificateMaster, PortalAccount, RecordKind
from portal import bp, openapi
from portal.api import error, form_errors, read_body
from portal.certificates import (
    MODULE,
    downloads_per_account,
    holders_per_account,
    policy_json,
    requests_per_account,
)
from portal.certificates.forms import NO, YES, HolderForm, RequestForm
from portal.certificates.pages import (
    add_holder,
    certificate_file,
    from_another_site,
    pdf_response,
    refusal_field,
    request_new,
)
from portal.guards import client_required, module_enabled
from portal.openapi import READ_ERRORS, WRITE_ERRORS, Reply, ref
from portal.schemas import form_schema

_DATE = {"type": ["string", "null"], "format": "date"}

openapi.component(
    "certificate_policy",
    {
        "type": "object",
        "required": [
            "id",
            "insurer",
            "coverage",
            "policy_number",
            "effective_date",
            "expiry_date",
            "limits",
        ],
        "properties": {
            "id": {"type": "integer"},
            "insurer": {"type": "string", "description": "The carrier affording the coverage"},
            "coverage": {"type": "string", "description": "The type of insurance"},
            "policy_number": {"type": ["string", "null"]},
            "effective_date": _DATE,
            "expiry_date": _DATE,
            "limits": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["label", "amount"],
                    "properties": {
                        "label": {"type": "string"},
                        "amount": {"type": "number", "minimum": 0},
                    },
                },
            },
        },
    },
)
openapi.component(
    "certificate_master",
    {
        "type": "object",
        "required": ["id", "name", "description", "policies", "add_holder_url"],
        "properties": {
            "id": {"type": "integer"},
            "name": {"type": "string"},
            "description": {"type": "string", "description": "Description of operations"},
            "policies": {"type": "array", "items": ref("certificate_policy")},
            "add_holder_url": {"type": "string", "description": "Where to add a holder"},
        },
    },
)
openapi.component(
    "certificate",
    {
        "type": "object",
        "required": ["id", "number", "holder", "master", "issued_at", "download_url"],
        "properties": {
            "id": {"type": "integer"},
            "number": {"type": "string"},
            "holder": {"type": "string", "description": "The certificate holder's name"},
            "master": {"type": "string", "description": "The certificate it was issued from"},
            "issued_at": {"type": "string", "format": "date-time"},
            "download_url": {"type": "string", "description": "The sealed PDF (attachment)"},
        },
    },
)
openapi.component(
    "certificate_holder",
    {
        "type": "object",
        "required": ["id", "name", "meets_requirements"],
        "properties": {
            "id": {"type": "integer"},
            "name": {"type": "string"},
            "meets_requirements": {"type": "boolean"},
        },
    },
)
openapi.component(
    "certificate_request",
    {
        "type": "object",
        "required": ["id", "subject", "url"],
        "properties": {
            "id": {"type": "integer"},
            "subject": {"type": "string"},
            "url": {"type": "string", "description": "The request's thread in the portal"},
        },
    },
)


def _account() -> PortalAccount | None:
    account: PortalAccount | None = g.get("portal_account")
    if account is None or account.record.kind != RecordKind.CLIENT:
        return None
    return account


def _missing() -> Any:
    return error(404, _("This page does not exist."))


def master_json(master: CertificateMaster) -> dict[str, Any]:
    return {
        "id": master.id,
        "name": master.name,
        "description": master.description_of_operations,
        "policies": [policy_json(product) for product in master.policies],
        "add_holder_url": url_for("portal.api_certificate_holder_add", master_id=master.id),
    }


def certificate_json(certificate: Certificate) -> dict[str, Any]:
    return {
        "id": certificate.id,
        "number": certificate.number,
        "holder": certificate.holder.name,
        "master": certificate.master.name,
        "issued_at": certificate.issued_at.isoformat(),
        "download_url": url_for("portal.api_certificate_download", certificate_id=certificate.id),
    }


def _holder_json(holder: CertificateHolder) -> dict[str, Any]:
    return {"id": holder.id, "name": holder.name, "meets_requirements": holder.meets_requirements}


def _request_json(conversation: Any) -> dict[str, Any]:
    return {
        "id": conversation.id,
        "subject": conversation.subject,
        "url": url_for("portal.request_thread", conversation_id=conversation.id),
    }


def _refused(form: Any, refused: ValidationError) -> Any:
    field = refusal_field(form, refused)
    return error(422, refused.message, {field: [refused.message]} if field else None)


# -- masters and holders ------------------------------------------------------------------------


@bp.get("/api/certificates/masters")
@openapi.operation(
    "get",
    "The certificates the office shared with the client: each with its policies, insurers, "
    "dates and limits, and where to add a certificate holder",
    replies={
        200: Reply(
            "The shared masters",
            {
                "type": "object",
                "required": ["masters"],
                "properties": {"masters": {"type": "array", "items": ref("certificate_master")}},
            },
        )
    },
    errors=(401, 404),
)
@client_required
@module_enabled(MODULE)
def api_certificate_masters() -> Any:
    account = _account()
    if account is None:
        return _missing()
    masters = client_certificates.visible_masters(account)
    return jsonify({"masters": [master_json(master) for master in masters]})


def _holder_body() -> dict[str, Any]:
    schema = form_schema(HolderForm, title="Certificate holder")
    meets = schema["properties"]["meets"]
    schema["properties"]["meets"] = {
        key: value for key, value in meets.items() if key not in ("minLength", "allOf", "pattern")
    } | {"type": "string", "enum": [YES, NO]}
    return schema


@bp.post("/api/certificates/masters/<int:master_id>/holders")
@openapi.operation(
    "post",
    "Add a certificate holder. meets yes (with understood true): the certificate is issued "
    "(201); no (with the reason): the agent is asked for one (202). A master whose policies "
    "left force takes no holder (422)",
    body=_holder_body,
    body_name="certificate_holder_new",
    replies={
        201: Reply(
            "The certificate, ready to download",
            {
                "type": "object",
                "required": ["holder", "certificate", "message"],
                "properties": {
                    "holder": ref("certificate_holder"),
                    "certificate": ref("certificate"),
                    "message": {"type": "string"},
                },
            },
        ),
        202: Reply(
            "Your agent was asked for the certificate and will be in touch",
            {
                "type": "object",
                "required": ["holder", "request", "message"],
                "properties": {
                    "holder": ref("certificate_holder"),
                    "request": ref("certificate_request"),
                    "message": {"type": "string"},
                },
            },
        ),
    },
    errors=(*WRITE_ERRORS, 429),
)
@client_required
@module_enabled(MODULE)
@holders_per_account()
def api_certificate_holder_add(master_id: int) -> Any:
    account = _account()
    if account is None:
        return _missing()
    try:
        master = client_certificates.master_for_account(account, master_id)
    except NotFound as missing:
        return error(404, str(missing))
    body, refused = read_body(openapi.request_schema())
    if body is None:
        return refused
    form = HolderForm.from_json(body, meta={"csrf": False})
    if not form.validate():
        return form_errors(form)
    try:
        holder = add_holder(master, form)
    except NotFound as missing:
        return error(404, str(missing))
    except ValidationError as problem:
        return _refused(form, problem)
    if holder.meets_requirements and holder.certificates:
        reply = {
            "holder": _holder_json(holder),
            "certificate": certificate_json(holder.certificates[-1]),
            "message": _("Your certificate is ready."),
        }
        return jsonify(reply), 201
    return jsonify(
        {
            "holder": _holder_json(holder),
            "request": _request_json(holder.conversation),
            "message": _("We received your request: your agent will be in touch."),
        }
    ), 202


# -- certificates -------------------------------------------------------------------------------


@bp.get("/api/certificates")
@openapi.operation(
    "get",
    "Your certificates: those issued to the holders the client added, newest first",
    replies={
        200: Reply(
            "The certificates",
            {
                "type": "object",
                "required": ["certificates"],
                "properties": {"certificates": {"type": "array", "items": ref("certificate")}},
            },
        )
    },
    errors=(401, 404),
)
@client_required
@module_enabled(MODULE)
def api_certificates() -> Any:
    account = _account()
    if account is None:
        return _missing()
    issued = client_certificates.certificates_for_account(account)
    return jsonify({"certificates": [certificate_json(c) for c in issued]})


@bp.get("/api/certificates/<int:certificate_id>/download")
@openapi.operation(
    "get",
    "One certificate's sealed PDF, as an attachment (the download is logged)",
    replies={200: Reply("The PDF")},
    errors=(*READ_ERRORS, 403, 429),
)
@client_required
@module_enabled(MODULE)
@downloads_per_account()
def api_certificate_download(certificate_id: int) -> Any:
    if _account() is None:
        return _missing()
    if from_another_site():
        return error(403, _("Download certificates from the portal."))
    try:
        certificate, data = certificate_file(certificate_id)
    except NotFound as missing:
        return error(404, str(missing))
    except ValidationError as refused:
        return error(403, refused.message)
    return pdf_response(certificate, data)


def _request_body() -> dict[str, Any]:
    return form_schema(RequestForm, title="Certificate request")


@bp.post("/api/certificates/requests")
@openapi.operation(
    "post",
    "Request new certificate: a message to the agent for what adding a holder does not cover",
    body=_request_body,
    body_name="certificate_request_new",
    replies={
        201: Reply(
            "Sent: your agent will be in touch",
            {
                "type": "object",
                "required": ["request", "message"],
                "properties": {
                    "request": ref("certificate_request"),
                    "message": {"type": "string"},
                },
            },
        )
    },
    errors=(*WRITE_ERRORS, 429),
)
@client_required
@module_enabled(MODULE)
@requests_per_account()
def api_certificate_request() -> Any:
    if _account() is None:
        return _missing()
    body, refused = read_body(openapi.request_schema())
    if body is None:
        return refused
    form = RequestForm.from_json(body, meta={"csrf": False})
    if not form.validate():
        return form_errors(form)
    try:
        conversation = request_new(form)
    except NotFound as missing:
        return error(404, str(missing))
    except ValidationError as problem:
        return _refused(form, problem)
    reply = {
        "request": _request_json(conversation),
        "message": _("We received your request: your agent will be in touch."),
    }
    return jsonify(reply), 201
