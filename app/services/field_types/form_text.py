"""Typed text in any form, whatever built it: no control characters (line breaks only where
the field takes several lines), and service checks run as WTForms validators."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from wtforms import fields, validators

from app.services.errors import ValidationError
from app.services.validation import check_multi_line, check_single_line


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
