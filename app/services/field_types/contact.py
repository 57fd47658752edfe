"""Ways to reach someone and where they live: email, phone, ZIP code, US state."""

from __future__ import annotations

from typing import Any, ClassVar

from wtforms import validators

from app.services.field_types.base import FieldType
from app.services.field_types.form_text import service_validator
from app.services.validation import (
    US_STATES,
    format_phone,
    normalise_email,
    normalise_phone,
    normalise_postal_code,
    normalise_state,
)


class EmailType(FieldType):
    name = "email"
    label = "Email address"
    settings_doc: ClassVar[dict[str, str]] = {}
    widget_input_type = "email"

    def validators(self, settings: dict[str, Any], context: dict[str, Any]) -> list[Any]:
        return [validators.Length(max=255), service_validator(normalise_email)]

    def json_schema(self, settings: dict[str, Any]) -> dict[str, Any]:
        return {"type": ["string", "null"], "format": "email"}

    def check_settings(self, settings: dict[str, Any]) -> dict[str, Any]:
        return {}


class PhoneType(FieldType):
    name = "phone"
    label = "Phone number"
    settings_doc: ClassVar[dict[str, str]] = {}
    widget_input_type = "tel"

    def validators(self, settings: dict[str, Any], context: dict[str, Any]) -> list[Any]:
        region = context.get("country") or "US"
        return [
            validators.Length(max=40),
            service_validator(lambda value: normalise_phone(value, region)),
        ]

    def display(self, value: Any) -> str:
        return format_phone(value)

    def json_schema(self, settings: dict[str, Any]) -> dict[str, Any]:
        return {"type": ["string", "null"], "description": "Stored as E.164, e.g. +12025550143"}

    def check_settings(self, settings: dict[str, Any]) -> dict[str, Any]:
        return {}


class PostalCodeType(FieldType):
    """A ZIP code for US addresses (5 digits, or 5 + 4), a postal code for others."""

    name = "postal_code"
    label = "ZIP / postal code"
    settings_doc: ClassVar[dict[str, str]] = {}

    def validators(self, settings: dict[str, Any], context: dict[str, Any]) -> list[Any]:
        country = context.get("country") or "US"
        return [
            validators.Length(max=16),
            service_validator(lambda value: normalise_postal_code(value, country)),
        ]

    def json_schema(self, settings: dict[str, Any]) -> dict[str, Any]:
        return {
            "type": ["string", "null"],
            "pattern": "^[0-9]{5}(-[0-9]{4})?$",
            "description": "A US ZIP code; addresses abroad take their own postal code.",
        }

    def check_settings(self, settings: dict[str, Any]) -> dict[str, Any]:
        return {}


class StateType(FieldType):
    """A US state or territory as its two-letter code (a name is read too); a region name for
    addresses abroad."""

    name = "state"
    label = "US state"
    settings_doc: ClassVar[dict[str, str]] = {}

    def validators(self, settings: dict[str, Any], context: dict[str, Any]) -> list[Any]:
        country = context.get("country") or "US"
        return [
            validators.Length(max=64),
            service_validator(lambda value: normalise_state(value, country)),
        ]

    def json_schema(self, settings: dict[str, Any]) -> dict[str, Any]:
        codes = "|".join("".join(f"[{c}{c.lower()}]" for c in code) for code in US_STATES)
        return {
            "anyOf": [
                {"type": "string", "pattern": f"^(?:{codes})$"},
                {"enum": [*US_STATES.values(), None]},
            ],
            "description": "A US state or territory: its two-letter USPS code (any case) or "
            "its name; stored as the code. Addresses abroad take a region name.",
        }

    def check_settings(self, settings: dict[str, Any]) -> dict[str, Any]:
        return {}
