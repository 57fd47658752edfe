"""Surveys (admins): each survey's title, intro and whether the portal asks it, and its
questions (any field type, its options and limits, required, order, archived); staff see the
clients' answers per survey and record, and a summary per survey (counts, the spread of each
choice, averages)."""

from __future__ import annotations

import typing as t

from flask import abort, url_for
from flask_admin import expose
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import joinedload
from wtforms import SelectField, StringField, TextAreaField, validators

from admin_views.base import ADMIN_ONLY, StaffModelView, record_link
from admin_views.filters import IntChoice, IntIs, OfficeDayBetween
from app.services import field_types, surveys
from models import PortalAccount, Survey, SurveyQuestion, SurveyResponse, db

SETTING_FIELDS = ("options", "min", "max", "max_length")


def _survey_options() -> list[tuple[int, str]]:
    return [(s.id, s.title) for s in db.session.scalars(select(Survey).order_by(Survey.title))]


def _links(view: t.Any, context: t.Any, model: Survey, name: str) -> Markup:
    return Markup(
        '<a href="{}">Questions</a> · <a href="{}">Answers</a> · <a href="{}">Summary</a>'
    ).format(
        url_for("survey_question.index_view", flt0_survey_equals=model.id),
        url_for("survey_response.index_view", flt0_survey_equals=model.id),
        url_for("survey_response.summary", survey_id=model.id),
    )


class SurveyView(StaffModelView):
    """The portal's surveys: their keys are fixed (each has its page and event)."""

    required_roles = ADMIN_ONLY
    delete_roles = ()
    can_create = False
    column_list = ("title", "key", "active", "links")
    column_labels = {"links": ""}
    column_formatters = {"links": _links}
    column_default_sort = "title"
    form_columns = ("title", "intro", "active")
    form_args = {
        "intro": {"description": "Shown to the client above the questions."},
        "active": {"description": "Off: the portal neither shows nor accepts this survey."},
    }
    form_widget_args = {"intro": {"rows": 3}}


def _type_label(view: t.Any, context: t.Any, model: SurveyQuestion, name: str) -> str:
    return field_types.get(model.field_type).label


class SurveyQuestionView(StaffModelView):
    """A survey's questions; the portal asks the active ones, in order, on its next load."""

    required_roles = ADMIN_ONLY
    noun = "Question"
    column_list = ("survey", "position", "label", "field_type", "required", "archived")
    column_labels = {"field_type": "Type", "label": "Question"}
    column_formatters = {"field_type": _type_label}
    column_default_sort = [("survey_id", False), ("position", False)]
    column_sortable_list = ("position", "label")
    column_filters = (IntChoice(SurveyQuestion.survey_id, "Survey", _survey_options),)
    list_extra_args = ()
    form_columns = (
        "survey",
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
        "label": {"label": "Question", "validators": [validators.InputRequired()]},
        "help_text": {"label": "Help", "description": "Shown under the question."},
        "field_type": {
            "label": "Type",
            "choices": [(name, field_types.get(name).label) for name in surveys.QUESTION_TYPES],
        },
        "position": {"description": "Questions are asked from the lowest number up."},
        "archived": {
            "description": "Archived questions are asked no more; answers given keep them."
        },
    }
    form_extra_fields = {
        "options": TextAreaField(
            "Options",
            validators=[validators.Optional()],
            description="Choice: the answers, one per line.",
        ),
        "min": StringField(
            "Minimum", validators=[validators.Optional()], description="Numbers: the smallest."
        ),
        "max": StringField(
            "Maximum", validators=[validators.Optional()], description="Numbers: the largest."
        ),
        "max_length": StringField(
            "Maximum length",
            validators=[validators.Optional()],
            description="Text: the longest answer, in characters.",
        ),
    }
    form_widget_args = {"help_text": {"rows": 2}, "options": {"rows": 5}}

    def get_query(self) -> t.Any:
        return super().get_query().options(joinedload(SurveyQuestion.survey))

    def on_form_prefill(self, form: t.Any, id: t.Any) -> None:
        question = self.get_one(id)
        settings = dict(question.settings or {}) if question else {}
        for name in SETTING_FIELDS:
            value = settings.get(name)
            if name == "options" and isinstance(value, list):
                value = "\n".join(str(v) for v in value)
            form[name].data = value

    def on_model_change(self, form: t.Any, model: SurveyQuestion, is_created: bool) -> None:
        surveys.check_question(model, {name: form[name].data for name in SETTING_FIELDS})


def _who(view: t.Any, context: t.Any, model: SurveyResponse, name: str) -> str:
    return model.account.person_name if model.account is not None else ""


def _answers(view: t.Any, context: t.Any, model: SurveyResponse, name: str) -> Markup:
    questions = {q.id: q for q in model.survey.questions}
    lines = []
    for key, value in (model.answers or {}).items():
        question = questions.get(int(key)) if str(key).isdigit() else None
        if question is None:
            continue
        lines.append(
            Markup("<div><strong>{}</strong> {}</div>").format(
                question.label, surveys.display(question, value)
            )
        )
    return Markup("").join(lines)


class SurveyResponseView(StaffModelView):
    """Clients' answers, read-only; filter by survey or record. A summary per survey."""

    noun = "Answer"
    can_create = False
    can_edit = False
    can_export = True
    export_types = ["csv"]
    column_list = ("created_at", "survey", "record", "account", "answers")
    column_labels = {"created_at": "When", "account": "By"}
    column_default_sort = ("created_at", True)
    column_sortable_list = ("created_at",)
    column_formatters = {"record": record_link, "account": _who, "answers": _answers}
    column_formatters_export = {
        "record": lambda v, c, m, n: m.record.display_name,
        "account": _who,
        "answers": lambda v, c, m, n: str(_answers(v, c, m, n).striptags()),
    }
    column_filters = (
        IntChoice(SurveyResponse.survey_id, "Survey", _survey_options),
        IntIs(SurveyResponse.record_id, "Record"),
        OfficeDayBetween(SurveyResponse.created_at, "Date"),
    )

    def get_query(self) -> t.Any:
        return (
            super()
            .get_query()
            .options(
                joinedload(SurveyResponse.record),
                joinedload(SurveyResponse.survey).selectinload(Survey.questions),
                joinedload(SurveyResponse.account).joinedload(PortalAccount.contact),
                joinedload(SurveyResponse.account).joinedload(PortalAccount.record),
            )
        )

    @expose("/summary/<int:survey_id>/")
    def summary(self, survey_id: int) -> t.Any:
        survey = db.session.get(Survey, survey_id)
        if survey is None:
            abort(404)
        return self.render(
            "admin/survey/summary.html", survey=survey, figures=surveys.summary(survey)
        )
