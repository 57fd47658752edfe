"""The OpenAPI 3.1 document of the portal's JSON API, built from the routes themselves.

Each JSON route declares what it takes and answers where it is written::

    @bp.post("/api/<any(prescriptions, providers):list_key>")
    @openapi.operation("post", "Add an entry", body=entry_body, replies={201: ...})
    @openapi.each(list_key=lambda: list(LISTS))

and :func:`document` walks the application's routes, so a feature's new JSON route is in the
document with no edit here. The request body schema a route declares is also what checks
its bodies (:func:`request_schema`, :func:`portal.api.read_body`), and it comes from the forms
and the field types' JSON Schemas (:mod:`portal.schemas`): the document and the server cannot
disagree. ``tests/test_openapi_contract.py`` holds the server to it with generated requests.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

from flask import Flask, current_app, jsonify, request

from app.services import field_types
from app.services.portal_settings import get_settings
from portal import bp

View = TypeVar("View", bound=Callable[..., Any])
#: A schema: the schema itself, a component's name, or either made from the path's values.
Schema = dict[str, Any] | str | Callable[..., "dict[str, Any] | str"]

#: What the document says of itself.
DESCRIPTION = """The client portal's JSON API: the same forms as the portal's pages, fed JSON.
The field schemas follow the office's current configuration of the fields.

