"""Journeys in the staff panel: admins make a journey with its steps and each step's questions
or slots through the real forms (CSRF included), bad addresses and sites are refused with a
clear message and nothing saved; the journey's page shows the address, the snippets and the
funnel; staff list and open the visitors' sessions (filters, "My journey sessions", the
record's Journeys tab); admins keep teams; agents cannot open the admin pages."""

from __future__ import annotations

import html
import itertools
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from app.services.journeys import definitions
from models import (
    Document,
    DocumentKind,
    Journey,
    JourneyField,
    JourneyMilestone,
    JourneySession,
    JourneyStep,
    JourneyUpload,
    MessageTemplate,
    SessionStatus,
    SignTemplate,
    StepKind,
    Team,
    User,
    db,
    utcnow,
)
from tests import factories

_n = itertools.count(1)


def layout(roles: list[str] | None = None, name: str | None = None) -> int:
    """A saved e-sign layout (its PDF is never opened here)."""
    n = next(_n)
    template = SignTemplate(
        name=name or f"Policy form {n}",
        title="Policy form",
        storage_key=f"layout-{n}-{'x' * 20}",
        filename="form.pdf",
        sha256="0" * 64,
        pages=[{"width": 595, "height": 842}],
        signer_roles=roles or ["primary"],
        fields=[],
    )
    db.session.add(template)
    db.session.commit()
    return template.id


