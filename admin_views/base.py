"""The secured base of every staff view, and the form plumbing all views share."""

from __future__ import annotations

import logging
import re
import typing as t
from collections.abc import Callable, Iterator
from datetime import date, datetime
from enum import Enum
from zoneinfo import ZoneInfo

from flask import abort, current_app, flash, redirect, request, session, url_for
from flask_admin import AdminIndexView, BaseView, expose
from flask_admin.actions import action
from flask_admin.contrib.sqla import ModelView
from flask_admin.contrib.sqla.form import AdminModelConverter
from flask_admin.form import BaseForm, DateTimeField, Select2Field
from flask_admin.form.widgets import DateTimePickerWidget
from flask_admin.model import typefmt
from flask_admin.model.form import converts
from flask_security import current_user
from flask_wtf import FlaskForm
from markupsafe import Markup
from sqlalchemy.exc import IntegrityError
from wtforms import SelectFieldBase, validators

from app.services.errors import ServiceError, ValidationError
from app.services.field_types import check_form_text
from models import LabelledEnum, Record, StaffRole, utcnow

log = logging.getLogger(__name__)

STAFF_ROLES = (StaffRole.ADMIN.value, StaffRole.AGENT.value)
ADMIN_ONLY = (StaffRole.ADMIN.value,)


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
    def convert_enum(self, column: t.Any, field_args: dict[str, t.Any], **extra: t.Any):  # type: ignore[no-untyped-def,override]
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
    def convert_utc_datetime(self, field_args: dict[str, t.Any], **extra: t.Any):  # type: ignore[no-untyped-def]
        return LocalDateTimeField(**field_args)


class LazyOptions:
    """Filter options read from the database when the list page renders, not at start-up."""

    def __init__(self, load: Callable[[], t.Iterable[tuple[t.Any, str]]]) -> None:
        self._load = load

    def __bool__(self) -> bool:
        return True

    def __iter__(self) -> Iterator[tuple[t.Any, str]]:
        return iter(list(self._load()))


def _format_datetime(view: t.Any, value: datetime, name: str) -> str:
    return local_datetime(value)


def _format_date(view: t.Any, value: date, name: str) -> str:
    return value.isoformat()


def _format_enum(view: t.Any, value: Enum, name: str) -> str:
    return getattr(value, "label", str(value.value))


TYPE_FORMATTERS = dict(typefmt.BASE_FORMATTERS)
TYPE_FORMATTERS.update({datetime: _format_datetime, date: _format_date, Enum: _format_enum})
EXPORT_FORMATTERS = dict(typefmt.EXPORT_FORMATTERS)
EXPORT_FORMATTERS.update({datetime: _format_datetime, date: _format_date, Enum: _format_enum})
# Flask-Admin looks formatters up by exact type: register every labelled enum.
for _enum_class in LabelledEnum.__subclasses__():
    TYPE_FORMATTERS[_enum_class] = _format_enum
    EXPORT_FORMATTERS[_enum_class] = _format_enum


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


class StaffAccessMixin:
    """Who may open a view: signed-in, active staff with one of ``required_roles``.

    Everyone else gets the sign-in page, or a 403 when signed in without the role: the check
    is on the server, hiding the menu entry is only a courtesy.
    """

    #: Roles allowed to open the view.
    required_roles: tuple[str, ...] = STAFF_ROLES

    def is_accessible(self) -> bool:
        if not (current_user.is_authenticated and current_user.active):
            return False
        return any(current_user.has_role(role) for role in self.required_roles)

    def inaccessible_callback(self, name: str, **kwargs: t.Any):  # type: ignore[no-untyped-def]
        if current_user.is_authenticated:
            abort(403)
        return redirect(url_for("security.login", next=request.full_path.rstrip("?")))


