"""Surveys: questions admins set without code (the client's *Feedback* and *Claim experience
survey*), asked in the portal and answered by clients.

:func:`form_class` builds the WTForms form of a survey per request from its active questions
through the field types registry (:mod:`app.services.field_types`): it is the only validator,
for the page and the JSON API alike; :func:`json_schema` is the same questions as a JSON
Schema. :func:`submit` keeps a client's answers and emits the survey's event
(``portal.feedback``, ``portal.claim_survey``) with the answers as the lines the agent's
email shows. :func:`summary` is staff's figures per question.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from flask_babel import gettext as _
from flask_wtf import FlaskForm
from sqlalchemy import select

from app.services import events, field_types
from app.services.actors import Actor
from app.services.errors import NotFound, ValidationError
from app.services.field_types import check_form_text
from models import PortalAccount, RecordKind, Survey, SurveyQuestion, SurveyResponse, db

#: The surveys the portal asks, by key, and the event each emits.
EVENTS = {"feedback": "portal.feedback", "claim_survey": "portal.claim_survey"}
#: The field types a question may take (those that need no record, such as a phone
#: number read in the record's country, are left out).
QUESTION_TYPES = ("text", "long_text", "number", "date", "yes_no", "choice")


def field_name(question: SurveyQuestion) -> str:
    """A question's name in the form and in JSON bodies."""
    return f"q{question.id}"


def get_survey(key: str) -> Survey:
    """An active survey the portal asks; another key, or one switched off, is NotFound."""
    survey = db.session.scalar(select(Survey).where(Survey.key == key))
    if survey is None or not survey.active or key not in EVENTS:
        raise NotFound(_("This page does not exist."))
    return survey


def offered() -> list[Survey]:
    """The surveys the portal offers now (switched on), for links on the client's home."""
    return list(
        db.session.scalars(
            select(Survey)
            .where(Survey.active.is_(True), Survey.key.in_(list(EVENTS)))
            .order_by(Survey.key.desc())  # feedback first, then the claim survey
        )
    )


def active_questions(survey: Survey) -> list[SurveyQuestion]:
    """The questions asked now, in order."""
    return list(
        db.session.scalars(
            select(SurveyQuestion)
            .where(SurveyQuestion.survey_id == survey.id, SurveyQuestion.archived.is_(False))
            .order_by(SurveyQuestion.position, SurveyQuestion.id)
        )
    )


class SurveyForm(FlaskForm):
    """Base of every generated survey form."""

    questions: list[SurveyQuestion] = []

    def validate(self, extra_validators: Any = None) -> bool:
        valid = super().validate(extra_validators)
        return check_form_text(self) and valid

    def answers(self) -> dict[str, Any]:
        """The validated answers, ``{question id: JSON value}``; unanswered ones left out."""
        result = {}
        for question in self.questions:
            kind = field_types.get(question.field_type)
            value = kind.json_value(self[field_name(question)].data)
            if value is not None and value != "":
                result[str(question.id)] = value
        return result


def form_class(survey: Survey, questions: list[SurveyQuestion] | None = None) -> type[SurveyForm]:
    """The survey's form, built now from its active questions."""
    asked = active_questions(survey) if questions is None else questions
    attributes: dict[str, Any] = {"questions": asked}
    for question in asked:
        kind = field_types.get(question.field_type)
        unbound = kind.field(
            question.label, question.help_text, question.required, question.settings or {}, {}
        )
        if question.field_type == "choice" and question.required:
            # No answer picked for the client: a required choice starts blank, and stays
            # refused until they choose (the details' choices start from the saved value).
            unbound.kwargs["choices"] = [("", _("Choose…")), *unbound.kwargs["choices"]]
        attributes[field_name(question)] = unbound
    return type(f"{survey.key.title()}SurveyForm", (SurveyForm,), attributes)


def question_schema(question: SurveyQuestion, *, required: bool) -> dict[str, Any]:
    """A question's value as JSON Schema, from its field type."""
    schema = field_types.get(question.field_type).json_schema(question.settings or {})
    schema["title"] = question.label
    if question.help_text:
        schema["description"] = question.help_text
    if required and isinstance(schema.get("type"), list):
        kept = [kind for kind in schema["type"] if kind != "null"]
        schema["type"] = kept[0] if len(kept) == 1 else kept
        if "enum" in schema:
            schema["enum"] = [value for value in schema["enum"] if value is not None]
    return schema


