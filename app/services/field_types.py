"""Field types: one class per type, each knowing its settings, its WTForms field and validators,
and how its values are stored and shown.

Portal forms and the staff record form are built from these per request; the WTForms form they
make is the only validator. Values are kept in Python form on the record (``date``, ``bool``,
``Decimal``) and as canonical text for custom fields (``2026-01-31``, ``true``, ``12.5``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar

from wtforms import fields, validators
from wtforms.fields.core import UnboundField

from app.services.errors import ValidationError
from app.services.validation import (
    MULTI_LINE_PATTERN,
    SINGLE_LINE_PATTERN,
    US_STATES,
    check_multi_line,
    check_single_line,
    format_phone,
    normalise_email,
    normalise_phone,
    normalise_postal_code,
    normalise_state,
)


def service_validator(check: Callable[[Any], Any]) -> Callable[[Any, Any], None]:
    """Run a service check (value -> cleaned value, or ValidationError) as a WTForms
    validator; the field keeps the cleaned value."""

    def validator(form: Any, field: Any) -> None:
        if field.data in (None, ""):
            return
        try:
            field.data = check(field.data)
        except ValidationError as exc:
            raise validators.ValidationError(exc.message) from None

    return validator


def plain_text(*, multi_line: bool = False) -> Callable[[Any, Any], None]:
    """WTForms validator: no control characters in a typed value (line breaks and tabs are
    allowed only where ``multi_line``). It stops the field's other checks: one message, the
    one that says what to fix."""
    check = check_multi_line if multi_line else check_single_line

    def validator(form: Any, field: Any) -> None:
        if not isinstance(field.data, str):
            return
        try:
            check(field.data)
        except ValidationError as exc:
            raise validators.StopValidation(exc.message) from None

    return validator


def is_multi_line(field: Any) -> bool:
    """Whether a WTForms field (bound, or its class) takes several lines: a text area and
    its kin."""
    field_class = field if isinstance(field, type) else type(field)
    widget = getattr(field, "widget", None)
    return issubclass(field_class, fields.TextAreaField) or (
        "textarea" in type(widget).__name__.lower()
    )


def check_form_text(form: Any) -> bool:
    """After a form validated: refuse control characters in every text field of ``form`` and
    of the forms inside it (inline lists), whatever built the form. Adds a message to each
    field concerned; returns whether all were clean. Used by the staff panel's base form.

    Text areas come back from browsers with CRLF line ends: they are stored with LF, so saving
    a form unchanged changes nothing."""
    clean = True
    for field in _text_fields(form):
        multi_line = is_multi_line(field)
        if multi_line and isinstance(field.data, str) and "\r" in field.data:
            field.data = field.data.replace("\r\n", "\n").replace("\r", "\n")
        check = plain_text(multi_line=multi_line)
        try:
            check(form, field)
        except validators.StopValidation as exc:
            if str(exc) not in field.errors:
                field.errors = [*field.errors, str(exc)]
            clean = False
    return clean


def _text_fields(form: Any) -> Any:
    for field in form:
        if isinstance(field, fields.FormField):
            yield from _text_fields(field.form)
        elif isinstance(field, fields.FieldList):
            for entry in field.entries:
                if isinstance(entry, fields.FormField):
                    yield from _text_fields(entry.form)
                elif isinstance(entry, fields.StringField):
                    yield entry
        elif isinstance(field, fields.StringField):
            yield field


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
        return {"filters": [_strip]}

    def validators(self, settings: dict[str, Any], context: dict[str, Any]) -> list[Any]:
        checks: list[Any] = [_length(int(settings.get("max_length") or 255))]
        if settings.get("pattern"):
            checks.append(
                validators.Regexp(
                    _anchored(settings["pattern"]),
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
            schema["allOf"] = [{"pattern": _anchored(settings["pattern"])}]
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
                re.compile(_anchored(settings["pattern"]))
            except re.error as exc:
                raise ValidationError(
                    f"The pattern is not a valid regular expression ({exc}).", field="pattern"
                ) from None
            cleaned["pattern"] = settings["pattern"]
            cleaned["pattern_message"] = (settings.get("pattern_message") or "").strip()
        return cleaned


def _anchored(pattern: str) -> str:
    """The whole value must match: the pattern as forms and the JSON schema use it."""
    return f"^(?:{pattern})$"


def _length(limit: int) -> Any:
    return validators.Length(max=limit, message=f"Keep it to {limit:,} characters or fewer.")


def _strip(value: Any) -> Any:
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
        return [_length(int(settings.get("max_length") or 5000))]

    def json_schema(self, settings: dict[str, Any]) -> dict[str, Any]:
        return {
            "type": ["string", "null"],
            "maxLength": int(settings.get("max_length") or 5000),
            "pattern": MULTI_LINE_PATTERN,
        }


class NumberType(FieldType):
    name = "number"
    label = "Number"
    settings_doc = {"min": "Smallest value accepted.", "max": "Largest value accepted."}
    field_class = fields.DecimalField
    widget_input_type = "number"

    def field_options(self, settings: dict[str, Any]) -> dict[str, Any]:
        return {}

    def validators(self, settings: dict[str, Any], context: dict[str, Any]) -> list[Any]:
        low = _decimal(settings.get("min"))
        high = _decimal(settings.get("max"))
        if low is None and high is None:
            return [_finite]
        return [_finite, validators.NumberRange(min=low, max=high)]

    def to_storage(self, value: Any) -> str | None:
        if value is None or value == "":
            return None
        return format(Decimal(value).normalize(), "f")

    def from_storage(self, text: str | None) -> Any:
        return _decimal(text)

    def json_value(self, value: Any) -> Any:
        if value is None:
            return None
        number = Decimal(value)
        return int(number) if number == number.to_integral_value() else float(number)

    def json_schema(self, settings: dict[str, Any]) -> dict[str, Any]:
        schema: dict[str, Any] = {"type": ["number", "null"]}
        if settings.get("min") not in (None, ""):
            schema["minimum"] = float(settings["min"])
        if settings.get("max") not in (None, ""):
            schema["maximum"] = float(settings["max"])
        return schema

    def check_settings(self, settings: dict[str, Any]) -> dict[str, Any]:
        cleaned = {}
        for name in ("min", "max"):
            if settings.get(name) not in (None, ""):
                number = _decimal(settings[name])
                if number is None:
                    raise ValidationError(f"{name.capitalize()} must be a number.", field=name)
                cleaned[name] = str(number)
        if (
            "min" in cleaned
            and "max" in cleaned
            and Decimal(cleaned["min"]) > Decimal(cleaned["max"])
        ):
            raise ValidationError("The minimum is above the maximum.", field="min")
        return cleaned


#: Digits a number field keeps before and after the decimal point.
WHOLE_DIGITS, DECIMAL_PLACES = 15, 10


def _finite(form: Any, field: Any) -> None:
    """Decimal reads "NaN" and "Infinity" as numbers, and "1e5000" as one with 5,001 digits:
    no client means those, and the page could not show them."""
    if not isinstance(field.data, Decimal):
        return
    if not field.data.is_finite():
        raise validators.StopValidation("Enter a number.")
    if field.data.adjusted() >= WHOLE_DIGITS:
        raise validators.StopValidation(f"Enter a number with at most {WHOLE_DIGITS} digits.")
    if field.data != 0 and field.data.adjusted() < -DECIMAL_PLACES:
        raise validators.StopValidation(
            f"Enter a number with at most {DECIMAL_PLACES} decimal places."
        )


def _decimal(value: Any) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


class DateType(FieldType):
    name = "date"
    label = "Date"
    settings_doc = {
        "min": "Earliest date accepted (YYYY-MM-DD).",
        "max": "Latest date accepted (YYYY-MM-DD), or 'today'.",
    }
    field_class = fields.DateField
    widget_input_type = "date"

    def field_options(self, settings: dict[str, Any]) -> dict[str, Any]:
        return {}

    def validators(self, settings: dict[str, Any], context: dict[str, Any]) -> list[Any]:
        low = _date(settings.get("min"))
        high = _date(settings.get("max"))

        def check(form: Any, field: Any) -> None:
            if field.data is None:
                return
            if low and field.data < low:
                raise validators.ValidationError(f"Enter a date on or after {low:%d %B %Y}.")
            if high and field.data > high:
                raise validators.ValidationError(
                    "A date in the future is not possible here."
                    if settings.get("max") == "today"
                    else f"Enter a date on or before {high:%d %B %Y}."
                )

        return [check]

    def to_storage(self, value: Any) -> str | None:
        return value.isoformat() if isinstance(value, date) else None

    def from_storage(self, text: str | None) -> Any:
        return _date(text)

    def display(self, value: Any) -> str:
        return value.strftime("%d %B %Y").lstrip("0") if isinstance(value, date) else ""

    def json_value(self, value: Any) -> Any:
        return value.isoformat() if isinstance(value, date) else None

    def json_schema(self, settings: dict[str, Any]) -> dict[str, Any]:
        return {"type": ["string", "null"], "format": "date"}

    def check_settings(self, settings: dict[str, Any]) -> dict[str, Any]:
        cleaned = {}
        for name in ("min", "max"):
            raw = (settings.get(name) or "").strip()
            if raw:
                if raw != "today" and _date(raw) is None:
                    raise ValidationError(
                        f"{name.capitalize()} must be a date as YYYY-MM-DD (or 'today').",
                        field=name,
                    )
                cleaned[name] = raw
        return cleaned


def _date(value: Any) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, date):
        return value
    if value == "today":
        return date.today()
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        return None


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
        choices = [(value, text) for value, text in _options(settings)]
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
            "enum": [value for value, _ in _options(settings)] + [None],
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


def _options(settings: dict[str, Any]) -> list[tuple[str, str]]:
    options = settings.get("options") or []
    return [(o, o) if isinstance(o, str) else (str(o[0]), str(o[1])) for o in options]


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


#: Every field type by name.
REGISTRY: dict[str, FieldType] = {
    field_type.name: field_type
    for field_type in (
        TextType(),
        LongTextType(),
        NumberType(),
        DateType(),
        YesNoType(),
        ChoiceType(),
        EmailType(),
        PhoneType(),
        PostalCodeType(),
        StateType(),
    )
}


def get(name: str) -> FieldType:
    return REGISTRY[name]