What it promises: reads need the session cookie; writes need it and the ``X-CSRFToken`` header
(``GET /portal/api/details`` hands out the token). Without a session every call answers 401.
Required fields are never null. Every error body has the one shape of ``Error``:
``{"error": {"code", "message", "fields": {key: [messages]}}}``.
"""

#: Reads: the portal session. Writes: the session and the CSRF header.
READ: list[dict[str, list[str]]] = [{"session": []}]
WRITE: list[dict[str, list[str]]] = [{"session": [], "csrf": []}]
#: Ids are 32-bit integer keys: a larger one is refused (400 on PostgreSQL, 404 on SQLite).
MAX_ID = 2**31 - 1
READ_ERRORS = (400, 401, 404)
WRITE_ERRORS = (400, 401, 404, 413, 422)

ERROR_TEXT = {
    400: "The request could not be read: not a JSON object, the X-CSRFToken header "
    "missing or wrong, or a number out of range",
    401: "Not signed in",
    403: "Signed in, but not allowed to do this: with reason fresh_sign_in_required, not "
    "before confirming it's you; a document or a certificate, not when another site asked "
    "for it; a certificate, not once the office no longer shares it",
    404: "No such thing (or it belongs to someone else)",
    413: "The request is too large",
    422: "Invalid values; nothing saved",
    429: "Too many requests (or codes to new addresses and numbers); nothing saved",
}

#: Shapes of answers that several routes share, by name; features add theirs (:func:`component`).
COMPONENTS: dict[str, dict[str, Any]] = {
    "Error": {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["code", "message"],
                "properties": {
                    "code": {"type": "integer"},
                    "message": {"type": "string"},
                    "fields": {
                        "type": "object",
                        "additionalProperties": {"type": "array", "items": {"type": "string"}},
                    },
                    "max_mb": {"type": "integer"},
                    "retry_after": {"type": "integer"},
                    "reason": {
                        "type": "string",
                        "description": "Why, for errors a client acts on: "
                        "fresh_sign_in_required (403: confirm it's you at `confirm` first), "
                        "too_many_codes (429)",
                    },
                    "confirm": {"type": "string", "description": "Where to confirm it's you"},
                },
            }
        },
    }
}


def component(name: str, schema: dict[str, Any]) -> dict[str, Any]:
    """Name a shape of answer (``{"$ref": "#/components/schemas/<name>"}`` reaches it)."""
    COMPONENTS[name] = schema
    return schema


def ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


@dataclass(frozen=True)
class Reply:
    """A documented success answer: what it means, its body (if any) and its headers."""

    description: str
    schema: Schema | None = None
    headers: dict[str, Any] | None = None


@dataclass(frozen=True)
class Operation:
    method: str
    summary: str | Callable[..., str]
    replies: dict[int, Reply]
    errors: tuple[int, ...]
    #: The request body's schema (made from the path's values), and the component it is
    #: shown as (a name formatted with the path's values).
    body: Callable[..., dict[str, Any]] | None = None
    body_name: str | None = None
    #: How the body is sent: JSON, or a form with files (multipart/form-data).
    content_type: str = "application/json"


def operation(
    method: str,
    summary: str | Callable[..., str],
    *,
    replies: dict[int, Reply],
    errors: tuple[int, ...] = READ_ERRORS,
    body: Callable[..., dict[str, Any]] | None = None,
    body_name: str | None = None,
    content_type: str = "application/json",
) -> Callable[[View], View]:
    """Document one method of the route below (put it under ``@bp.route``)."""

    def declare(view: View) -> View:
        found = view.__dict__.setdefault("openapi", [])
        found.append(Operation(method, summary, replies, errors, body, body_name, content_type))
        return view

    return declare


def each(**values: Callable[[], list[str]]) -> Callable[[View], View]:
    """The route's path arguments that the document lists value by value (a section, a
    list), each with its own schemas; the values are read when the document is built."""

    def declare(view: View) -> View:
        view.__dict__["openapi_each"] = values
        return view

    return declare


def request_schema() -> dict[str, Any]:
    """The body schema the current route documents for the current method."""
    view = current_app.view_functions[str(request.endpoint)]
    values = {k: (request.view_args or {})[k] for k in getattr(view, "openapi_each", {})}
    for op in getattr(view, "openapi", []):
        if op.method == request.method.lower() and op.body is not None:
            return op.body(**values)
    raise LookupError(f"{request.endpoint} documents no body for {request.method}")


def document() -> dict[str, Any]:
    """The whole document, for the fields as configured now."""
    schemas = dict(COMPONENTS)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": f"{get_settings().portal_name}: client portal API",
            "version": "1",
            "description": DESCRIPTION,
        },
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "session": {"type": "apiKey", "in": "cookie", "name": "session"},
                "csrf": {"type": "apiKey", "in": "header", "name": "X-CSRFToken"},
            },
        },
        "security": READ,
        "paths": paths(current_app, schemas),
        "x-field-types": {name: ft.settings_doc for name, ft in field_types.REGISTRY.items()},
    }


def paths(app: Flask, schemas: dict[str, Any]) -> dict[str, Any]:
    """Every documented route of ``app``, as OpenAPI paths; the request bodies that have a
    name go into ``schemas``."""
    found: dict[str, Any] = {}
    for rule in app.url_map.iter_rules():
        view = app.view_functions.get(rule.endpoint)
        operations: list[Operation] = getattr(view, "openapi", [])
        for values in _expansions(getattr(view, "openapi_each", {})) if operations else ():
            path, parameters = _path(rule.rule, values)
            item = found.setdefault(path, {})
            if parameters:
                item["parameters"] = parameters
            for op in operations:
                item[op.method] = _operation(op, values, schemas)
    return found


def _expansions(each_values: dict[str, Callable[[], list[str]]]) -> Iterator[dict[str, str]]:
    names = list(each_values)
    for combination in itertools.product(*(each_values[name]() for name in names)):
        yield dict(zip(names, combination, strict=True))


_ARGUMENT = re.compile(r"<(?:(?P<converter>\w+)(?:\([^)]*\))?:)?(?P<name>\w+)>")


def _path(rule: str, values: dict[str, str]) -> tuple[str, list[dict[str, Any]]]:
    parameters = []

    def replace(match: re.Match[str]) -> str:
        name = match["name"]
        if name in values:
            return values[name]
        schema: dict[str, Any] = {"type": "string"}
        if match["converter"] == "int":
            schema = {"type": "integer", "minimum": 0, "maximum": MAX_ID}
        parameters.append({"name": name, "in": "path", "required": True, "schema": schema})
        return "{" + name + "}"

    return _ARGUMENT.sub(replace, rule), parameters


def _operation(op: Operation, values: dict[str, str], schemas: dict[str, Any]) -> dict[str, Any]:
    summary = op.summary(**values) if callable(op.summary) else op.summary
    found: dict[str, Any] = {
        "summary": summary,
        "security": READ if op.method == "get" else WRITE,
    }
    if op.body is not None:
        schema: dict[str, Any] = op.body(**values)
        if op.body_name:
            name = op.body_name.format(**values)
            schemas[name] = schema
            schema = ref(name)
        found["requestBody"] = {
            "required": True,
            "content": {op.content_type: {"schema": schema}},
        }
    responses: dict[str, Any] = {}
    for code, reply in op.replies.items():
        answer: dict[str, Any] = {"description": reply.description}
        if reply.schema is not None:
            answer["content"] = {"application/json": {"schema": _schema(reply.schema, values)}}
        if reply.headers:
            answer["headers"] = reply.headers
        responses[str(code)] = answer
    for code in op.errors:
        responses[str(code)] = {
            "description": ERROR_TEXT[code],
            "content": {"application/json": {"schema": ref("Error")}},
        }
    found["responses"] = responses
    return found


def _schema(schema: Schema, values: dict[str, str]) -> dict[str, Any]:
    made = schema(**values) if callable(schema) else schema
    return ref(made) if isinstance(made, str) else made


@bp.get("/api/openapi.json")
def openapi() -> Any:
    """OpenAPI 3.1 description; the field schemas follow the admin's current configuration."""
    return jsonify(document())
