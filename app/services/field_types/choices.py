"""Answers picked, not typed: yes or no, and one of a list of options."""

from __future__ import annotations

from typing import Any, ClassVar

from wtforms import fields, validators
from wtforms.fields.core import UnboundField

from app.services.errors import ValidationError
from app.services.field_types.base import FieldType


class YesNoType(FieldType):
    name = "yes_no"
    label = "Yes / no"
    settings_doc: ClassVar[dict[str, str]] = {}
    field_class = fields.BooleanField
    widget_input_type = "checkbox"

    def field(
        self,
        label: str,
        description: str,
        required: bool,
        settings: dict[str, Any],
        context: dict[str, Any],
    ) -> UnboundField:
        # A mandatory yes/no is answered either way; unticked means "no".
        return fields.BooleanField(label, description=description)

    def to_storage(self, value: Any) -> str | None:
        return "true" if value else "false"

    def from_storage(self, text: str | None) -> Any:
        return text == "true"

    def display(self, value: Any) -> str:
        return "Yes" if value else "No"

    def json_value(self, value: Any) -> Any:
        return bool(value)

    def json_schema(self, settings: dict[str, Any]) -> dict[str, Any]:
        return {"type": "boolean"}

    def check_settings(self, settings: dict[str, Any]) -> dict[str, Any]:
        return {}


class ChoiceType(FieldType):
    name = "choice"
    label = "Choice"
    settings_doc = {"options": "The answers to choose from, one per line."}
    field_class = fields.SelectField

    def field(
        self,
        label: str,
        description: str,
        required: bool,
        settings: dict[str, Any],
        context: dict[str, Any],
    ) -> UnboundField:
        choices = [(value, text) for value, text in choice_options(settings)]
        if not required:
            choices = [("", "—"), *choices]
        checks: list[Any] = [validators.InputRequired() if required else validators.Optional()]
        return fields.SelectField(
            label, description=description, choices=choices, validators=checks, validate_choice=True
        )

    def display(self, value: Any) -> str:
        return "" if value in (None, "") else str(getattr(value, "label", value))

    def json_value(self, value: Any) -> Any:
        return getattr(value, "value", value) if value not in (None, "") else None

    def json_schema(self, settings: dict[str, Any]) -> dict[str, Any]:
        return {
            "type": ["string", "null"],
            "enum": [value for value, _ in choice_options(settings)] + [None],
        }

    def check_settings(self, settings: dict[str, Any]) -> dict[str, Any]:
        raw = settings.get("options") or []
        if isinstance(raw, str):
            raw = raw.splitlines()
        options = []
        for line in raw:
            text = " ".join(str(line).split())
            if text and text not in options:
                options.append(text)
        if len(options) < 2:
            raise ValidationError(
                "A choice needs at least two options, one per line.", field="options"
            )
        return {"options": options}


def choice_options(settings: dict[str, Any]) -> list[tuple[str, str]]:
    options = settings.get("options") or []
    return [(o, o) if isinstance(o, str) else (str(o[0]), str(o[1])) for o in options]
