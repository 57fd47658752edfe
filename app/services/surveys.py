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
from typing import Any, cast

from flask_babel import gettext as _
from sqlalchemy import select

from app.services import events, field_types, question_forms
from app.services.actors import Actor
from app.services.errors import NotFound, ValidationError
from models import PortalAccount, RecordKind, Survey, SurveyQuestion, SurveyResponse, db

#: The surveys the portal asks, by key, and the event each emits.
EVENTS = {"feedback": "portal.feedback", "claim_survey": "portal.claim_survey"}
#: The field types a question may take.
QUESTION_TYPES = question_forms.QUESTION_TYPES


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


class SurveyForm(question_forms.QuestionForm):
    """Base of every generated survey form."""


def form_class(survey: Survey, questions: list[SurveyQuestion] | None = None) -> type[SurveyForm]:
    """The survey's form, built now from its active questions."""
    asked = active_questions(survey) if questions is None else questions
    built = question_forms.form_class(
        f"{survey.key.title()}SurveyForm", asked, base=SurveyForm, prefix="q"
    )
    return cast(type[SurveyForm], built)


def question_schema(question: SurveyQuestion, *, required: bool) -> dict[str, Any]:
    """A question's value as JSON Schema, from its field type."""
    return question_forms.value_schema(question, required=required)


def describe(question: SurveyQuestion) -> dict[str, Any]:
    """A question for the JSON API."""
    return question_forms.describe(question, field_name(question))


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
    return question_forms.display(question, value)


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
    question_forms.check_row(
        question,
        settings,
        QUESTION_TYPES,
        wrong_type="Choose one of the question types offered.",
        missing_label="Give the question.",
    )
