"""Surveys: *Feedback* (``/portal/feedback``) and the *Claim experience survey*
(``/portal/claim-survey``), their questions as the admins set them, and the JSON routes
``/portal/api/surveys/<key>`` (the questions with their JSON Schema; the answers), validated
by the same form, built per request from the questions. Only clients answer: a lead's
account, or a survey switched off, finds no such page (404)."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, g, jsonify, redirect, render_template, url_for
from flask_babel import gettext as _

from app import transactions
from app.services import surveys
from app.services.errors import NotFound, ValidationError
from models import PortalAccount, RecordKind, Survey
from portal import bp, openapi
from portal.api import error, form_errors, read_body
from portal.guards import client_required
from portal.limits import taken_only
from portal.navigation import client_screen
from portal.openapi import WRITE_ERRORS, Reply

#: Survey answers per signed-in account, one count for every survey, page and API: each
#: emails the agent, so a client may say what they think, not script a flood. Only answers
#: taken count: a form sent back to fix does not use one up.
SURVEY_LIMIT = "5 per hour"

SURVEY_KEY = f"<any({', '.join(surveys.EVENTS)}):survey_key>"


def surveys_per_account() -> Any:
    """:data:`SURVEY_LIMIT` per signed-in account."""
    return taken_only(lambda: SURVEY_LIMIT, "portal-survey-account")


def _survey_or_404(key: str) -> Survey:
    """The survey, for a client (a lead, or staff previewing one, finds no such page)."""
    record = g.get("portal_record")
    if record is None or record.kind != RecordKind.CLIENT:
        abort(404)
    try:
        return surveys.get_survey(key)
    except NotFound:
        abort(404)


def _is_open(key: str) -> bool:
    try:
        surveys.get_survey(key)
    except NotFound:
        return False
    return True


def _account() -> PortalAccount:
    account: PortalAccount | None = g.get("portal_account")
    if account is None:
        abort(404)
    return account


def _page(key: str, form: Any, status: int = 200) -> Any:
    survey = _survey_or_404(key)
    return (
        render_template(
            "portal/survey.html",
            survey=survey,
            form=form,
            action=url_for(f"portal.{key}_submit"),
            claim_survey_open=_is_open("claim_survey"),
        ),
        status,
    )


def _show(key: str) -> Any:
    survey = _survey_or_404(key)
    return _page(key, surveys.form_class(survey)(formdata=None))


def _answer(key: str) -> Any:
    survey = _survey_or_404(key)
    account = _account()
    form = surveys.form_class(survey)()
    if not form.validate_on_submit():
        return _page(key, form, 400 if "csrf_token" in form.errors else 422)
    try:
        with transactions.attempt():
            surveys.submit(account, key, form.answers())
    except NotFound:
        abort(404)
    except ValidationError as refused:
        flash(refused.message, "error")
        return _page(key, form, 422)
    flash(_("Thank you: your answers reached your adviser."), "success")
    return redirect(url_for("portal.home"))


def feedback() -> Any:
    return _show("feedback")


def claim_survey() -> Any:
    return _show("claim_survey")


client_screen("/feedback")(feedback)
client_screen("/claim-survey")(claim_survey)


@bp.post("/feedback")
@client_required
@surveys_per_account()
def feedback_submit() -> Any:
    return _answer("feedback")


@bp.post("/claim-survey")
@client_required
@surveys_per_account()
def claim_survey_submit() -> Any:
    return _answer("claim_survey")


# -- JSON ---------------------------------------------------------------------------------------


def _keys() -> list[str]:
    return list(surveys.EVENTS)


def _questions_now(survey_key: str) -> list[Any]:
    try:
        return surveys.active_questions(surveys.get_survey(survey_key))
    except NotFound:
        return []


def _body(survey_key: str) -> dict[str, Any]:
    """The answers, one property per active question, each its field type's schema."""
    asked = _questions_now(survey_key)
    return {
        "type": "object",
        "title": f"Answers to the survey {survey_key}",
        "additionalProperties": False,
        "properties": {
            surveys.field_name(q): surveys.question_schema(q, required=q.required) for q in asked
        },
        "required": [surveys.field_name(q) for q in asked if q.required],
    }


openapi.component(
    "survey_question",
    {
        "type": "object",
        "required": ["name", "label", "help", "type", "required", "schema"],
        "properties": {
            "name": {"type": "string", "description": "Its name in the answers' body"},
            "label": {"type": "string"},
            "help": {"type": "string"},
            "type": {"type": "string", "enum": list(surveys.QUESTION_TYPES)},
            "required": {"type": "boolean"},
            "schema": {"type": "object", "description": "The JSON Schema of its answer"},
            "options": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["value", "label"],
                    "properties": {"value": {"type": "string"}, "label": {"type": "string"}},
                },
            },
        },
    },
)
openapi.component(
    "survey",
    {
        "type": "object",
        "required": ["key", "title", "intro", "questions"],
        "properties": {
            "key": {"type": "string"},
            "title": {"type": "string"},
            "intro": {"type": "string"},
            "questions": {
                "type": "array",
                "items": {"$ref": "#/components/schemas/survey_question"},
            },
        },
    },
)
openapi.component(
    "survey_answered",
    {
        "type": "object",
        "required": ["id", "created_at", "message"],
        "properties": {
            "id": {"type": "integer"},
            "created_at": {"type": "string", "format": "date-time"},
            "message": {"type": "string"},
        },
    },
)


def _api_survey(survey_key: str) -> Survey | None:
    record = g.get("portal_record")
    if record is None or record.kind != RecordKind.CLIENT:
        return None
    try:
        return surveys.get_survey(survey_key)
    except NotFound:
        return None


@bp.get(f"/api/surveys/{SURVEY_KEY}")
@openapi.operation(
    "get",
    lambda survey_key: f"The questions of the survey {survey_key} (clients only)",
    replies={200: Reply("The survey", "survey")},
)
@openapi.each(survey_key=_keys)
@client_required
def api_survey(survey_key: str) -> Any:
    survey = _api_survey(survey_key)
    if survey is None:
        return error(404, _("This page does not exist."))
    return jsonify(
        {
            "key": survey.key,
            "title": survey.title,
            "intro": survey.intro,
            "questions": [surveys.describe(q) for q in surveys.active_questions(survey)],
        }
    )


@bp.post(f"/api/surveys/{SURVEY_KEY}")
@openapi.operation(
    "post",
    lambda survey_key: f"Answer the survey {survey_key} (clients only)",
    body=_body,
    body_name="survey_{survey_key}",
    replies={201: Reply("Thank you: the answers are kept", "survey_answered")},
    errors=(*WRITE_ERRORS, 429),
)
@openapi.each(survey_key=_keys)
@client_required
@surveys_per_account()
def api_survey_answer(survey_key: str) -> Any:
    survey = _api_survey(survey_key)
    if survey is None:
        return error(404, _("This page does not exist."))
    body, refused = read_body(openapi.request_schema())
    if body is None:
        return refused
    form = surveys.form_class(survey).from_json(body, meta={"csrf": False})
    if not form.validate():
        return form_errors(form)
    try:
        with transactions.attempt():
            response = surveys.submit(_account(), survey_key, form.answers())
    except NotFound as missing:
        return error(404, str(missing))
    except ValidationError as refused_answer:
        return error(422, refused_answer.message)
    return (
        jsonify(
            {
                "id": response.id,
                "created_at": response.created_at.isoformat(),
                "message": _("Thank you: your answers reached your adviser."),
            }
        ),
        201,
    )
