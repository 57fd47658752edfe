"""New request: the request types the office offers (``/portal/requests/new``) and a type's
form (``/portal/requests/new/<key>``), its fields as the admins set them, files included; and
the JSON routes ``/portal/api/request-types`` (the types, their fields and JSON Schema) and
``/portal/api/request-types/<key>`` (send one, as multipart/form-data: the values as parts
named like the form's fields, the files as file parts). Both are validated by the same form,
built per request from the fields. Only clients send requests: a lead's account, an unknown
type or one switched off finds no such page (404)."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, g, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _

from app import transactions
from app.errors import takes_documents
from app.services import request_types
from app.services.errors import NotFound, ValidationError
from models import PortalAccount, RecordKind, RequestType
from portal import bp, openapi
from portal.api import error, form_errors, read_body
from portal.guards import client_required
from portal.limits import taken_only
from portal.navigation import client_screen
from portal.openapi import Reply, ref
from portal.requests.pages import upload_help

#: Requests per signed-in account, one count for every type, page and API: each emails the
#: adviser and may make a task, so enough for a busy week, never a script's flood. Only
#: requests taken count: a form sent back to fix does not use one up.
REQUEST_LIMIT = "10 per hour;30 per day"


def requests_per_account() -> Any:
    """:data:`REQUEST_LIMIT` per signed-in account, one count for the page and the API."""
    return taken_only(lambda: REQUEST_LIMIT, "portal-request-new-account")


def _for_clients() -> None:
    """Leads (and staff previewing one) find no such page."""
    record = g.get("portal_record")
    if record is None or record.kind != RecordKind.CLIENT:
        abort(404)


def _type_or_404(key: str) -> RequestType:
    _for_clients()
    try:
        return request_types.get(key)
    except NotFound:
        abort(404)


def _form_page(request_type: RequestType, form: Any, status: int = 200) -> Any:
    page = render_template(
        "portal/request_form.html",
        request_type=request_type,
        form=form,
        file_kind=request_types.FILE.name,
        field_name=request_types.field_name,
        **upload_help(),
    )
    return page, status


# -- pages --------------------------------------------------------------------------------------


def request_new() -> Any:
    _for_clients()
    return render_template("portal/request_new.html", request_types=request_types.offered())


def request_new_type(key: str) -> Any:
    request_type = _type_or_404(key)
    form = request_types.form_class(request_type, g.get("portal_account"))(formdata=None)
    return _form_page(request_type, form)


client_screen("/requests/new")(request_new)
client_screen("/requests/new/<key>")(request_new_type)


@bp.post("/requests/new/<key>")
@takes_documents
@client_required
@requests_per_account()
def request_new_type_send(key: str) -> Any:
    request_type = _type_or_404(key)
    account: PortalAccount | None = g.get("portal_account")
    if account is None:
        abort(404)
    form = request_types.form_class(request_type, account)()
    if not form.validate_on_submit():
        return _form_page(request_type, form, 400 if "csrf_token" in form.errors else 422)
    try:
        with transactions.attempt():
            conversation = request_types.submit(account, key, form)
    except NotFound:
        abort(404)
    except ValidationError as refused:
        if refused.field and refused.field in form:
            form[refused.field].errors = [*form[refused.field].errors, refused.message]
        else:
            flash(refused.message, "error")
        return _form_page(request_type, form, 422)
    flash(_("Your request reached your adviser."), "success")
    return redirect(url_for("portal.request_thread", conversation_id=conversation.id))


# -- JSON ---------------------------------------------------------------------------------------


def _keys() -> list[str]:
    return [request_type.key for request_type in request_types.offered()]


def _body(key: str) -> dict[str, Any]:
    """The parts of a request, one per active field (each its field type's schema), and the
    policy when the type asks for one."""
    try:
        request_type = request_types.get(key)
    except NotFound:
        return {"type": "object", "properties": {}}
    fields = request_types.active_fields(request_type)
    properties = {request_types.field_name(f): request_types.value_schema(f) for f in fields}
    required = [request_types.field_name(f) for f in fields if f.required]
    if request_type.asks_policy:
        properties[request_types.POLICY] = {
            "type": "string",
            "title": "Which policy is it about?",
            "description": "One of the policy ids listed with the type (required when the "
            "client has any)",
        }
    return {
        "type": "object",
        "title": f"A request of the type {key}",
        "additionalProperties": False,
        "properties": properties,
        "required": required,
    }


_OPTION = {
    "type": "object",
    "required": ["value", "label"],
    "properties": {"value": {"type": "string"}, "label": {"type": "string"}},
}
openapi.component(
    "request_field",
    {
        "type": "object",
        "required": ["name", "label", "help", "type", "required", "schema"],
        "properties": {
            "name": {"type": "string", "description": "Its part's name in the request"},
            "label": {"type": "string"},
            "help": {"type": "string"},
            "type": {"type": "string", "enum": list(request_types.FIELD_TYPES)},
            "required": {"type": "boolean"},
            "schema": {"type": "object", "description": "The JSON Schema of its value"},
            "options": {"type": "array", "items": _OPTION},
        },
    },
)
openapi.component(
    "request_type",
    {
        "type": "object",
        "required": ["key", "name", "description", "asks_policy", "policies", "fields", "url"],
        "properties": {
            "key": {"type": "string"},
            "name": {"type": "string"},
            "description": {"type": "string"},
            "asks_policy": {
                "type": "boolean",
                "description": "The request names one of the client's policies (part "
                "`policy`: one of `policies`)",
            },
            "policies": {"type": "array", "items": _OPTION},
            "fields": {"type": "array", "items": ref("request_field")},
            "url": {"type": "string", "description": "Where to send it"},
        },
    },
)
openapi.component(
    "request_sent",
    {
        "type": "object",
        "required": ["id", "subject", "url", "message"],
        "properties": {
            "id": {"type": "integer"},
            "subject": {"type": "string"},
            "url": {"type": "string", "description": "The request's thread"},
            "message": {"type": "string"},
        },
    },
)


def _api_account() -> PortalAccount | None:
    account: PortalAccount | None = g.get("portal_account")
    if account is None or account.record.kind != RecordKind.CLIENT:
        return None
    return account


def _described(request_type: RequestType, account: PortalAccount) -> dict[str, Any]:
    policies = request_types.policies(account) if request_type.asks_policy else []
    return {
        "key": request_type.key,
        "name": request_type.name,
        "description": request_type.description,
        "asks_policy": bool(policies),
        "policies": [
            {"value": str(p.id), "label": request_types.policy_label(p)} for p in policies
        ],
        "fields": [request_types.describe(f) for f in request_types.active_fields(request_type)],
        "url": url_for("portal.api_request_send", key=request_type.key),
    }


@bp.get("/api/request-types")
@openapi.operation(
    "get",
    "The request types the client may send, with their fields (clients only)",
    replies={
        200: Reply(
            "The types, in the office's order",
            {
                "type": "object",
                "required": ["request_types"],
                "properties": {"request_types": {"type": "array", "items": ref("request_type")}},
            },
        )
    },
)
@client_required
def api_request_types() -> Any:
    account = _api_account()
    if account is None:
        return error(404, _("This page does not exist."))
    return jsonify({"request_types": [_described(t, account) for t in request_types.offered()]})


#: What a yes/no part may say (a form reads any other text as "yes").
_YES_NO = {"true", "false"}


def _unreadable_parts(form: Any) -> dict[str, list[str]]:
    """Parts the form has no field for, and yes/no parts that are neither true nor false."""
    known = {field.name for field in form}
    problems: dict[str, list[str]] = {}
    for name in set(request.form) | set(request.files):
        if name not in known or name == "csrf_token":
            problems[name] = [_("There is no such field to change here.")]
    for question in form.questions:
        name = request_types.field_name(question)
        if question.field_type == "yes_no" and any(
            value not in _YES_NO for value in request.form.getlist(name)
        ):
            problems[name] = [_("Send true or false.")]
        if question.field_type != request_types.FILE.name and len(request.form.getlist(name)) > 1:
            problems[name] = [_("Send one value.")]
    return problems


@bp.post("/api/request-types/<key>")
@openapi.operation(
    "post",
    lambda key: (
        f"Send a request of the type {key} (clients only): the values as parts named "
        "like its fields, files as file parts, each file checked by its content and size"
    ),
    body=_body,
    body_name="request_{key}",
    content_type="multipart/form-data",
    replies={201: Reply("Sent: the request's thread", "request_sent")},
    errors=(400, 401, 404, 413, 422, 429),
)
@openapi.each(key=_keys)
@takes_documents
@client_required
@requests_per_account()
def api_request_send(key: str) -> Any:
    account = _api_account()
    try:
        request_type = request_types.get(key) if account is not None else None
    except NotFound:
        request_type = None
    if account is None or request_type is None:
        return error(404, _("This page does not exist."))
    if request.is_json:  # an object of text (or true/false, numbers) is read as the parts are
        _body_read, not_text = read_body(_body(key))
        if not_text is not None:
            return not_text
    form = request_types.form_class(request_type, account)(meta={"csrf": False})
    problems = _unreadable_parts(form)
    if problems:
        return error(422, _("Nothing was sent: some parts are not of the right kind."), problems)
    if not form.validate():
        return form_errors(form)
    try:
        with transactions.attempt():
            conversation = request_types.submit(account, key, form)
    except NotFound as missing:
        return error(404, str(missing))
    except ValidationError as refused:
        fields = {refused.field: [refused.message]} if refused.field else None
        return error(422, _("Nothing was sent: %(reason)s", reason=refused.message), fields)
    return (
        jsonify(
            {
                "id": conversation.id,
                "subject": conversation.subject,
                "url": url_for("portal.request_thread", conversation_id=conversation.id),
                "message": _("Your request reached your adviser."),
            }
        ),
        201,
    )