def journey_form(user_id: int, **changes: Any) -> dict[str, Any]:
    data = {
        "name": "Renew your policy",
        "slug": "renew-your-policy",
        "active": "y",
        "assigned_user": str(user_id),
        "pin_minutes": "15",
        "pin_attempts": "4",
        "opening_html": "<p>Hello <b>there</b></p><script>alert(1)</script>",
        "closing_html": "<p>Thank you!</p>",
        "send_copy": "y",
        "redirect_url": "",
        "embed_origins": "https://www.agency.example/\nhttps://agency.example:8443",
        "resume_days": "7",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def steps_form(sign_template_id: int) -> dict[str, str]:
    rows = [
        ("1", "form", "About you", ""),
        ("2", "upload", "Your licence", ""),
        ("3", "sign", "Sign the renewal", str(sign_template_id)),
        ("4", "review", "Check and send", ""),
    ]
    data = {}
    for n, (position, kind, title, template) in enumerate(rows):
        data.update(
            {
                f"steps-{n}-position": position,
                f"steps-{n}-kind": kind,
                f"steps-{n}-title": title,
                f"steps-{n}-intro": f"Intro of {title}.",
                f"steps-{n}-sign_template": template,
            }
        )
    return data


def _journey(slug: str = "renew-your-policy") -> Journey | None:
    return db.session.scalar(select(Journey).where(Journey.slug == slug))


def _count(model: Any) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_admins_make_a_journey_with_steps_questions_and_slots(app, admin_client, admin_user):
    with app.app_context():
        template_id = layout()
    assert admin_client.get("/admin/journey/").status_code == 200
    page = admin_client.get("/admin/journey/new/").get_data(as_text=True)
    assert "Sites allowed to embed it" in page and "Add Step" in page
    response = admin_client.submit(
        "/admin/journey/new/",
        {**journey_form(admin_user.id), **steps_form(template_id)},
        follow_redirects=True,
    )
    assert response.status_code == 200
    assert "Journey created." in response.get_data(as_text=True)
    with app.app_context():
        journey = _journey()
        assert journey is not None and journey.assigned_user_id == admin_user.id
        assert journey.opening_html == "<p>Hello <b>there</b></p>"
        assert journey.embed_origins == "https://www.agency.example\nhttps://agency.example:8443"
        assert [(s.kind, s.title) for s in journey.steps] == [
            (StepKind.FORM, "About you"),
            (StepKind.UPLOAD, "Your licence"),
            (StepKind.SIGN, "Sign the renewal"),
            (StepKind.REVIEW, "Check and send"),
        ]
        assert journey.steps[2].sign_template_id == template_id
        assert journey.steps[0].sign_template_id is None
        journey_id, version = journey.id, journey.version
        form_step, upload_step = journey.steps[0].id, journey.steps[1].id

    # The form step's questions, through its page's inline rows.
    page = admin_client.get(f"/admin/journey_steps/edit/?id={form_step}").get_data(as_text=True)
    assert "Renew your policy" in page and "Add Field" in page
    response = admin_client.submit(
        f"/admin/journey_steps/edit/?id={form_step}",
        {
            "position": "1",
            "kind": "form",
            "title": "About you",
            "intro": "Tell us about you.",
            "fields-0-label": "Date of birth",
            "fields-0-help_text": "As on your licence.",
            "fields-0-field_type": "date",
            "fields-0-required": "y",
            "fields-0-position": "1",
            "fields-1-label": "Vehicle use",
            "fields-1-field_type": "choice",
            "fields-1-options": "Commute\nPleasure\n\nBusiness",
            "fields-1-position": "2",
        },
        follow_redirects=True,
    )
    assert "Step saved." in response.get_data(as_text=True)
    # The upload step's slots.
    response = admin_client.submit(
        f"/admin/journey_steps/edit/?id={upload_step}",
        {
            "position": "2",
            "kind": "upload",
            "title": "Your licence",
            "fields-0-label": "Front of driver's licence",
            "fields-0-field_type": "file",
            "fields-0-required": "y",
            "fields-0-position": "1",
            "fields-1-label": "Back of driver's licence",
            "fields-1-field_type": "file",
            "fields-1-position": "2",
        },
        follow_redirects=True,
    )
    assert "Step saved." in response.get_data(as_text=True)
    with app.app_context():
        questions = db.session.scalars(
            select(JourneyField).where(JourneyField.step_id == form_step).order_by("position")
        ).all()
        assert [(q.label, q.field_type, q.required) for q in questions] == [
            ("Date of birth", "date", True),
            ("Vehicle use", "choice", False),
        ]
        assert questions[1].settings == {"options": ["Commute", "Pleasure", "Business"]}
        slots = db.session.scalars(
            select(JourneyField).where(JourneyField.step_id == upload_step).order_by("position")
        ).all()
        assert [(s.label, s.field_type, s.required) for s in slots] == [
            ("Front of driver's licence", "file", True),
            ("Back of driver's licence", "file", False),
        ]
        assert db.session.get(Journey, journey_id).version > version
        snapshot = definitions.snapshot(db.session.get(Journey, journey_id))
        assert [len(s["fields"]) for s in snapshot["steps"]] == [2, 2, 0, 0]
    # The saved options show one per line on the step's page.
    page = admin_client.get(f"/admin/journey_steps/edit/?id={form_step}").get_data(as_text=True)
    assert "Commute\nPleasure\nBusiness</textarea>" in page
    # The journey's page lists the steps with a link to each one's questions or slots.
    page = admin_client.get(f"/admin/journey/details/?id={journey_id}").get_data(as_text=True)
    assert "Date of birth, Vehicle use" in page and "Front of driver&#39;s licence" in page
    assert f"/admin/journey_steps/edit/?id={form_step}" in page


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"slug": "Renew Now!"}, "The address needs 3 to 60 lower-case letters"),
        ({"slug": "admin"}, "kept for the app"),
        ({"redirect_url": "https://evil.example/thanks"}, "on a host this office allows"),
        ({"embed_origins": "http://www.agency.example"}, "must use https to embed"),
        ({"embed_origins": "https://*.agency.example"}, "is not a site address"),
        ({"pin_attempts": "50"}, "PIN attempts must be between 1 and 20."),
    ],
)
def test_bad_journey_input_is_refused_and_nothing_is_saved(
    app, admin_client, admin_user, changes, message
):
    with app.app_context():
        template_id = layout()
    response = admin_client.submit(
        "/admin/journey/new/",
        {**journey_form(admin_user.id, **changes), **steps_form(template_id)},
        follow_redirects=True,
    )
    assert response.status_code == 200
    assert message in html.unescape(response.get_data(as_text=True))
    with app.app_context():
        assert _count(Journey) == 0 and _count(JourneyStep) == 0