def describe(question: SurveyQuestion) -> dict[str, Any]:
    """A question for the JSON API."""
    described: dict[str, Any] = {
        "name": field_name(question),
        "label": question.label,
        "help": question.help_text,
        "type": question.field_type,
        "required": question.required,
        "schema": question_schema(question, required=question.required),
    }
    if question.field_type == "choice":
        described["options"] = [
            {"value": value, "label": label}
            for value, label in field_types.choice_options(question.settings or {})
        ]
    return described


def submit(account: PortalAccount, survey_key: str, answers: dict[str, Any]) -> SurveyResponse:
    """Keep a client's answers (``{question id: value}``, as the survey's form gives them)
    and emit the survey's event, the answers as the lines the agent's email shows. Only a
    client answers: a lead's account finds no survey (NotFound)."""
    if account.record.kind != RecordKind.CLIENT:
        raise NotFound(_("This page does not exist."))
    survey = get_survey(survey_key)
    asked = {str(question.id): question for question in active_questions(survey)}
    unknown = sorted(set(answers) - set(asked))
    if unknown:
        raise ValidationError(_("There is no such question in this survey."), field=unknown[0])
    if not answers:
        raise ValidationError(_("Answer at least one question."))
    response = SurveyResponse(
        survey_id=survey.id,
        record_id=account.record_id,
        account_id=account.id,
        answers=dict(answers),
    )
    db.session.add(response)
    db.session.flush()
    lines = [
        f"{question.label}: {display(question, answers[key])}"
        for key, question in asked.items()
        if key in answers
    ]
    events.emit(
        EVENTS[survey.key],
        actor=Actor.client(account),
        record=account.record,
        details={"message": "\n".join(lines), "survey": survey.key, "response": response.id},
    )
    return response


def display(question: SurveyQuestion, value: Any) -> str:
    """An answer as staff read it."""
    if question.field_type == "yes_no":
        return _("Yes") if value else _("No")
    return "" if value is None else str(value)


# -- figures for staff ----------------------------------------------------------------------


@dataclass
class QuestionSummary:
    """One question's answers: how many; the count of each option (choice, yes/no); the
    average (number)."""

    question: SurveyQuestion
    count: int = 0
    distribution: dict[str, int] = field(default_factory=dict)
    average: float | None = None


def summary(survey: Survey) -> list[QuestionSummary]:
    """Per question of the survey (archived ones too, after the active ones), its figures."""
    questions = list(
        db.session.scalars(
            select(SurveyQuestion)
            .where(SurveyQuestion.survey_id == survey.id)
            .order_by(SurveyQuestion.archived, SurveyQuestion.position, SurveyQuestion.id)
        )
    )
    figures = {question.id: QuestionSummary(question) for question in questions}
    for question in questions:
        if question.field_type == "choice":
            for value, _label in field_types.choice_options(question.settings or {}):
                figures[question.id].distribution[value] = 0
        elif question.field_type == "yes_no":
            figures[question.id].distribution = {"Yes": 0, "No": 0}
    totals: dict[int, list[Decimal]] = {}
    rows = db.session.scalars(
        select(SurveyResponse.answers).where(SurveyResponse.survey_id == survey.id)
    )
    for answers in rows:
        for key, value in (answers or {}).items():
            figure = figures.get(int(key)) if str(key).isdigit() else None
            if figure is None or value is None:
                continue
            figure.count += 1
            kind = figure.question.field_type
            if kind == "yes_no":
                name = "Yes" if value else "No"
                figure.distribution[name] = figure.distribution.get(name, 0) + 1
            elif kind == "choice":
                figure.distribution[str(value)] = figure.distribution.get(str(value), 0) + 1
            elif kind == "number":
                totals.setdefault(figure.question.id, []).append(Decimal(str(value)))
    for question_id, numbers in totals.items():
        figures[question_id].average = round(float(sum(numbers) / len(numbers)), 2)
    return list(figures.values())


def check_question(question: SurveyQuestion, settings: dict[str, Any]) -> None:
    """Tidy a question an admin saves: a known type, its settings checked by the type."""
    if question.field_type not in QUESTION_TYPES:
        raise ValidationError("Choose one of the question types offered.", field="field_type")
    question.label = " ".join((question.label or "").split())
    if not question.label:
        raise ValidationError("Give the question.", field="label")
    question.settings = field_types.get(question.field_type).check_settings(settings)
