"""The secured base of every staff view, and the small helpers lists and messages share.

The form plumbing (dates in the office's zone, labelled enums, CSRF) is in admin_views.forms."""

from __future__ import annotations

import logging
import re
import typing as t
from datetime import date, datetime
from enum import Enum

from flask import (
    abort,
    current_app,
    flash,
    has_request_context,
    redirect,
    request,
    session,
    url_for,
)
from flask_admin import BaseView, expose
from flask_admin.actions import action
from flask_admin.contrib.sqla import ModelView
from flask_admin.model import typefmt
from flask_babel import get_locale
from flask_security import current_user
from markupsafe import Markup
from sqlalchemy.exc import IntegrityError
from wtforms import SelectFieldBase, validators

from admin_views.forms import LazyOptions as LazyOptions
from admin_views.forms import PorticoModelConverter, StaffForm
from admin_views.forms import local_datetime as local_datetime
from admin_views.forms import office_zone as office_zone
from app.services.errors import ServiceError, ValidationError
from models import LabelledEnum, Record, StaffRole, db

log = logging.getLogger(__name__)

STAFF_ROLES = (StaffRole.ADMIN.value, StaffRole.AGENT.value)
ADMIN_ONLY = (StaffRole.ADMIN.value,)


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


class StaffAccessMixin:
    """Who may open a view: signed-in, active staff with one of ``required_roles``.

    Everyone else gets the sign-in page, or a 403 when signed in without the role: the check
    is on the server, hiding the menu entry is only a courtesy.
    """

    #: Roles allowed to open the view.
    required_roles: tuple[str, ...] = STAFF_ROLES

    def is_accessible(self) -> bool:
        # Asked for every menu entry of every page: answered once per request and set of roles.
        if not has_request_context():
            return self._has_a_role()
        known = request.environ.setdefault("portico.accessible", {})
        if self.required_roles not in known:
            known[self.required_roles] = self._has_a_role()
        return bool(known[self.required_roles])

    def _has_a_role(self) -> bool:
        if not (current_user.is_authenticated and current_user.active):
            return False
        return any(current_user.has_role(role) for role in self.required_roles)

    def inaccessible_callback(self, name: str, **kwargs: t.Any) -> t.Any:
        if current_user.is_authenticated:
            abort(403)
        return redirect(url_for("security.login", next=request.full_path.rstrip("?")))

    def get_url(self, endpoint: str, **kwargs: t.Any) -> str:
        # The panel's own scripts and styles (twenty a page): their addresses depend only on
        # the file's name and where the app is mounted, so each is built once per process.
        admin = self.admin  # type: ignore[attr-defined]
        if endpoint != f"{admin.endpoint}.static" or not has_request_context():
            return super().get_url(endpoint, **kwargs)  # type: ignore[misc]
        known: dict[t.Any, str] = admin.__dict__.setdefault("_portico_static_urls", {})
        key = (request.script_root, *sorted(kwargs.items()))
        url = known.get(key)
        if url is None:
            if len(known) >= _MAX_MENUS:
                known.clear()
            url = known[key] = super().get_url(endpoint, **kwargs)  # type: ignore[misc]
        return url

    def main_menu(self, render: t.Callable[[], Markup]) -> Markup:
        """The staff menu (``render`` is Flask-Admin's menu macro), rendered once per process
        for each set of entries shown, open page and language: some forty links and access
        checks that were a fifth of a list page's cost. What a person may open is still asked
        on every page (the key), so a role taken away or a view switched off shows at once."""
        admin = self.admin  # type: ignore[attr-defined]
        menus: dict[t.Any, Markup] = admin.__dict__.setdefault("_portico_menus", {})
        key = (
            _menu_shape(admin.menu()),
            self.endpoint,  # type: ignore[attr-defined]
            str(get_locale()),
            request.script_root,
        )
        shown = menus.get(key)
        if shown is None:
            if len(menus) >= _MAX_MENUS:
                menus.clear()
            shown = menus[key] = render()  # the macro's Markup, escaped as it was written
        return shown


#: Menus (views x sets of roles x languages) and static addresses kept per process: far
#: below this in practice; past it the store starts again.
_MAX_MENUS = 512


def _menu_shape(items: t.Iterable[t.Any]) -> tuple[t.Any, ...]:
    """Which entries of the menu are shown: all the menu's markup depends on, besides the
    open page and the language (names, icons and addresses are fixed at start-up)."""
    shape: list[t.Any] = []
    for item in items:
        if item.is_category():
            shape.append(_menu_shape(item.get_children()))
        else:
            shape.append(id(item) if item.is_accessible() and item.is_visible() else None)
    return tuple(shape)


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

    def edit_form(self, obj: t.Any = None) -> t.Any:
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
    def can_delete(self) -> bool:
        return current_user.is_authenticated and any(
            current_user.has_role(role) for role in self.delete_roles
        )

    @can_delete.setter
    def can_delete(self, value: bool) -> None:  # Flask-Admin assigns defaults at start-up
        pass

    @expose("/delete/", methods=("POST",))
    def delete_view(self) -> t.Any:
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
    def page_size(self) -> int:
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
        if text.isascii() and text.isdigit() and int(text) <= MAX_ID:  # not "²"
            found.add(int(text))
    return sorted(found)


def record_or_404(record_id: int) -> Record:
    """The record a staff route names, or a 404."""
    record = db.session.get(Record, record_id)
    if record is None:
        abort(404)
    return record


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