def test_a_redirect_host_on_the_allow_list_is_kept(app, admin_client, admin_user, monkeypatch):
    monkeypatch.setitem(app.config, "PORTICO_JOURNEY_REDIRECT_HOSTS", ["www.agency.example"])
    response = admin_client.submit(
        "/admin/journey/new/",
        journey_form(admin_user.id, redirect_url="https://www.agency.example/thanks"),
        follow_redirects=True,
    )
    assert "Journey created." in response.get_data(as_text=True)
    with app.app_context():
        assert _journey().redirect_url == "https://www.agency.example/thanks"


def test_bad_steps_and_fields_are_refused_under_their_row(app, admin_client, admin_user):
    with app.app_context():
        two_signers = layout(["primary", "co_applicant"], name="Joint form")
    # A layout with two signers is not offered; posted anyway, it is refused.
    assert "Joint form" not in admin_client.get("/admin/journey/new/").get_data(as_text=True)
    data = {**journey_form(admin_user.id), **steps_form(two_signers)}
    response = admin_client.submit("/admin/journey/new/", data, follow_redirects=True)
    page = html.unescape(response.get_data(as_text=True))
    row = page.split('id="steps-2-sign_template"')[1].split("</div>")[0]
    assert "Choose the saved e-sign layout to sign." in row  # under the step's own field
    with app.app_context():
        assert _count(Journey) == 0 and _count(JourneyStep) == 0
        template_id = layout()
    response = admin_client.submit(
        "/admin/journey/new/",
        {**journey_form(admin_user.id), **steps_form(template_id)},
        follow_redirects=True,
    )
    assert "Journey created." in response.get_data(as_text=True)
    with app.app_context():
        journey = _journey()
        form_step, review_step = journey.steps[0].id, journey.steps[3].id
        version = journey.version
    # A choice with one option, an upload slot on a form step, a question on a review step.
    for step_id, kind, row, message in (
        (form_step, "form", {"field_type": "choice", "options": "Only"}, "at least two options"),
        (form_step, "form", {"field_type": "file"}, "Choose one of the question types"),
        (review_step, "review", {"field_type": "text"}, "Only form and upload steps"),
    ):
        response = admin_client.submit(
            f"/admin/journey_steps/edit/?id={step_id}",
            {
                "position": "1",
                "kind": kind,
                "title": "A step",
                "fields-0-label": "Vehicle use",
                "fields-0-position": "1",
                **{f"fields-0-{k}": v for k, v in row.items()},
            },
            follow_redirects=True,
        )
        assert message in html.unescape(response.get_data(as_text=True)), message
    with app.app_context():
        assert _count(JourneyField) == 0
        assert db.session.get(Journey, journey.id).version == version
        assert db.session.get(Journey, journey.id).steps[0].title == "About you"


def test_agents_cannot_open_the_admin_pages(app, agent_client, admin_user):
    with app.app_context():
        journey = make_journey(admin_user)
    for path in (
        "/admin/journey/",
        "/admin/journey/new/",
        f"/admin/journey/details/?id={journey['id']}",
        f"/admin/journey/edit/?id={journey['id']}",
        "/admin/journey_steps/",
        f"/admin/journey_steps/edit/?id={journey['steps'][0]}",
        "/admin/team/",
        "/admin/team/new/",
    ):
        assert agent_client.get(path).status_code == 403, path
    response = agent_client.post("/admin/journey/new/", data={"name": "x"})
    assert response.status_code in (400, 403)  # no CSRF token, no role: refused either way
    assert agent_client.get("/admin/journey_sessions/").status_code == 200
    assert agent_client.get("/admin/my_journey_sessions/").status_code == 200


# -- sessions -----------------------------------------------------------------------------


def make_journey(user: User, slug: str = "report-a-claim") -> dict[str, Any]:
    """A journey with a form step (one question), an upload step (one slot) and a review."""
    journey = Journey(name=f"Journey {slug}", slug=slug, assigned_user_id=user.id)
    form = JourneyStep(position=1, kind=StepKind.FORM, title="The claim")
    form.fields = [JourneyField(label="What happened?", field_type="long_text", position=1)]
    upload = JourneyStep(position=2, kind=StepKind.UPLOAD, title="Photos")
    upload.fields = [JourneyField(label="Photo of the damage", field_type="file", required=True)]
    journey.steps = [form, upload, JourneyStep(position=3, kind=StepKind.REVIEW, title="Check")]
    db.session.add(journey)
    db.session.commit()
    return {
        "id": journey.id,
        "steps": [s.id for s in journey.steps],
        "question": form.fields[0].id,
        "slot": upload.fields[0].id,
    }


