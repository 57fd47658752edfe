"""Surveys through the screens: a client answers Feedback with a real form (the agent is
emailed the answers), a co-applicant's answer reaches the primary applicant, a lead finds no
survey (404), admins change the questions and the portal follows on its next load while
agents cannot, the JSON API, the rate limit, and staff's answers and summary pages."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from models import (
    Record,
    RecordKind,
    Survey,
    SurveyQuestion,
    SurveyResponse,
    db,
)
from tests.conftest import body_of, run_jobs
from tests.views import test_portal_details as details

cora = details.cora
signed_in = details.signed_in
api_token = details.api_token

EASE = "How easy is it to work with us?"
BETTER = "What could we do better?"
THANKS = "Thank you: your answers reached your adviser."


def ids(app: Any, key: str = "feedback") -> dict[str, int]:
    with app.app_context():
        survey = db.session.scalar(select(Survey).where(Survey.key == key))
        return {"survey": survey.id, **{q.label: q.id for q in survey.questions}}


def responses(app: Any) -> list[dict[str, Any]]:
    with app.app_context():
        return [r.answers for r in db.session.scalars(select(SurveyResponse))]


def answer_feedback(client: Any, app: Any, **kwargs: Any) -> Any:
    q = ids(app)
    return client.submit(
        "/portal/feedback",
        {f"q{q[EASE]}": "Easy", f"q{q[BETTER]}": "Answer the phone sooner."},
        **kwargs,
    )


def test_a_client_answers_and_the_agent_is_emailed(app, signed_in, cora, mailbox, admin_client):
    page = signed_in.get("/portal/feedback").get_data(as_text=True)
    assert EASE in page and BETTER in page and "Very hard" in page
    assert 'href="/portal/claim-survey"' in page  # each survey links to the other
    run_jobs(app)  # the portal link and password sent before
    mailbox.clear()
    response = answer_feedback(signed_in, app, follow_redirects=True)
    assert THANKS in response.get_data(as_text=True)
    q = ids(app)
    assert responses(app) == [{str(q[EASE]): "Easy", str(q[BETTER]): "Answer the phone sooner."}]

    run_jobs(app)
    [email] = mailbox.to("sid.staff@example.com")
    body = body_of(email)
    assert f"{EASE}: Easy" in body and f"{BETTER}: Answer the phone sooner." in body
    assert mailbox.to("cora@example.com") == []  # the primary's own answer: no household email

    # Staff: the record's activity, the answers filtered by record, and the summary.
    activity = admin_client.get(f"/admin/activity/?flt0_record_is={cora['record_id']}")
    assert "sent feedback" in activity.get_data(as_text=True)
    listing = admin_client.get(f"/admin/survey_response/?flt0_record_is={cora['record_id']}")
    text = listing.get_data(as_text=True)
    assert "Answer the phone sooner." in text and "Cora Client" in text
    summary = admin_client.get(f"/admin/survey_response/summary/{q['survey']}/")
    text = summary.get_data(as_text=True)
    assert summary.status_code == 200 and "1 answer" in text and "Easy" in text


def test_required_and_bad_answers_are_refused(app, signed_in):
    q = ids(app)
    response = signed_in.submit("/portal/feedback", {f"q{q[BETTER]}": "Only this."})
    assert response.status_code == 422 and "This field is required." in response.get_data(
        as_text=True
    )
    response = signed_in.submit("/portal/feedback", {f"q{q[EASE]}": "Brilliant"})
    assert response.status_code == 422
    response = signed_in.post("/portal/feedback", data={f"q{q[EASE]}": "Easy"})
    assert response.status_code == 400  # no CSRF token
    assert responses(app) == []


def test_a_co_applicants_answer_emails_the_primary_applicant(app, client, cora, mailbox):
    details.sign_in_co_applicant(app, client, cora, mailbox)
    q = ids(app, "claim_survey")
    happy = "How satisfied were you with how your claim was handled?"
    response = client.submit("/portal/claim-survey", {f"q{q[happy]}": "4"}, follow_redirects=True)
    assert THANKS in response.get_data(as_text=True)
    run_jobs(app)
    [primary] = mailbox.to("cora@example.com")
    assert "Carl Partner" in primary["Subject"]
    assert f"{happy}: 4" in body_of(primary)
    agent = [m["Subject"] for m in mailbox.to("sid.staff@example.com")]
    assert sum("Claim experience survey" in subject for subject in agent) == 1, agent


def test_a_leads_account_finds_no_survey(app, signed_in, cora):
    with app.app_context():
        db.session.get(Record, cora["record_id"]).kind = RecordKind.LEAD
        db.session.commit()
    assert signed_in.get("/portal/feedback").status_code == 404
    assert signed_in.get("/portal/api/surveys/feedback").status_code == 404
    token = api_token(signed_in)
    q = ids(app)
    response = signed_in.post("/portal/feedback", data={f"q{q[EASE]}": "Easy", "csrf_token": token})
    assert response.status_code == 404
    assert responses(app) == []


def test_admins_edit_questions_and_the_portal_follows(app, admin_client, signed_in):
    q = ids(app)
    response = admin_client.submit(
        "/admin/survey_question/new/",
        {
            "survey": str(q["survey"]),
            "label": "How did you hear of us?",
            "help_text": "",
            "field_type": "choice",
            "options": "A friend\nThe web\nAn advert",
            "position": "5",
        },
        follow_redirects=True,
    )
    assert response.status_code == 200
    with app.app_context():
        added = db.session.scalar(
            select(SurveyQuestion).where(SurveyQuestion.label == "How did you hear of us?")
        )
        assert added.settings == {"options": ["A friend", "The web", "An advert"]}
        added_id = added.id
    page = signed_in.get("/portal/feedback").get_data(as_text=True)
    assert "How did you hear of us?" in page and "The web" in page

    # A choice with one option is refused with the type's message.
    response = admin_client.submit(
        f"/admin/survey_question/edit/?id={added_id}",
        {
            "survey": str(q["survey"]),
            "label": "How did you hear of us?",
            "field_type": "choice",
            "options": "Only one",
            "position": "5",
        },
    )
    assert "at least two options" in response.get_data(as_text=True)

    # Archived: gone from the portal on its next load.
    admin_client.submit(
        f"/admin/survey_question/edit/?id={added_id}",
        {
            "survey": str(q["survey"]),
            "label": "How did you hear of us?",
            "field_type": "choice",
            "options": "A friend\nThe web",
            "position": "5",
            "archived": "y",
        },
    )
    assert "How did you hear of us?" not in signed_in.get("/portal/feedback").get_data(as_text=True)

    # The survey switched off: no page.
    admin_client.submit(
        f"/admin/survey/edit/?id={q['survey']}",
        {"title": "Feedback", "intro": "Tell us."},
    )
    assert signed_in.get("/portal/feedback").status_code == 404


def test_agents_cannot_edit_questions_but_see_answers(app, agent_client):
    q = ids(app)
    assert agent_client.get("/admin/survey_question/").status_code == 403
    assert agent_client.get("/admin/survey/").status_code == 403
    response = agent_client.submit(
        f"/admin/survey_question/edit/?id={q[EASE]}",
        {"label": "Changed"},
        page="/admin/survey_response/",
    )
    assert response.status_code == 403
    assert agent_client.get("/admin/survey_response/").status_code == 200
    assert agent_client.get(f"/admin/survey_response/summary/{q['survey']}/").status_code == 200


def test_the_json_api(app, signed_in):
    described = signed_in.get("/portal/api/surveys/feedback").get_json()
    q = ids(app)
    [ease, better] = described["questions"]
    assert ease["name"] == f"q{q[EASE]}" and ease["required"] is True
    assert ease["schema"]["enum"][0] == "Very easy" and None not in ease["schema"]["enum"]
    assert better["type"] == "long_text"
    token = api_token(signed_in)
    headers = {"X-CSRFToken": token}

    response = signed_in.post("/portal/api/surveys/feedback", json={}, headers=headers)
    assert response.status_code == 422
    response = signed_in.post(
        "/portal/api/surveys/feedback", json={ease["name"]: "Nope"}, headers=headers
    )
    assert response.status_code == 422
    response = signed_in.post(
        "/portal/api/surveys/feedback", json={"q999999": "x", ease["name"]: "Easy"}, headers=headers
    )
    assert response.status_code in (400, 422)
    response = signed_in.post("/portal/api/surveys/feedback", data="nope", headers=headers)
    assert response.status_code == 400
    assert responses(app) == []

    response = signed_in.post(
        "/portal/api/surveys/feedback",
        json={ease["name"]: "Hard", better["name"]: "More evening hours."},
        headers=headers,
    )
    assert response.status_code == 201 and response.get_json()["message"] == THANKS
    assert responses(app) == [{str(q[EASE]): "Hard", str(q[BETTER]): "More evening hours."}]

    assert signed_in.get("/portal/api/surveys/nonsense").status_code == 404


def test_the_api_wants_a_signed_in_client(app, client):
    assert client.get("/portal/api/surveys/feedback").status_code == 401
    assert client.post("/portal/api/surveys/feedback", json={}).status_code in (400, 401)


def test_five_answers_an_hour_per_account(app, signed_in):
    for _ in range(5):
        assert answer_feedback(signed_in, app).status_code == 302
    assert answer_feedback(signed_in, app).status_code == 429
    assert len(responses(app)) == 5


def test_home_offers_the_surveys_that_are_on_to_clients(app, signed_in, cora):
    home = signed_in.get("/portal/home").get_data(as_text=True)
    assert 'href="/portal/feedback"' in home and 'href="/portal/claim-survey"' in home
    with app.app_context():
        claim = db.session.scalar(select(Survey).where(Survey.key == "claim_survey"))
        claim.active = False
        db.session.commit()
    home = signed_in.get("/portal/home").get_data(as_text=True)
    assert 'href="/portal/feedback"' in home and "/portal/claim-survey" not in home
    with app.app_context():
        db.session.get(Record, cora["record_id"]).kind = RecordKind.LEAD
        db.session.commit()
    assert "/portal/feedback" not in signed_in.get("/portal/home").get_data(as_text=True)
