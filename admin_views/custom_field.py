"""Custom fields (admins): define fields of any type; values live on the records."""

from __future__ import annotations

import typing as t

from wtforms import IntegerField, StringField, TextAreaField, validators

from admin_views.base import ADMIN_ONLY, StaffModelView
from admin_views.filters import EnumChoice
from app.services import custom_fields
from models import CustomField, CustomFieldType

SETTING_FIELDS = ("max_length", "pattern", "pattern_message", "min", "max", "options")


class CustomFieldView(StaffModelView):
    required_roles = ADMIN_ONLY
    column_list = ("label", "key", "field_type", "required", "archived", "updated_at")
    column_labels = {"field_type": "Type"}
    column_default_sort = "label"
    column_filters = (EnumChoice(CustomField.field_type, "Type", CustomFieldType),)
    form_columns = (
        "key",
        "label",
        "field_type",
        "required",
        "help_text",
        *SETTING_FIELDS,
        "archived",
    )
    form_extra_fields = {
        "max_length": IntegerField(
            "Maximum length",
            validators=[validators.Optional()],
            description="Text types: the longest value accepted.",
        ),
        "pattern": StringField(
            "Pattern",
            validators=[validators.Optional()],
            description="Text types: a regular expression the value must "
            "match, e.g. [A-Z]{2}[0-9]{6}.",
        ),
        "pattern_message": StringField(
            "Message when the pattern does not match", validators=[validators.Optional()]
        ),
        "min": StringField(
            "Minimum",
            validators=[validators.Optional()],
            description="Numbers: the smallest value. Dates: the earliest, as "
            "YYYY-MM-DD or 'today'.",
        ),
        "max": StringField(
            "Maximum",
            validators=[validators.Optional()],
            description="Numbers: the largest value. Dates: the latest.",
        ),
        "options": TextAreaField(
            "Options",
            validators=[validators.Optional()],
            description="Choice: the answers, one per line.",
        ),
    }
    form_args = {
        "key": {"description": "Stable identifier, e.g. pet_name. It cannot change later."},
        "required": {"description": "Staff must fill it, and clients when the portal shows it."},
        "archived": {"description": "Archived fields keep their values and show nowhere."},
    }
    form_widget_args = {"help_text": {"rows": 2}, "options": {"rows": 4}}
    #: Key and type never change: values are stored in the type's form.
    fixed_after_create = ("key", "field_type")

    def on_form_prefill(self, form: t.Any, id: t.Any) -> None:
        field = self.get_one(id)
        settings = dict(field.settings or {}) if field else {}
        for name in SETTING_FIELDS:
            value = settings.get(name)
            if name == "options" and isinstance(value, list):
                value = "\n".join(str(v) for v in value)
            form[name].data = value

    def on_model_change(self, form: t.Any, model: CustomField, is_created: bool) -> None:
        settings = {name: form[name].data for name in SETTING_FIELDS}
        custom_fields.save(model, settings, is_new=is_created)

    def on_model_delete(self, model: CustomField) -> None:
        custom_fields.check_delete(model)