class StaffModelView(StaffAccessMixin, ModelView):
    """Base of every model view: CSRF on every form, role checks, friendly errors."""

    form_base_class = StaffForm
    model_form_converter = PorticoModelConverter
    column_type_formatters = TYPE_FORMATTERS
    #: Address arguments a list keeps from page to page besides its own (filters, search,
    #: sort, page). Others are dropped: Flask-Admin hands them to url_for, where a name such
    #: as "endpoint" in the address would break the page.
    list_extra_args: tuple[str, ...] = ()

    def _get_list_extra_args(self) -> t.Any:
        args = super()._get_list_extra_args()
        args.extra_args = {k: v for k, v in args.extra_args.items() if k in self.list_extra_args}
        return args

    column_type_formatters_export = EXPORT_FORMATTERS

    def get_export_value(self, model: t.Any, name: t.Any) -> t.Any:
        return spreadsheet_safe(super().get_export_value(model, name))

    can_set_page_size = True
    named_filter_urls = True
    # Each view declares its eager loads in get_query (selectin for collections).
    column_auto_select_related = False
    page_size_options = (25, 50, 100, 200, 500)
    can_view_details = False
    #: Roles that may delete; others see no delete button and get a 403 if they try.
    delete_roles: tuple[str, ...] = ADMIN_ONLY

    #: What one row is called in messages ("Product saved."); by default the view's name
    #: made singular.
    noun: str | None = None

    #: Fields set once, when a row is created, and shown read-only on its edit form. A browser
    #: does not send a disabled field, so on edit they are not read from the post and not
    #: required: the stored value stays, whatever is (or is not) posted.
    fixed_after_create: tuple[str, ...] = ()

    def __init__(self, model: t.Any, session: t.Any, **kwargs: t.Any) -> None:
        super().__init__(model, session, **kwargs)

    def edit_form(self, obj: t.Any = None):  # type: ignore[no-untyped-def]
        form = super().edit_form(obj)
        if obj is not None:
            for name in self.fixed_after_create:
                field = form[name]
                field.data = getattr(obj, name)
                field.validators = []
                field.flags.required = False
                # A select cannot be read-only, only disabled; a text box stays copyable.
                shown = "disabled" if isinstance(field, SelectFieldBase) else "readonly"
                field.render_kw = {**(field.render_kw or {}), shown: True}
        return form

    def create_blueprint(self, admin: t.Any) -> t.Any:
        blueprint = super().create_blueprint(admin)
        blueprint.after_request(self._reword_flashes)
        return blueprint

    def render(self, template: str, **kwargs: t.Any) -> t.Any:
        # A form that fails shows its message on the same page, before any after_request.
        self._reword_flashes(None)
        return super().render(template, **kwargs)

    def _reword_flashes(self, response: t.Any) -> t.Any:
        """Flask-Admin says "Record was successfully saved." of a product or a workflow, where
        a record is a lead or client: say what was saved, in our words."""
        flashes = session.get("_flashes")
        if flashes:
            noun = self.noun or _singular(self.name)
            session["_flashes"] = [
                (category, _reworded(message, noun)) for category, message in flashes
            ]
        return response

    @property
    def can_delete(self) -> bool:  # type: ignore[override]
        return current_user.is_authenticated and any(
            current_user.has_role(role) for role in self.delete_roles
        )

    @can_delete.setter
    def can_delete(self, value: bool) -> None:  # Flask-Admin assigns defaults at start-up
        pass

    @expose("/delete/", methods=("POST",))
    def delete_view(self):  # type: ignore[no-untyped-def]
        if not self.can_delete:
            abort(403)
        return super().delete_view()

    @action("delete", "Delete", "Delete the selected rows? This cannot be undone.")
    def action_delete(self, ids: t.Any) -> t.Any:
        # Posted ids are text; PostgreSQL will not compare an integer key with text.
        if self.model.__mapper__.primary_key[0].type.python_type is int:
            ids = int_ids(ids)
        return super().action_delete(ids)

    def is_action_allowed(self, name: str) -> bool:
        if name == "delete" and not self.can_delete:
            return False
        return bool(super().is_action_allowed(name))

    @property
    def page_size(self) -> int:  # type: ignore[override]
        """Rows per page: PORTICO_ADMIN_PAGE_SIZE (people can still pick another size)."""
        try:
            return int(current_app.config.get("PORTICO_ADMIN_PAGE_SIZE", 50))
        except RuntimeError:  # outside a request: Flask-Admin checking its defaults
            return 50

    @page_size.setter
    def page_size(self, value: int) -> None:
        pass

    def _on_model_change(self, form: t.Any, model: t.Any, is_created: bool) -> None:
        try:
            super()._on_model_change(form, model, is_created)
        except ValidationError as exc:
            if exc.field and exc.field in form:
                form[exc.field].errors = [*form[exc.field].errors, exc.message]
            raise

    def handle_view_exception(self, exc: Exception) -> bool:
        if isinstance(exc, ServiceError):
            flash(str(exc), "error")
            return True
        if isinstance(exc, validators.ValidationError):
            flash(str(exc), "error")
            return True
        if isinstance(exc, IntegrityError):
            log.warning("integrity error in %s: %s", type(self).__name__, exc.orig)
            flash(
                "This change conflicts with data that already exists (a duplicate, or "
                "something still in use). Nothing was saved.",
                "error",
            )
            return True
        log.exception("unexpected error in %s", type(self).__name__)
        flash("Something went wrong and nothing was saved. The error has been logged.", "error")
        return True


