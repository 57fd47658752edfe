"""The OpenAPI 3.1 document of the portal's JSON API, built from what validates requests: the
field types' JSON Schemas (as the admin configured the fields) and the care list forms, so the
document and the server cannot disagree. ``tests/test_openapi_contract.py`` holds the server to
it with generated requests.

What it promises: reads need the session cookie; writes need it and the ``X-CSRFToken`` header.
Without a session every call answers 401. Required fields are never null. Every error body has
the one shape of ``Error``.
"""

from __future__ import annotations

import copy
from typing import Any

from wtforms import validators as wtf_validators
from wtforms.fields.core import UnboundField

from app.services import care_lists, field_types, portal_fields
from app.services.portal_settings import get_settings
from app.services.validation import MULTI_LINE_PATTERN, SINGLE_LINE_PATTERN

#: Reads: the portal session. Writes: the session and the CSRF header.
READ = [{"session": []}]
WRITE = [{"session": [], "csrf": []}]
#: A value that is more than spaces: what a required text field needs.
NOT_BLANK = "\\S"
#: Ids are 32-bit integer keys: a larger one is refused (400 on PostgreSQL, 404 on SQLite).
MAX_ID = 2**31 - 1

ERROR = {
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
                    "description": "Why, for errors a client acts on: fresh_sign_in_required "
                    "(403: confirm it's you at `confirm` first), too_many_codes (429)",
                },
                "confirm": {"type": "string", "description": "Where to confirm it's you"},
            },
        }
    },
}

FIELD = {
    "type": "object",
    "required": ["key", "label", "type", "mode", "required", "help", "value"],
    "properties": {
        "key": {"type": "string"},
        "label": {"type": "string"},
        "type": {"type": "string", "enum": sorted(field_types.REGISTRY)},
        "mode": {"type": "string"},
        "required": {"type": "boolean"},
        "help": {"type": "string"},
        "value": {},
        "options": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["value", "label"],
                "properties": {"value": {"type": "string"}, "label": {"type": "string"}},
            },
        },
        "pending": {
            "type": "object",
            "required": ["value", "proposed_at"],
            "properties": {"value": {"type": "string"}, "proposed_at": {"type": "string"}},
        },
    },
}

SECTION = {
    "type": "object",
    "required": ["key", "title", "fields"],
    "properties": {
        "key": {"type": "string"},
        "title": {"type": "string"},
        "fields": {"type": "array", "items": {"$ref": "#/components/schemas/Field"}},
    },
}

SAVED = {
    "type": "object",
    "required": ["saved", "awaiting_approval", "section"],
    "properties": {
        "saved": {
            "type": "object",
            "additionalProperties": {
                "type": "object",
                "required": ["old", "new"],
                "properties": {"old": {"type": "string"}, "new": {"type": "string"}},
            },
        },
        "awaiting_approval": {"type": "object", "additionalProperties": {"type": "string"}},
        "awaiting_verification": {
            "type": "array",
            "items": {"$ref": "#/components/schemas/Verification"},
        },
        "section": {"$ref": "#/components/schemas/Section"},
    },
}


VERIFICATION = {
    "type": "object",
    "required": [
        "id", "field", "label", "sent_to", "channel", "expires_at", "attempts_left", "confirm",
    ],
    "properties": {
        "id": {"type": "integer"},
        "field": {"type": "string"},
        "label": {"type": "string"},
        "sent_to": {"type": "string"},
        "channel": {"type": "string", "enum": ["email", "sms"]},
        "expires_at": {"type": "string"},
        "attempts_left": {"type": "integer", "minimum": 0},
        "confirm": {"type": "string"},
    },
}  # fmt: skip


def _json(schema: dict[str, Any] | str, description: str) -> dict[str, Any]:
    if isinstance(schema, str):
        schema = {"$ref": f"#/components/schemas/{schema}"}
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(*codes: int) -> dict[str, Any]:
    text = {
        400: "The request could not be read: not a JSON object, the X-CSRFToken header "
        "missing or wrong, or a number out of range",
        401: "Not signed in",
        403: "Signed in, but not allowed to change this (or, with reason "
        "fresh_sign_in_required, not before confirming it's you)",
        404: "No such thing (or it belongs to someone else)",
        413: "The request is too large",
        422: "Invalid values; nothing saved",
        429: "Too many requests (or codes to new addresses and numbers); nothing saved",
    }
    return {str(code): _json("Error", text[code]) for code in codes}


READ_ERRORS = (400, 401, 404)
WRITE_ERRORS = (400, 401, 404, 413, 422)


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


