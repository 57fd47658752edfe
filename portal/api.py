"""What every JSON route of the portal shares: the error body and reading a request body.

Errors are JSON: ``{"error": {"code", "message", "fields": {key: [messages]}}}``. A body is
read in two steps. First its shape, by :mod:`jsonschema` against the schema the route
documents (portal/openapi.py): a JSON object, no key the route does not read, and each value
of the right kind (true or false for yes/no, text or a number for the rest), so a form never
quietly bends a list into its first item or "no" into yes. Then the values, by the route's
WTForms form, whose messages are the ones the HTML page shows.
"""

from __future__ import annotations

from typing import Any

from flask import jsonify, request
from flask_babel import gettext as _
from jsonschema import Draft202012Validator

#: What a value that is not a yes/no may be: the forms read numbers as their text.
SCALAR = ["string", "number", "null"]
#: Kinds a documented value may have that the check understands.
KNOWN = {"string", "number", "integer", "null"}


def error(code: int, message: str, fields: dict[str, list[str]] | None = None, **extra: Any) -> Any:
    body: dict[str, Any] = {"error": {"code": code, "message": message, **extra}}
    if fields:
        body["error"]["fields"] = fields
    return jsonify(body), code


def form_errors(form: Any) -> Any:
    return error(
        422,
        _("Some values need fixing; nothing was saved."),
        {name: list(errors) for name, errors in form.errors.items()},
    )


def read_object() -> tuple[dict[str, Any] | None, Any]:
    """The body as a JSON object, or the 400 that says it is not one."""
    try:
        body = request.get_json(silent=True)
    except RecursionError:  # nested deeper than any form: not a body we read
        body = None
    if not isinstance(body, dict):
        return None, error(400, _("Send a JSON object (Content-Type: application/json)."))
    if not _encodable(body):
        # "\ud800" is valid JSON but no text: it cannot be stored or sent on.
        return None, error(400, _("Send text as UTF-8: a value holds a lone surrogate escape."))
    return body, None


def _encodable(value: Any) -> bool:
    """Every string in a parsed JSON body (keys too) is real text (no lone surrogates)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return False
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return True


def read_body(schema: dict[str, Any]) -> tuple[dict[str, Any] | None, Any]:
    """The body, checked for its shape against ``schema`` (the documented request body):
    ``(body, None)``, or ``(None, the 4xx answer)``."""
    body, refused = read_object()
    if body is None:
        return None, refused
    refused = check_shape(body, schema)
    return (None, refused) if refused is not None else (body, None)


def check_shape(body: dict[str, Any], schema: dict[str, Any]) -> Any:
    """The 422 for keys ``schema`` does not have and values of the wrong kind; None if none."""
    problems: dict[str, list[str]] = {}
    for found in Draft202012Validator(shape(schema)).iter_errors(body):
        if found.validator == "additionalProperties":
            for key in sorted(set(body) - set(schema.get("properties", {}))):
                problems[key] = [_("There is no such field to change here.")]
        elif found.path:
            kinds = found.schema.get("type") if isinstance(found.schema, dict) else None
            problems[str(found.path[0])] = [_what_to_send(kinds)]
    if not problems:
        return None
    return error(422, _("Nothing was saved: some values are not of the right kind."), problems)


def shape(schema: dict[str, Any]) -> dict[str, Any]:
    """The kinds part of an object schema: which keys, and for each value true/false or a
    scalar. What a value must look like beyond that is the form's to say, in its words."""
    properties = {key: _kind(value) for key, value in schema.get("properties", {}).items()}
    checked: dict[str, Any] = {"type": "object", "properties": properties}
    if schema.get("additionalProperties") is False:
        checked["additionalProperties"] = False
    return checked


def _kind(schema: dict[str, Any]) -> dict[str, Any]:
    """The JSON kinds the documented schema allows (a number where text is documented is
    refused, as the document says), or any scalar when the schema does not say."""
    kinds = _types(schema)
    if kinds == {"boolean"}:
        return {"type": "boolean"}
    if kinds and kinds <= KNOWN:
        return {"type": sorted(kinds)}
    return {"type": SCALAR}


def _what_to_send(kinds: Any) -> str:
    allowed = {kinds} if isinstance(kinds, str) else set(kinds or ())
    if allowed == {"boolean"}:
        return _("Send true or false.")
    if allowed & {"number", "integer"} and "string" not in allowed:
        return _("Send a number.")
    if "string" in allowed and not allowed & {"number", "integer"}:
        return _("Send text.")
    return _("Send text or a number.")


def _types(schema: dict[str, Any]) -> set[str]:
    kinds = schema.get("type")
    if isinstance(kinds, str):
        return {kinds}
    if isinstance(kinds, list):
        return set(kinds)
    if "anyOf" in schema:
        return set().union(*(_types(option) for option in schema["anyOf"]))
    if "enum" in schema:
        return {"boolean" if isinstance(v, bool) else "scalar" for v in schema["enum"]}
    return {"any"}
