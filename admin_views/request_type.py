"""Request types (admins): the kinds of request clients send from the portal (name, key in
the portal's addresses, description, the event the notification matrix answers, whether it
asks for a policy, active, order) and their fields (any field type or files, options and
limits, required, order, archived). A type clients have sent requests of is not deleted:
it is switched off, so their threads keep it."""

from __future__ import annotations

import typing as t

from flask import request, url_for
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import joinedload
from wtforms import SelectField, validators

from admin_views.base import ADMIN_ONLY, StaffModelView, int_ids
from admin_views.filters import IntChoice
from admin_views.forms import question_settings_fields
from app.services import request_types
from models import RequestField, RequestType, db

SETTING_FIELDS = ("options", "min", "max", "max_length")


def _type_options() -> list[tuple[int, str]]:
    return [
        (rt.id, rt.name)
        for rt in db.session.scalars(select(RequestType).order_by(RequestType.position))
    ]


def _fields_link(view: t.Any, context: t.Any, model: RequestType, name: str) -> Markup:
    return Markup('<a href="{}">Fields</a> · <a href="{}">Add a field</a>').format(
        url_for("request_field.index_view", flt0_request_type_equals=model.id),
        url_for("request_field.create_view", request_type=model.id),
    )


class RequestTypeView(StaffModelView):
    """The request types the portal offers (the active ones, in order)."""

    required_roles = ADMIN_ONLY
    noun = "Request type"
    column_list = ("position", "name", "key", "event", "asks_policy", "active", "links")
    column_labels = {"links": "", "asks_policy": "Asks for a policy"}
    column_formatters = {"links": _fields_link}
    column_default_sort = [("position", False), ("name", False)]
    column_sortable_list = ("position", "name")
    form_columns = ("name", "key", "description", "event", "asks_policy", "active", "position")
    form_args = {
        "key": {
            "description": "In the portal's address (/portal/requests/new/<key>): lower-case "
            "letters, digits, hyphens and underscores.",
        },
        "description": {"description": "Shown to the client with the type and above its fields."},
        "event": {
            "label": "Notifies as",
            "description": "The event its requests emit: the notification matrix decides who "
            "hears (email, task).",
        },
        "asks_policy": {
            "label": "Asks for a policy",
            "description": "The form starts with a required choice of the client's policies.",
        },
        "active": {"description": "Off: clients cannot send it; requests already sent stay."},
        "position": {"description": "Types are listed from the lowest number up."},
    }
    form_widget_args = {"description": {"rows": 3}}

    def on_model_change(self, form: t.Any, model: RequestType, is_created: bool) -> None:
        request_types.check_type(model)

    def on_model_delete(self, model: RequestType) -> None:
        request_types.before_delete(model)


def _type_label(view: t.Any, context: t.Any, model: RequestField, name: str) -> str:
    return request_types.type_label(model.field_type)


class RequestFieldView(StaffModelView):
    """A request type's fields; the portal asks the active ones, in order, on its next load."""

    required_roles = ADMIN_ONLY
    noun = "Field"
    column_list = ("request_type", "position", "label", "field_type", "required", "archived")
    column_labels = {"field_type": "Type", "request_type": "Request type"}
    column_formatters = {"field_type": _type_label}
    column_default_sort = [("request_type_id", False), ("position", False)]
    column_sortable_list = ("position", "label")
    column_filters = (IntChoice(RequestField.request_type_id, "Request type", _type_options),)
    form_columns = (
        "request_type",
        "label",
        "help_text",
        "field_type",
        *SETTING_FIELDS,
        "required",
        "position",
        "archived",
    )
    form_overrides = {"field_type": SelectField}
    form_args = {
        "request_type": {"label": "Request type", "validators": [validators.InputRequired()]},
        "label": {"validators": [validators.InputRequired()]},
        "help_text": {"label": "Help", "description": "Shown under the field."},
        "field_type": {
            "label": "Type",
            "choices": [
                (name, request_types.type_label(name)) for name in request_types.FIELD_TYPES
            ],
        },
        "required": {"description": "Files: at least one file."},
        "position": {"description": "Fields are asked from the lowest number up."},
        "archived": {
            "description": "Archived fields are asked no more; requests already sent keep "
            "their answers."
        },
    }
    form_extra_fields = question_settings_fields()
    form_widget_args = {"help_text": {"rows": 2}, "options": {"rows": 5}}

    def get_query(self) -> t.Any:
        return super().get_query().options(joinedload(RequestField.request_type))

    def create_form(self, obj: t.Any = None) -> t.Any:
        form = super().create_form(obj)
        chosen = self._chosen_type()
        if chosen is not None and not form.request_type.data:
            form.request_type.data = chosen
        return form

    def _chosen_type(self) -> RequestType | None:
        found = int_ids([request.args.get("request_type", "")])
        return db.session.get(RequestType, found[0]) if found else None

    def on_form_prefill(self, form: t.Any, id: t.Any) -> None:
        field = self.get_one(id)
        settings = dict(field.settings or {}) if field else {}
        for name in SETTING_FIELDS:
            value = settings.get(name)
            if name == "options" and isinstance(value, list):
                value = "\n".join(str(v) for v in value)
            form[name].data = value

    def on_model_change(self, form: t.Any, model: RequestField, is_created: bool) -> None:
        request_types.check_field(model, {name: form[name].data for name in SETTING_FIELDS})
