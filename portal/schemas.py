"""JSON Schemas of request bodies, derived from what validates them: the portal fields' types
as the admin configured them (``FieldType.json_schema``), and the WTForms forms' fields and
validators. The OpenAPI document shows them; :func:`portal.api.read_body` checks bodies
against them."""

from __future__ import annotations

import copy
from typing import Any

from wtforms import BooleanField, IntegerField, PasswordField, validators
from wtforms.fields.core import UnboundField

from app.services import builtin_fields, field_types, field_values
from app.services.validation import MULTI_LINE_PATTERN, SINGLE_LINE_PATTERN

#: A value that is more than spaces: what a required text field needs.
NOT_BLANK = "\\S"


def required_value(schema: dict[str, Any]) -> dict[str, Any]:
    """A field type's schema for a field that must have a value: not null, not blank."""
    schema = copy.deepcopy(schema)
    if "anyOf" in schema:
        schema["anyOf"] = [required_value(option) for option in schema["anyOf"]]
        schema["anyOf"] = [option for option in schema["anyOf"] if option.get("enum") != []]
        return schema
    kind = schema.get("type")
    if isinstance(kind, list):
        kept = [k for k in kind if k != "null"]
        schema["type"] = kept[0] if len(kept) == 1 else kept
    if "enum" in schema:
        schema["enum"] = [value for value in schema["enum"] if value is not None]
    if schema.get("type") == "string" and "enum" not in schema and "format" not in schema:
        schema["minLength"] = max(1, schema.get("minLength", 0))
        schema["allOf"] = [*schema.get("allOf", []), {"pattern": NOT_BLANK}]
    return schema


def section_schema(section_key: str, *, partial: bool = False) -> dict[str, Any]:
    """What a client may send for a section of My details: each field's type schema, as
    configured now. A ``partial`` body (PATCH) may leave any field out, but not send a
    required one empty."""
    section = builtin_fields.SECTION_BY_KEY[section_key]
    editable = [item for item in field_values.layout()[section_key] if item.editable]
    properties = {}
    for item in editable:
        schema = item.type.json_schema(item.settings)
        if item.required:
            schema = required_value(schema)
        schema["title"] = item.label
        help_text = item.help_text
        if item.needs_approval:
            help_text = "Needs approval: the change waits for staff."
        if help_text:
            schema["description"] = help_text
        properties[item.key] = schema
    return {
        "type": "object",
        "title": f"{section.title}: the fields a client may change",
        "additionalProperties": False,
        "properties": properties,
        "required": [] if partial else [item.key for item in editable if item.required],
    }


def form_schema(
    form_class: Any, *, title: str | None = None, read_only: dict[str, Any] | None = None
) -> dict[str, Any]:
    """A plain WTForms form as JSON: its fields in order, lengths and required ones from the
    validators, one line of text unless a text area (plain-text forms refuse control
    characters: ``form_class.plain_text``). ``read_only`` properties are answered and may be
    sent back, but are ignored."""
    properties: dict[str, Any] = {}
    required = []
    fields = [(name, getattr(form_class, name)) for name in dir(form_class)]
    fields = [(name, value) for name, value in fields if isinstance(value, UnboundField)]
    for name, unbound in sorted(fields, key=lambda item: item[1].creation_counter):
        checks = unbound.kwargs.get("validators", [])
        schema = _field_schema(form_class, unbound)
        if unbound.args:
            schema["title"] = str(unbound.args[0])
        for check in checks:
            if isinstance(check, validators.Length) and check.max >= 0:
                schema["maxLength"] = check.max
        if unbound.kwargs.get("description"):
            schema["description"] = str(unbound.kwargs["description"])
        if any(isinstance(c, validators.DataRequired | validators.InputRequired) for c in checks):
            schema = required_value(schema)
            required.append(name)
        properties[name] = schema
    for name, schema in (read_only or {}).items():
        properties[name] = {**schema, "readOnly": True, "description": "Ignored when sent"}
    schema = {
        "type": "object",
        "additionalProperties": False,
        "properties": properties,
        "required": required,
    }
    if title:
        schema["title"] = title
    return schema


def _field_schema(form_class: Any, unbound: UnboundField) -> dict[str, Any]:
    field_class = unbound.field_class
    if issubclass(field_class, BooleanField):
        return {"type": "boolean"}
    if issubclass(field_class, IntegerField):
        return {"type": ["integer", "null"]}
    schema: dict[str, Any] = {"type": ["string", "null"]}
    if getattr(form_class, "plain_text", False) and not issubclass(field_class, PasswordField):
        multi_line = field_types.is_multi_line(field_class)
        schema["pattern"] = MULTI_LINE_PATTERN if multi_line else SINGLE_LINE_PATTERN
    if getattr(field_class, "json_description", None):
        schema["description"] = field_class.json_description
    return schema