def make_session(journey_id: int, name: str, **values: Any) -> JourneySession:
    journey = db.session.get(Journey, journey_id)
    n = next(_n)
    session = JourneySession(
        journey=journey,
        public_id=f"public-{n}-{'x' * 10}",
        version=journey.version,
        definition=definitions.snapshot(journey),
        name=name,
        email=f"visitor{n}@example.com",
        ip="203.0.113.9",
        user_agent="Mozilla/5.0 (iPhone)",
        trail=[{"at": "2026-03-01T14:05:00+00:00", "what": "PIN verified", "ip": "203.0.113.9"}],
        **values,
    )
    db.session.add(session)
    db.session.flush()
    return session


@pytest.fixture
def sessions(app, admin_user, agent_user) -> dict[str, Any]:
    with app.app_context():
        mine = make_journey(agent_user, "report-a-claim")
        theirs = make_journey(admin_user, "update-drivers")
        record = factories.record(first_name="Vera", last_name="Visitor")
        done = make_session(
            mine["id"],
            "Vera Visitor",
            status=SessionStatus.COMPLETED,
            step_index=3,
            record_id=record.id,
            verified_at=utcnow(),
            completed_at=utcnow(),
            answers={"0": {str(mine["question"]): "A tree fell on the garage."}},
        )
        photo = Document(
            record_id=record.id,
            kind=DocumentKind.LINK,
            url="https://example.com/photo",
            title="Damage photo",
        )
        db.session.add(photo)
        db.session.flush()
        db.session.add(
            JourneyUpload(
                session=done,
                step_index=1,
                slot_id=mine["slot"],
                label="Photo of the damage",
                document_id=photo.id,
                filename="garage.jpg",
                size=2048,
                sha256="ab" * 32,
            )
        )
        left = make_session(
            mine["id"],
            "Lou Leaver",
            status=SessionStatus.ABANDONED,
            step_index=1,
            abandoned_at=utcnow(),
            started_at=utcnow() - timedelta(days=2),
        )
        other = make_session(theirs["id"], "Otto Other", status=SessionStatus.STARTED)
        for session, stages in (
            (done, ["started", "verified", "step:0", "step:1", "step:2", "completed"]),
            (left, ["started", "verified", "abandoned"]),
            (other, ["started"]),
        ):
            for stage in stages:
                db.session.add(
                    JourneyMilestone(
                        journey_id=session.journey_id, session_id=session.id, stage=stage
                    )
                )
        db.session.commit()
        return {
            "mine": mine,
            "theirs": theirs,
            "record": record.id,
            "done": done.id,
            "left": left.id,
            "other": other.id,
            "photo": photo.id,
        }


def _listed(client: Any, path: str) -> set[str]:
    page = client.get(path).get_data(as_text=True)
    return {name for name in ("Vera Visitor", "Lou Leaver", "Otto Other") if name in page}


def test_staff_list_sessions_with_filters_and_their_own_history(agent_client, sessions):
    everyone = {"Vera Visitor", "Lou Leaver", "Otto Other"}
    assert _listed(agent_client, "/admin/journey_sessions/") == everyone
    mine = sessions["mine"]["id"]
    assert _listed(agent_client, f"/admin/journey_sessions/?flt0_journey_is={mine}") == {
        "Vera Visitor",
        "Lou Leaver",
    }
    assert _listed(agent_client, "/admin/journey_sessions/?flt0_status_is=abandoned") == {
        "Lou Leaver"
    }
    # Unknown values are refused by the filter, not sent to the database.
    assert agent_client.get("/admin/journey_sessions/?flt0_status_is=gone").status_code == 200
    assert _listed(agent_client, "/admin/my_journey_sessions/") == {"Vera Visitor", "Lou Leaver"}
    page = agent_client.get("/admin/journey_sessions/").get_data(as_text=True)
    assert "Ari Agent" in page and "Bea Boss" in page  # whose history each joins
    assert "All 3 done" in page and "Step 2 of 3" in page


