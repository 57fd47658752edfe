"""The form plumbing every staff form shares: dates and times in the office's zone, labelled
enums as selects, CSRF and clean text on every form, filter options read when a list renders."""

from __future__ import annotations

import typing as t
from collections.abc import Callable, Iterator
from datetime import datetime
from enum import Enum
from zoneinfo import ZoneInfo

from flask import current_app, has_request_context, request
from flask_admin.contrib.sqla.form import AdminModelConverter
from flask_admin.form import BaseForm, DateTimeField, Select2Field
from flask_admin.form.widgets import DateTimePickerWidget
from flask_admin.model.form import converts
from flask_wtf import FlaskForm
from markupsafe import Markup
from wtforms import Field, StringField, TextAreaField, validators

from app.services.field_types import check_form_text
from models import LabelledEnum, utcnow


def office_zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["PORTICO_TIMEZONE"])


def local_datetime(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    if value is None:
        return ""
    if value.tzinfo is not None:
        value = value.astimezone(office_zone())
    return value.strftime(fmt)


#: How staff type and see a date-time: the picker writes what the field shows.
DATETIME_FORMAT = "%Y-%m-%d %H:%M"
#: What the server reads: the shown format, with seconds (older pickers, pasted values) or the
#: "T" of an ISO timestamp.
DATETIME_INPUT_FORMATS = [
    DATETIME_FORMAT,
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M",
    "%Y-%m-%dT%H:%M:%S",
]


class LocalDateTimePicker(DateTimePickerWidget):
    """Flask-Admin's picker, told the format the field shows (its own default has seconds,
    which the field did not read, and a mismatch garbles what a person types), and the
    office's time now, where an empty field's picker opens (not the browser's clock)."""

    def __call__(self, field: t.Any, **kwargs: t.Any) -> Markup:
        kwargs.setdefault("data-date-format", "YYYY-MM-DD HH:mm")
        kwargs.setdefault("data-office-now", local_datetime(utcnow()))
        return super().__call__(field, **kwargs)


class LocalDateTimeField(DateTimeField):
    """A date-time typed in the office's time zone, stored as aware UTC."""

    widget = LocalDateTimePicker()
    data: datetime | None

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        kwargs.setdefault("format", list(DATETIME_INPUT_FORMATS))
        super().__init__(*args, **kwargs)

    def process_data(self, value: datetime | None) -> None:
        if isinstance(value, datetime) and value.tzinfo is not None:
            value = value.astimezone(office_zone()).replace(tzinfo=None)
        super().process_data(value)

    def process_formdata(self, valuelist: list[t.Any]) -> None:
        if valuelist and isinstance(valuelist[0], str):
            valuelist = [" ".join(valuelist[0].split())]
        super().process_formdata(valuelist)
        if isinstance(self.data, datetime) and not 1900 <= self.data.year <= 9000:
            self.data = None
            raise ValueError("Enter a date between the years 1900 and 9000.")
        if isinstance(self.data, datetime) and self.data.tzinfo is None:
            self.data = self.data.replace(tzinfo=office_zone())

    def _value(self) -> str:
        if self.raw_data:
            return " ".join(self.raw_data)
        return self.data.strftime(DATETIME_FORMAT) if self.data else ""


class PorticoModelConverter(AdminModelConverter):
    """Labelled enums as selects of their labels; aware timestamps in the office's zone."""

    @converts("sqlalchemy.sql.sqltypes.Enum")
    def convert_enum(self, column: t.Any, field_args: dict[str, t.Any], **extra: t.Any) -> t.Any:
        enum_class = getattr(column.type, "enum_class", None)
        if enum_class is None or not issubclass(enum_class, LabelledEnum):
            return super().convert_enum(column=column, field_args=field_args, **extra)
        field_args["choices"] = enum_class.choices()
        field_args["coerce"] = lambda value: (
            None
            if value in (None, "")
            else enum_class(value.value if isinstance(value, Enum) else value)
        )
        if column.nullable:
            field_args["allow_blank"] = True
        return Select2Field(**field_args)

    @converts("UTCDateTime")
    def convert_utc_datetime(self, field_args: dict[str, t.Any], **extra: t.Any) -> t.Any:
        return LocalDateTimeField(**field_args)


class LazyOptions:
    """Filter options read from the database when the list page renders, not at start-up,
    and once per request: filters sharing a loader (tag is, tag is not) share one query."""

    def __init__(self, load: Callable[[], t.Iterable[tuple[t.Any, str]]]) -> None:
        self._load = load

    def __bool__(self) -> bool:
        return True

    def __iter__(self) -> Iterator[tuple[t.Any, str]]:
        if not has_request_context():
            return iter(list(self._load()))
        read = request.environ.setdefault("portico.filter_options", {})
        if self._load not in read:
            read[self._load] = list(self._load())
        return iter(read[self._load])


class StaffForm(BaseForm):
    """Base of every admin form: Flask-WTF's CSRF token (the one CSRFProtect checks on every
    POST), so the panel and the rest of the app speak one CSRF dialect and tokens do not
    expire while a form is open (``WTF_CSRF_TIME_LIMIT``). Every text field, inline forms'
    included, refuses control characters (text areas keep their line breaks)."""

    class Meta(FlaskForm.Meta):
        pass

    def validate(self, extra_validators: t.Any = None) -> bool:
        valid = super().validate(extra_validators)
        return check_form_text(self) and valid


def question_settings_fields(
    area: type[Field] = TextAreaField, line: type[Field] = StringField
) -> dict[str, Field]:
    """The form fields of a question's settings (a choice's options, a number's or a date's
    bounds, a text's length), as request type fields and journey questions edit them;
    ``area`` and ``line`` are the field classes (ones that keep them out of the model's
    columns, say)."""
    optional = [validators.Optional()]
    return {
        "options": area(
            "Options", validators=optional, description="Choice: the answers, one per line."
        ),
        "min": line(
            "Minimum",
            validators=optional,
            description="Numbers: the smallest. Dates: the earliest (YYYY-MM-DD).",
        ),
        "max": line(
            "Maximum",
            validators=optional,
            description="Numbers: the largest. Dates: the latest (YYYY-MM-DD, or 'today').",
        ),
        "max_length": line(
            "Maximum length",
            validators=optional,
            description="Text: the longest answer, in characters.",
        ),
    }