def section_schema(
    section: portal_fields.Section, editable: list[portal_fields.Field], *, partial: bool = False
) -> Any:
    """What a client may send for a section: each field's type schema, as configured. A
    ``partial`` body (PATCH) may leave any field out, but not send a required one empty."""
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


def care_schema(care: care_lists.CareList, form_class: Any) -> dict[str, Any]:
    """A care list entry as the form reads it: lengths, required columns, phones, notes."""
    properties: dict[str, Any] = {}
    required = []
    for name, label in care.columns:
        unbound: UnboundField = getattr(form_class, name)
        checks = unbound.kwargs.get("validators", [])
        multi_line = field_types.is_multi_line(unbound.field_class)
        schema: dict[str, Any] = {
            "type": ["string", "null"],
            "title": label,
            "pattern": MULTI_LINE_PATTERN if multi_line else SINGLE_LINE_PATTERN,
        }
        for check in checks:
            if isinstance(check, wtf_validators.Length) and check.max >= 0:
                schema["maxLength"] = check.max
        if name == "phone":
            schema["description"] = "Stored as E.164, e.g. +12025550143"
        if any(isinstance(c, wtf_validators.DataRequired) for c in checks):
            schema = required_value(schema)
            required.append(name)
        properties[name] = schema
    properties["id"] = {"type": "integer", "readOnly": True, "description": "Ignored when sent"}
    return {
        "type": "object",
        "title": care.title,
        "additionalProperties": False,
        "properties": properties,
        "required": required,
    }


def care_entry_schema(care: care_lists.CareList) -> dict[str, Any]:
    properties: dict[str, Any] = {name: {"type": ["string", "null"]} for name, _ in care.columns}
    properties["id"] = {"type": "integer"}
    return {"type": "object", "required": list(properties), "properties": properties}