def test_assigned_to_and_day_filters(admin_client, sessions, agent_user):
    path = f"/admin/journey_sessions/?flt0_assigned_to_is={agent_user.id}"
    assert _listed(admin_client, path) == {"Vera Visitor", "Lou Leaver"}
    assert _listed(admin_client, "/admin/my_journey_sessions/") == {"Otto Other"}
    today = utcnow().date().isoformat()
    path = f"/admin/journey_sessions/?flt0_started_between={today}+to+{today}"
    assert "Lou Leaver" not in _listed(admin_client, path)


def test_a_session_page_shows_the_visitor_answers_uploads_and_trail(agent_client, sessions):
    page = agent_client.get(f"/admin/journey_sessions/details/?id={sessions['done']}")
    assert page.status_code == 200
    text = html.unescape(page.get_data(as_text=True))
    assert "Vera Visitor" in text and "203.0.113.9" in text and "Mozilla/5.0 (iPhone)" in text
    assert f"/admin/record/details/?id={sessions['record']}" in text
    assert "What happened?" in text and "A tree fell on the garage." in text
    assert f"/admin/document/{sessions['photo']}/view/" in text and "garage.jpg" in text
    assert "ab" * 32 in text
    assert "PIN verified" in text and "2026-03-01 09:05:00" in text  # office time (New York)
    # An agent reads the journey's name without a link to its admin page.
    assert "/admin/journey/details/" not in text
    assert agent_client.get("/admin/journey_sessions/details/?id=99999").status_code == 302


def test_the_record_page_lists_the_records_sessions(agent_client, sessions):
    page = agent_client.get(f"/admin/record/details/?id={sessions['record']}")
    text = page.get_data(as_text=True)
    assert "pt-record-journeys" in text
    assert f"/admin/journey_sessions/details/?id={sessions['done']}" in text


def test_the_journey_page_shows_the_snippets_and_the_funnel(app, admin_client, sessions):
    page = admin_client.get(f"/admin/journey/details/?id={sessions['mine']['id']}")
    text = page.get_data(as_text=True)
    address = "http://portico.test/f/report-a-claim"
    assert address in text
    shown = html.unescape(text)  # the snippets are text in a box, escaped
    assert f'<iframe src="{address}" title="Journey report-a-claim"' in shown
    assert f'<a href="{address}" target="_blank" rel="noopener"' in shown
    assert text.count("data-pt-copy=") == 3
    # The funnel: stages as columns, the window's totals first.
    totals = text.split('id="pt-funnel-totals"')[1].split("</tr>")[0]
    assert [cell.split(">")[1].split("<")[0] for cell in totals.split("<td")[2:]] == [
        "2",  # started
        "2",  # verified
        "1",  # step 1
        "1",  # step 2
        "1",  # step 3
        "1",  # completed
        "1",  # abandoned
    ]
    assert "Step 1: The claim" in text and "Abandoned" in text
    assert f"/admin/journey_sessions/?flt0_journey_is={sessions['mine']['id']}" in text


# -- teams --------------------------------------------------------------------------------


