"""The base of every field type (a single line of text), and the two text types."""

from __future__ import annotations

import re
from typing import Any, ClassVar

from wtforms import fields, validators
from wtforms.fields.core import UnboundField

from app.services.errors import ValidationError
from app.services.field_types.form_text import plain_text
from app.services.validation import MULTI_LINE_PATTERN, SINGLE_LINE_PATTERN


class FieldType:
    """Base: a single-line text value."""

    name: ClassVar[str] = "text"
    label: ClassVar[str] = "Text"
    #: The settings this type reads, and what each does.
    settings_doc: ClassVar[dict[str, str]] = {
        "max_length": "Longest value accepted, in characters (default 255).",
        "pattern": "A regular expression the whole value must match.",
        "pattern_message": "What to tell people whose value does not match the pattern.",
    }
    widget_input_type: ClassVar[str] = "text"
    #: Line breaks and tabs allowed (long text); every other type is one line.
    multi_line: ClassVar[bool] = False

    def field(
        self,
        label: str,
        description: str,
        required: bool,
        settings: dict[str, Any],
        context: dict[str, Any],
    ) -> UnboundField:
        checks: list[Any] = [validators.InputRequired() if required else validators.Optional()]
        checks.append(plain_text(multi_line=self.multi_line))
        checks.extend(self.validators(settings, context))
        return self.field_class(
            label, description=description, validators=checks, **self.field_options(settings)
        )

    field_class: ClassVar[Any] = fields.StringField

    def field_options(self, settings: dict[str, Any]) -> dict[str, Any]:
        return {"filters": [strip]}

    def validators(self, settings: dict[str, Any], context: dict[str, Any]) -> list[Any]:
        checks: list[Any] = [length(int(settings.get("max_length") or 255))]
        if settings.get("pattern"):
            checks.append(
                validators.Regexp(
                    anchored(settings["pattern"]),
                    message=settings.get("pattern_message")
                    or "This value is not in the expected form.",
                )
            )
        return checks

    # values

    def to_storage(self, value: Any) -> str | None:
        if value is None or value == "":
            return None
        return str(value)

    def from_storage(self, text: str | None) -> Any:
        return text if text not in (None, "") else None

    def display(self, value: Any) -> str:
        return "" if value is None else str(value)

    def json_value(self, value: Any) -> Any:
        return value

    def json_schema(self, settings: dict[str, Any]) -> dict[str, Any]:
        """The JSON Schema of a value (``null`` for empty, which forms read as "no value")."""
        schema: dict[str, Any] = {
            "type": ["string", "null"],
            "maxLength": int(settings.get("max_length") or 255),
            "pattern": SINGLE_LINE_PATTERN,
        }
        if settings.get("pattern"):
            schema["allOf"] = [{"pattern": anchored(settings["pattern"])}]
        return schema

    def check_settings(self, settings: dict[str, Any]) -> dict[str, Any]:
        """Tidy an admin's settings for this type, or raise ValidationError."""
        cleaned: dict[str, Any] = {}
        if settings.get("max_length") not in (None, ""):
            try:
                cleaned["max_length"] = int(settings["max_length"])
            except (TypeError, ValueError):
                raise ValidationError(
                    "Maximum length must be a whole number.", field="max_length"
                ) from None
            if not 1 <= cleaned["max_length"] <= 10000:
                raise ValidationError(
                    "Maximum length must be between 1 and 10,000.", field="max_length"
                )
        if settings.get("pattern"):
            try:
                re.compile(anchored(settings["pattern"]))
            except re.error as exc:
                raise ValidationError(
                    f"The pattern is not a valid regular expression ({exc}).", field="pattern"
                ) from None
            cleaned["pattern"] = settings["pattern"]
            cleaned["pattern_message"] = (settings.get("pattern_message") or "").strip()
        return cleaned


def anchored(pattern: str) -> str:
    """The whole value must match: the pattern as forms and the JSON schema use it."""
    return f"^(?:{pattern})$"


def length(limit: int) -> Any:
    return validators.Length(max=limit, message=f"Keep it to {limit:,} characters or fewer.")


def strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


class TextType(FieldType):
    pass


class LongTextType(FieldType):
    name = "long_text"
    label = "Long text"
    settings_doc = {"max_length": "Longest value accepted, in characters (default 5,000)."}
    field_class = fields.TextAreaField
    multi_line = True

    def validators(self, settings: dict[str, Any], context: dict[str, Any]) -> list[Any]:
        return [length(int(settings.get("max_length") or 5000))]

    def json_schema(self, settings: dict[str, Any]) -> dict[str, Any]:
        return {
            "type": ["string", "null"],
            "maxLength": int(settings.get("max_length") or 5000),
            "pattern": MULTI_LINE_PATTERN,
        }