class StaffView(StaffAccessMixin, BaseView):
    """Base of custom (non-model) staff pages."""


#: The searchable record picker of product and task forms (100,000 records never fit a select).
RECORD_LOOKUP: dict[str, t.Any] = {
    "fields": (Record.first_name, Record.last_name, Record.company_name, Record.email),
    "order_by": Record.last_name,
    "page_size": 15,
    "placeholder": "Type a name or email",
    "minimum_input_length": 1,
}


MAX_ID = 2**63 - 1


def _singular(name: str) -> str:
    if name.endswith("ies"):
        return name[:-3] + "y"
    return name[:-1] if name.endswith("s") and not name.endswith("ss") else name


_STOCK_FLASHES = {
    "Record was successfully created.": "{Noun} created.",
    "Record was successfully saved.": "{Noun} saved.",
    "Record was successfully deleted.": "{Noun} deleted.",
    "Record does not exist.": "That {noun} no longer exists.",
    "Failed to create record.": "The {noun} could not be created.",
    "Failed to save record.": "The {noun} could not be saved.",
}
_COUNTED_DELETE = re.compile(r"^(\d+) records were successfully deleted\.$")


def _reworded(message: str, noun: str) -> str:
    lower = noun[:1].lower() + noun[1:]
    for stock, ours in _STOCK_FLASHES.items():
        if message.startswith(stock):
            return ours.format(Noun=noun, noun=lower) + message[len(stock) :]
    counted = _COUNTED_DELETE.match(message)
    if counted:
        return f"{plural(int(counted.group(1)), lower)} deleted."
    return message


#: What a spreadsheet reads as the start of a formula (OWASP, CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)")


def spreadsheet_safe(value: t.Any) -> t.Any:
    """An exported cell a spreadsheet will not run: text that starts like a formula
    ("=HYPERLINK(...)", "@SUM(...)", "+1+1", a tab) gets a leading single quote, as OWASP
    advises. Numbers, and text that is only a number ("-12.50", "+16145550101"), stay as they
    are."""
    if not isinstance(value, str) or not value.startswith(_FORMULA_START):
        return value
    if _PLAIN_NUMBER.fullmatch(value):
        return value
    return "'" + value


def plural(count: int, word: str, words: str | None = None) -> str:
    """ "1 record", "3 records" (``words`` for irregular plurals)."""
    return f"{count} {word if count == 1 else (words or word + 's')}"


def int_ids(values: t.Iterable[t.Any]) -> list[int]:
    """The ids among posted values, sorted and unique: anything that is not a whole number
    the database could hold is left out."""
    found = set()
    for value in values:
        text = str(value).strip()
        if text.isdigit() and int(text) <= MAX_ID:
            found.add(int(text))
    return sorted(found)


def record_link(view: t.Any, context: t.Any, model: t.Any, name: str) -> Markup | str:
    """List column: the row's record, linked to its page."""
    if model.record is None:
        return ""
    return Markup('<a href="{}">{}</a>').format(
        url_for("record.details_view", id=model.record_id), model.record.display_name
    )


def badge(text: str, colour: str = "#6c757d") -> Markup:
    return Markup('<span class="badge pt-tag" style="background-color:{}">{}</span>').format(
        colour, text
    )


class HomeView(StaffAccessMixin, AdminIndexView):
    """The staff dashboard at /admin/: the office in numbers and the signed-in person's tasks."""

    @expose("/")
    def index(self):  # type: ignore[no-untyped-def]
        from app.services import dashboard

        return self.render(
            "admin/home.html",
            summary=dashboard.summary(),
            my_tasks=dashboard.open_tasks(current_user, limit=10),
            now=utcnow(),
            local_datetime=local_datetime,
        )