def test_admins_keep_teams_with_their_completion_email(app, admin_client, agent_user):
    with app.app_context():
        db.session.add(
            MessageTemplate(
                key="team.thanks", channel="email", name="Team thanks", subject="Hi", body="Hi"
            )
        )
        db.session.commit()
    page = admin_client.get("/admin/team/new/").get_data(as_text=True)
    assert "Team thanks (team.thanks)" in page and "The office&#39;s default" in page
    # Another message's own template (the PIN's, seeded) is no completion email: not offered.
    assert "(journey.pin)" not in page and "(journey.completed)" in page
    response = admin_client.submit(
        "/admin/team/new/",
        {
            "name": "  North   office ",
            "members": [str(agent_user.id)],
            "completion_template_key": "team.thanks",
        },
        follow_redirects=True,
    )
    assert "Team created." in response.get_data(as_text=True)
    with app.app_context():
        team = db.session.scalar(select(Team))
        assert team.name == "North office" and team.completion_template_key == "team.thanks"
        assert [m.id for m in team.members] == [agent_user.id]
        team_id = team.id
    for key, message in (
        ("nope.nothing", "no template with the key"),
        ("portal.link", "another message"),
    ):
        response = admin_client.submit(
            f"/admin/team/edit/?id={team_id}",
            {"name": "North office", "completion_template_key": key},
            follow_redirects=True,
        )
        assert message in html.unescape(response.get_data(as_text=True)), key
    response = admin_client.submit(
        f"/admin/team/edit/?id={team_id}",
        {"name": "North office", "completion_template_key": ""},
        follow_redirects=True,
    )
    assert "Team saved." in response.get_data(as_text=True)
    with app.app_context():
        team = db.session.get(Team, team_id)
        assert team.completion_template_key is None and team.members == []


def test_removing_a_step_or_a_question_changes_the_version(app, admin_client, admin_user):
    with app.app_context():
        journey = make_journey(admin_user, "remove-things")
        version = db.session.get(Journey, journey["id"]).version
    form_step = journey["steps"][0]
    response = admin_client.submit(
        f"/admin/journey_steps/edit/?id={form_step}",
        {
            "position": "1",
            "kind": "form",
            "title": "The claim",
            "fields-0-id": str(journey["question"]),
            "fields-0-label": "What happened?",
            "fields-0-field_type": "long_text",
            "fields-0-position": "1",
            "del-fields-0": "on",
        },
        follow_redirects=True,
    )
    assert "Step saved." in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(JourneyField, journey["question"]) is None
        assert db.session.get(Journey, journey["id"]).version == version + 1
    steps = {}
    for n, (step_id, kind, title) in enumerate(
        zip(
            journey["steps"],
            ("form", "upload", "review"),
            ("The claim", "Photos", "Check"),
            strict=True,
        )
    ):
        steps.update(
            {
                f"steps-{n}-id": str(step_id),
                f"steps-{n}-position": str(n + 1),
                f"steps-{n}-kind": kind,
                f"steps-{n}-title": title,
            }
        )
    journey_fields = journey_form(admin_user.id, name="Journey remove-things", slug="remove-things")
    response = admin_client.submit(
        f"/admin/journey/edit/?id={journey['id']}",
        {**journey_fields, "embed_origins": "", **steps, "del-steps-2": "on"},
        follow_redirects=True,
    )
    assert "Journey saved." in response.get_data(as_text=True)
    with app.app_context():
        saved = db.session.get(Journey, journey["id"])
        assert [s.title for s in saved.steps] == ["The claim", "Photos"]
        assert saved.version > version + 1


def test_a_staff_user_joins_a_team_from_their_form(app, admin_client, agent_user):
    with app.app_context():
        team = Team(name="South office")
        db.session.add(team)
        db.session.commit()
        team_id = team.id
    page = admin_client.get(f"/admin/staff_user/edit/?id={agent_user.id}").get_data(as_text=True)
    assert "South office" in page
    response = admin_client.submit(
        f"/admin/staff_user/edit/?id={agent_user.id}",
        {
            "email": agent_user.email,
            "first_name": "Ari",
            "last_name": "Agent",
            "active": "y",
            "role": "agent",
            "team": str(team_id),
        },
        follow_redirects=True,
    )
    assert response.status_code == 200
    with app.app_context():
        assert db.session.get(User, agent_user.id).team_id == team_id


def test_session_lists_cost_the_same_for_3_or_30_sessions(
    app, admin_client, sessions, count_queries
):
    counts = []
    for extra in (0, 27):
        with app.app_context():
            for n in range(extra):
                make_session(sessions["theirs"]["id"], f"Extra {n}", record_id=sessions["record"])
            db.session.commit()
        with count_queries() as counter:
            assert admin_client.get("/admin/journey_sessions/?page_size=100").status_code == 200
        counts.append(counter.count)
    assert counts[0] == counts[1], counts