def document(care_forms: dict[str, Any]) -> dict[str, Any]:
    """The whole document, for the fields as configured now."""
    layout = portal_fields.layout()
    schemas: dict[str, Any] = {
        "Error": ERROR,
        "Field": FIELD,
        "Section": SECTION,
        "Saved": SAVED,
        "Verification": VERIFICATION,
    }
    for section in portal_fields.SECTIONS:
        editable = [item for item in layout[section.key] if item.editable]
        schemas[f"{section.key}_changes"] = section_schema(section, editable)
        schemas[f"{section.key}_patch"] = section_schema(section, editable, partial=True)
    for care in care_lists.LISTS.values():
        schemas[care.key] = care_schema(care, care_forms[care.key])
        schemas[f"{care.key}_entry"] = care_entry_schema(care)
    paths: dict[str, Any] = {
        "/portal/api/details": {
            "get": {
                "summary": "Every section the client sees, with field settings and values, and "
                "the CSRF token for writes",
                "security": READ,
                "responses": {
                    "200": _json(
                        {
                            "type": "object",
                            "required": ["sections", "csrf_token"],
                            "properties": {
                                "sections": {
                                    "type": "array",
                                    "items": {"$ref": "#/components/schemas/Section"},
                                },
                                "csrf_token": {"type": "string"},
                            },
                        },
                        "The sections",
                    ),
                    **_errors(400, 401),
                },
            }
        },
    }
    for section in portal_fields.SECTIONS:
        body, patch = (
            {
                "required": True,
                "content": {
                    "application/json": {
                        "schema": {"$ref": f"#/components/schemas/{section.key}_{kind}"}
                    }
                },
            }
            for kind in ("changes", "patch")
        )
        saved = {
            "200": _json("Saved", "Saved, or waiting for approval"),
            "202": _json("Saved", "A new sign-in email or mobile waits for its code"),
        }
        paths[f"/portal/api/details/{section.key}"] = {
            "get": {
                "summary": f"{section.title}: fields and values",
                "security": READ,
                "responses": {"200": _json("Section", "The section"), **_errors(*READ_ERRORS)},
            },
            "patch": {
                "summary": f"Change some of {section.title.lower()}",
                "security": WRITE,
                "requestBody": patch,
                "responses": {**saved, **_errors(*WRITE_ERRORS, 403, 429)},
            },
            "post": {
                "summary": f"Replace {section.title.lower()} (missing keys are emptied)",
                "security": WRITE,
                "requestBody": body,
                "responses": {**saved, **_errors(*WRITE_ERRORS, 403, 429)},
            },
        }
    paths["/portal/api/session/confirm"] = {
        "post": {
            "summary": "Confirm it's you with the current password: the session starts afresh "
            "and may change the email or mobile it signs in with for 15 minutes",
            "security": WRITE,
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "required": ["password"],
                            "properties": {
                                "password": {"type": "string", "minLength": 1, "maxLength": 200}
                            },
                        }
                    }
                },
            },
            "responses": {
                "200": _json(
                    {
                        "type": "object",
                        "required": ["fresh_until"],
                        "properties": {"fresh_until": {"type": "string"}},
                    },
                    "Confirmed",
                ),
                **_errors(400, 401, 413, 422, 429),
            },
        }
    }
    paths["/portal/api/details/verifications"] = {
        "get": {
            "summary": "Sign-in email or mobile changes waiting for the code sent to them",
            "security": READ,
            "responses": {
                "200": _json(
                    {
                        "type": "object",
                        "required": ["verifications"],
                        "properties": {
                            "verifications": {
                                "type": "array",
                                "items": {"$ref": "#/components/schemas/Verification"},
                            }
                        },
                    },
                    "The changes waiting",
                ),
                **_errors(400, 401),
            },
        }
    }
    paths["/portal/api/details/verifications/{change_id}"] = {
        "parameters": [
            {
                "name": "change_id",
                "in": "path",
                "required": True,
                "schema": {"type": "integer", "minimum": 0, "maximum": MAX_ID},
            }
        ],
        "get": {
            "summary": "One change waiting for its code",
            "security": READ,
            "responses": {
                "200": _json("Verification", "The change"),
                **_errors(*READ_ERRORS),
            },
        },
        "post": {
            "summary": "Confirm the change with the code sent to the new address or number "
            "(a wrong code counts as an attempt)",
            "security": WRITE,
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "required": ["code"],
                            "properties": {"code": {"type": ["string", "integer"]}},
                        }
                    }
                },
            },
            "responses": {
                "200": _json("Saved", "Applied, or sent for approval"),
                **_errors(*WRITE_ERRORS),
            },
        },
        "delete": {
            "summary": "Cancel the change",
            "security": WRITE,
            "responses": {"204": {"description": "Cancelled"}, **_errors(400, 401, 404)},
        },
    }
    for care in care_lists.LISTS.values():
        body = {
            "required": True,
            "content": {
                "application/json": {"schema": {"$ref": f"#/components/schemas/{care.key}"}}
            },
        }
        entry = f"{care.key}_entry"
        paths[f"/portal/api/{care.key}"] = {
            "get": {
                "summary": f"The client's {care.title.lower()}",
                "security": READ,
                "responses": {
                    "200": _json(
                        {
                            "type": "object",
                            "required": [care.key],
                            "properties": {
                                care.key: {
                                    "type": "array",
                                    "items": {"$ref": f"#/components/schemas/{entry}"},
                                }
                            },
                        },
                        "The list",
                    ),
                    **_errors(*READ_ERRORS),
                },
            },
            "post": {
                "summary": f"Add a {care.item}",
                "security": WRITE,
                "requestBody": body,
                "responses": {
                    "201": {
                        **_json(entry, "Added"),
                        "headers": {
                            "Location": {
                                "description": "The new entry",
                                "required": True,
                                "schema": {"type": "string"},
                            }
                        },
                    },
                    **_errors(*WRITE_ERRORS),
                },
            },
        }
        paths[f"/portal/api/{care.key}/{{id}}"] = {
            "parameters": [
                {
                    "name": "id",
                    "in": "path",
                    "required": True,
                    "schema": {"type": "integer", "minimum": 0, "maximum": MAX_ID},
                }
            ],
            "get": {
                "summary": f"One {care.item}",
                "security": READ,
                "responses": {"200": _json(entry, "The entry"), **_errors(*READ_ERRORS)},
            },
            "patch": {
                "summary": f"Change a {care.item}",
                "security": WRITE,
                "requestBody": body,
                "responses": {"200": _json(entry, "Saved"), **_errors(*WRITE_ERRORS)},
            },
            "delete": {
                "summary": f"Remove a {care.item}",
                "security": WRITE,
                "responses": {"204": {"description": "Removed"}, **_errors(400, 401, 404)},
            },
        }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": f"{get_settings().portal_name}: client portal API",
            "version": "1",
            "description": __doc__,
        },
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "session": {"type": "apiKey", "in": "cookie", "name": "session"},
                "csrf": {"type": "apiKey", "in": "header", "name": "X-CSRFToken"},
            },
        },
        "security": READ,
        "paths": paths,
        "x-field-types": {name: ft.settings_doc for name, ft in field_types.REGISTRY.items()},
    }
