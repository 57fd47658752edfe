"""A journey step's page (admins): the step itself and, inline, its fields: a form step's
questions (any question type, its options and limits, help, required, order, archived) or an
upload step's slots ("Front of driver's licence", required or not)."""

from __future__ import annotations

import typing as t

from flask import request, url_for
from flask_admin.model.form import InlineFormAdmin
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload
from wtforms import SelectField, StringField, TextAreaField, validators

from admin_views.base import ADMIN_ONLY, StaffModelView, int_ids
from admin_views.filters import IntChoice
from admin_views.forms import question_settings_fields
from admin_views.journey import StepInline, changed, checked, removed
from app.services import field_types, question_forms
from app.services.journeys import definitions
from models import Journey, JourneyField, JourneyStep, db

SETTING_FIELDS = ("options", "min", "max", "max_length")

#: The types a field may take: the question types, and "file" for an upload step's slots.
FIELD_TYPES = [
    *((name, field_types.get(name).label) for name in question_forms.QUESTION_TYPES),
    ("file", "File (an upload step's slot)"),
]


class SettingField(TextAreaField):
    """One of a field's settings, kept in its ``settings`` (not a column of its own)."""

    def populate_obj(self, obj: t.Any, name: str) -> None:
        pass


class SettingLine(StringField):
    def populate_obj(self, obj: t.Any, name: str) -> None:
        pass


class FieldInline(InlineFormAdmin):
    """A step's questions (form step) or slots (upload step)."""

    form_columns = (
        "id",
        "label",
        "help_text",
        "field_type",
        *SETTING_FIELDS,
        "required",
        "position",
        "archived",
    )
    form_label = "Field"
    column_labels = {"help_text": "Help", "field_type": "Type"}
    form_overrides = {"field_type": SelectField}
    form_args = {
        "label": {"validators": [validators.InputRequired()]},
        "help_text": {"description": "Shown under the field."},
        "field_type": {"choices": FIELD_TYPES},
        "required": {"description": "Upload slots: a file must be given."},
        "position": {"description": "Fields come from the lowest number up."},
        "archived": {"description": "Asked no more; sessions under way keep it."},
    }
    form_extra_fields = question_settings_fields(SettingField, SettingLine)
    form_widget_args = {"help_text": {"rows": 2}, "options": {"rows": 4}}

    def on_model_change(self, form: t.Any, model: JourneyField, is_created: bool) -> None:
        typed = {name: form.form[name].data or "" for name in SETTING_FIELDS}
        if typed != _typed(model.settings) or changed(model):
            model.settings = typed
            checked(form, definitions.clean_field, model)


def _typed(settings: dict[str, t.Any] | None) -> dict[str, str]:
    """A field's saved settings as its form shows them."""
    shown = {}
    for name in SETTING_FIELDS:
        value = (settings or {}).get(name)
        if isinstance(value, list):
            value = "\n".join(str(v) for v in value)
        shown[name] = "" if value is None else str(value)
    return shown


def journey_options() -> list[tuple[int, str]]:
    return [(j.id, j.name) for j in db.session.scalars(select(Journey).order_by(Journey.name))]


def _field_count(view: t.Any, context: t.Any, model: JourneyStep, name: str) -> str:
    return str(sum(1 for f in model.fields if not f.archived))


def _journey_link(view: t.Any, context: t.Any, model: JourneyStep, name: str) -> Markup:
    return Markup('<a href="{}">{}</a>').format(
        url_for("journey.details_view", id=model.journey_id), model.journey.name
    )


class JourneyStepView(StaffModelView):
    """Each journey's steps; a step's page edits its questions or upload slots."""

    required_roles = ADMIN_ONLY
    noun = "Step"
    edit_template = "admin/journeys/edit.html"
    create_template = "admin/journeys/create.html"
    column_list = ("journey", "position", "kind", "title", "fields")
    column_labels = {"fields": "Fields", **StepInline.column_labels}
    column_formatters = {"fields": _field_count, "journey": _journey_link}
    column_default_sort = [("journey_id", False), ("position", False)]
    column_sortable_list = ("position", "title")
    column_filters = (IntChoice(JourneyStep.journey_id, "Journey", journey_options),)
    form_columns = ("journey", "position", "kind", "title", "intro", "sign_template")
    fixed_after_create = ("journey",)
    form_args = {
        "journey": {
            "validators": [validators.InputRequired()],
            "query_factory": lambda: db.session.scalars(
                select(Journey).order_by(Journey.name)
            ).all(),
        },
        **StepInline.form_args,
    }
    form_widget_args = {"intro": {"rows": 2}}
    inline_models = (FieldInline(JourneyField),)

    def is_visible(self) -> bool:
        # Steps are reached from their journey's page: the menu does not list them.
        return False

    def get_query(self) -> t.Any:
        return (
            super()
            .get_query()
            .options(joinedload(JourneyStep.journey), selectinload(JourneyStep.fields))
        )

    def get_one(self, id: t.Any) -> JourneyStep | None:
        found = int_ids([id])
        if not found:
            return None
        return db.session.scalar(
            select(JourneyStep)
            .where(JourneyStep.id == found[0])
            .options(joinedload(JourneyStep.journey), selectinload(JourneyStep.fields))
        )

    def create_form(self, obj: t.Any = None) -> t.Any:
        form = super().create_form(obj)
        chosen = int_ids([request.args.get("journey", "")])
        if chosen and not form.journey.data:
            form.journey.data = db.session.get(Journey, chosen[0])
        return form

    def on_form_prefill(self, form: t.Any, id: t.Any) -> None:
        for entry in form.fields.entries:
            row = getattr(entry, "object_data", None)
            if row is not None:
                for name, value in _typed(row.settings).items():
                    entry.form[name].data = value

    def on_model_change(self, form: t.Any, model: JourneyStep, is_created: bool) -> None:
        if changed(model):
            definitions.clean_step(model)
        if removed(JourneyField, step_id=model.id) and model.journey is not None:
            definitions.bump_version(model.journey)

    def on_model_delete(self, model: JourneyStep) -> None:
        definitions.bump_version(model.journey)
