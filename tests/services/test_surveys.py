"""Surveys: the form built from the admins' questions (required and bad values refused,
archived questions gone from it but kept in old answers), submitting (clients only, the
event with the answers), the household rule, and the summary's figures."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from app.services import portal_accounts, surveys
from app.services.errors import NotFound, ValidationError
from models import (
    AccountStatus,
    ActivityEntry,
    Contact,
    ContactRole,
    OutboxMessage,
    PortalAccount,
    RecordKind,
    Survey,
    SurveyQuestion,
    db,
)
from tests import factories


def _client(email: str = "sue@example.com", **values: Any):
    agent = factories.staff(email=f"agent.{email}")
    record = factories.record(
        first_name="Sue", last_name="Surveyed", email=email, assigned_agent_id=agent.id, **values
    )
    portal_accounts.enable_self_service(record, agent)
    db.session.flush()
    account = db.session.scalar(
        select(PortalAccount).where(
            PortalAccount.record_id == record.id, PortalAccount.contact_id.is_(None)
        )
    )
    return record, agent, account


def _survey(key: str = "feedback") -> Survey:
    return db.session.scalar(select(Survey).where(Survey.key == key))


def _question(survey: Survey, label: str) -> SurveyQuestion:
    return next(q for q in survey.questions if q.label == label)


def _form(app: Any, survey: Survey, data: dict[str, str]) -> Any:
    with app.test_request_context():
        form = surveys.form_class(survey)(formdata=MultiDict(data), meta={"csrf": False})
        valid = form.validate()
        return valid, form


EASE = "How easy is it to work with us?"
BETTER = "What could we do better?"


def test_the_form_is_built_from_the_active_questions(app, ctx):
    survey = _survey()
    ease, better = _question(survey, EASE), _question(survey, BETTER)
    valid, form = _form(app, survey, {})
    assert not valid
    assert form.errors.keys() == {f"q{ease.id}"}  # required choice missing
    valid, form = _form(app, survey, {f"q{ease.id}": "Not an option"})
    assert not valid and f"q{ease.id}" in form.errors
    valid, form = _form(app, survey, {f"q{ease.id}": "Easy", f"q{better.id}": "a\x00b"})
    assert not valid and f"q{better.id}" in form.errors  # control characters refused
    valid, form = _form(app, survey, {f"q{ease.id}": "Easy", f"q{better.id}": "Call\r\nsooner"})
    assert valid
    assert form.answers() == {str(ease.id): "Easy", str(better.id): "Call\nsooner"}

    number = SurveyQuestion(
        survey_id=survey.id, label="Years with us", field_type="number", position=5
    )
    surveys.check_question(number, {"min": "0", "max": "80"})
    db.session.add(number)
    db.session.flush()
    valid, form = _form(app, survey, {f"q{ease.id}": "Easy", f"q{number.id}": "120"})
    assert not valid and f"q{number.id}" in form.errors
    valid, form = _form(app, survey, {f"q{ease.id}": "Easy", f"q{number.id}": "abc"})
    assert not valid
    valid, form = _form(app, survey, {f"q{ease.id}": "Easy", f"q{number.id}": "7"})
    assert valid and form.answers()[str(number.id)] == 7


def test_question_settings_are_checked_by_the_field_type(ctx):
    survey = _survey()
    with pytest.raises(ValidationError, match="two options"):
        surveys.check_question(
            SurveyQuestion(survey_id=survey.id, label="Pick", field_type="choice"),
            {"options": "only one"},
        )
    with pytest.raises(ValidationError, match="question types"):
        surveys.check_question(
            SurveyQuestion(survey_id=survey.id, label="Phone", field_type="phone"), {}
        )


def test_submit_keeps_the_answers_and_emits_the_event(app, ctx):
    record, _agent, account = _client()
    survey = _survey()
    ease, better = _question(survey, EASE), _question(survey, BETTER)
    response = surveys.submit(account, "feedback", {str(ease.id): "Easy", str(better.id): "More"})
    assert response.record_id == record.id and response.account_id == account.id
    entry = db.session.scalar(
        select(ActivityEntry).where(ActivityEntry.event_key == "portal.feedback")
    )
    assert entry.record_id == record.id and "sent feedback" in entry.summary
    assert entry.details["message"] == f"{EASE}: Easy\n{BETTER}: More"
    [message] = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.event_key == "portal.feedback")
    )
    assert message.recipient == "agent.sue@example.com"

    with pytest.raises(ValidationError, match="no such question"):
        surveys.submit(account, "feedback", {"999999": "x"})
    with pytest.raises(NotFound):
        surveys.submit(account, "nonsense", {str(ease.id): "Easy"})
    survey.active = False
    with pytest.raises(NotFound):
        surveys.submit(account, "feedback", {str(ease.id): "Easy"})


def test_a_lead_cannot_answer(ctx):
    _record, _agent, account = _client(kind=RecordKind.LEAD)
    ease = _question(_survey(), EASE)
    with pytest.raises(NotFound):
        surveys.submit(account, "feedback", {str(ease.id): "Easy"})


def test_archived_questions_leave_the_form_but_stay_in_old_answers(app, ctx):
    _record, _agent, account = _client()
    survey = _survey()
    ease, better = _question(survey, EASE), _question(survey, BETTER)
    surveys.submit(account, "feedback", {str(ease.id): "Hard", str(better.id): "Faster"})
    better.archived = True
    db.session.flush()
    assert [q.id for q in surveys.active_questions(survey)] == [ease.id]
    _valid, form = _form(app, survey, {})
    assert f"q{better.id}" not in form._fields
    with pytest.raises(ValidationError, match="no such question"):
        surveys.submit(account, "feedback", {str(better.id): "Again"})
    figures = {f.question.id: f for f in surveys.summary(survey)}
    assert figures[better.id].count == 1  # the old answer is still counted


def test_a_co_applicants_answer_emails_the_primary_applicant(ctx):
    record, _agent, primary = _client()
    contact = Contact(
        record_id=record.id,
        role=ContactRole.CO_APPLICANT,
        first_name="Cal",
        last_name="Surveyed",
        email="cal@example.com",
    )
    db.session.add(contact)
    db.session.flush()
    co = PortalAccount(
        record_id=record.id,
        contact_id=contact.id,
        status=AccountStatus.ENABLED,
        email="cal@example.com",
    )
    db.session.add(co)
    db.session.flush()
    claim = _survey("claim_survey")
    happy = _question(claim, "How satisfied were you with how your claim was handled?")

    def recipients() -> list[str]:
        rows = db.session.scalars(
            select(OutboxMessage).where(OutboxMessage.event_key == "portal.claim_survey")
        )
        return sorted(message.recipient for message in rows)

    surveys.submit(primary, "claim_survey", {str(happy.id): "5"})
    assert recipients() == ["agent.sue@example.com"]
    surveys.submit(co, "claim_survey", {str(happy.id): "4"})
    assert recipients() == [
        "agent.sue@example.com",
        "agent.sue@example.com",
        "sue@example.com",
    ]


def test_summary_counts_distributions_and_averages(ctx):
    _record, _agent, account = _client()
    claim = _survey("claim_survey")
    happy = _question(claim, "How satisfied were you with how your claim was handled?")
    recommend = _question(claim, "Would you recommend us?")
    years = SurveyQuestion(survey_id=claim.id, label="Years", field_type="number", position=9)
    db.session.add(years)
    db.session.flush()
    for rating, yes, count in (("5", True, 2), ("4", False, 5), ("5", True, None)):
        answers: dict[str, Any] = {str(happy.id): rating, str(recommend.id): yes}
        if count is not None:
            answers[str(years.id)] = count
        surveys.submit(account, "claim_survey", answers)
    figures = {f.question.id: f for f in surveys.summary(claim)}
    assert figures[happy.id].count == 3
    assert figures[happy.id].distribution == {"1": 0, "2": 0, "3": 0, "4": 1, "5": 2}
    assert figures[recommend.id].distribution == {"Yes": 2, "No": 1}
    assert figures[years.id].count == 2 and figures[years.id].average == 3.5
    assert figures[_question(claim, "Anything else?").id].count == 0
