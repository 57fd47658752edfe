"""Numbers and dates: a range an admin may set, and values kept as canonical text."""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from wtforms import fields, validators

from app.services.errors import ValidationError
from app.services.field_types.base import FieldType


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
