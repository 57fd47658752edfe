"""Refer a friend, as a client does it: the page with its CSRF token, the JSON API, the mail
that reaches the agent (and the primary applicant, for a co-applicant), the limits, and what a
lead's account, a signed-out visitor and staff in the preview find."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from models import (
    ActivityEntry,
    Record,
    RecordKind,
    Task,
    db,
)
from tests import factories
from tests.conftest import body_of, run_jobs
from tests.views import test_portal_details as details

cora = details.cora
signed_in = details.signed_in
api_token = details.api_token

THANKS = "Thank you for your referral: we will take it from here."
FRAN = {
    "first_name": "Fran",
    "last_name": "Friend",
    "email": "fran@example.com",
    "phone": "(202) 555-0188",
    "note": "Turning 65 in March.",
}


def refer(client, **values):
    return client.submit("/portal/referral", {**FRAN, **values}, follow_redirects=True)


def api_refer(client, body, token=None):
    return client.post(
        "/portal/api/referral", json=body, headers={"X-CSRFToken": token or api_token(client)}
    )


def leads(app):
    with app.app_context():
        return [
            (r.full_name, r.email, r.phone, r.source, r.assigned_agent_id)
            for r in db.session.scalars(
                select(Record).where(Record.kind == RecordKind.LEAD).order_by(Record.id)
            )
        ]


def count(app, model, *where):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model).where(*where)) or 0


# -- the page -----------------------------------------------------------------------------------


def test_a_client_refers_a_friend_and_the_agent_hears_of_it(app, signed_in, cora, mailbox):
    page = signed_in.get("/portal/referral").get_data(as_text=True)
    assert "Refer a friend" in page and 'name="csrf_token"' in page
    home = signed_in.get("/portal/home").get_data(as_text=True)
    assert 'href="/portal/referral"' in home

    response = refer(signed_in)

    assert response.status_code == 200 and THANKS in response.get_data(as_text=True)
    assert leads(app) == [
        ("Fran Friend", "fran@example.com", "+12025550188", "Referral", cora["staff_id"])
    ]
    with app.app_context():
        lead = db.session.scalar(select(Record).where(Record.kind == RecordKind.LEAD))
        assert lead.notes == "Referred by Cora Client.\n\nTurning 65 in March."
        assert [tag.name for tag in lead.tags] == ["Referral"]
        [task] = db.session.scalars(select(Task).where(Task.record_id == cora["record_id"]))
        assert task.assignee_id == cora["staff_id"]
    run_jobs(app)
    [notice] = mailbox.to("sid.staff@example.com")
    assert notice["Subject"] == "Referral: Cora Client"
    assert "Cora Client referred someone: Fran Friend." in body_of(notice)
    assert mailbox.to("fran@example.com") == []


def test_staff_see_the_referral_on_both_records(app, signed_in, cora, agent_client):
    refer(signed_in)
    with app.app_context():
        lead_id = db.session.scalar(select(Record.id).where(Record.kind == RecordKind.LEAD))
    lead_page = agent_client.get(f"/admin/record/details/?id={lead_id}").get_data(as_text=True)
    assert "Referred by Cora Client." in lead_page
    assert "portal.referral.received" in lead_page and "Referral" in lead_page
    client_page = agent_client.get(f"/admin/record/details/?id={cora['record_id']}")
    assert "Cora Client referred someone: Fran Friend." in client_page.get_data(as_text=True)


def test_someone_known_is_thanked_the_same_and_not_added(app, signed_in, cora, mailbox):
    first = refer(signed_in).get_data(as_text=True)
    again = refer(signed_in, email="FRAN@example.com", phone="").get_data(as_text=True)
    own = refer(signed_in, email="cora@example.com", phone="").get_data(as_text=True)

    strip = lambda html: re.sub(r'name="csrf_token"[^>]*', "", html)  # noqa: E731
    assert strip(first) == strip(again) == strip(own)
    assert len(leads(app)) == 1
    with app.app_context():
        summaries = list(
            db.session.scalars(
                select(ActivityEntry.summary)
                .where(ActivityEntry.event_key == "portal.referral")
                .order_by(ActivityEntry.id)
            )
        )
    assert "already known: lead Fran Friend" in summaries[1]
    assert "already known: client Cora Client" in summaries[2]
    run_jobs(app)
    assert mailbox.to("fran@example.com") == []


def test_bad_values_show_on_the_page_and_make_nothing(app, signed_in):
    response = refer(signed_in, email="", phone="")
    html = response.get_data(as_text=True)
    assert "Give an email address or a phone number." in html and THANKS not in html
    html = refer(signed_in, email="not-an-email", phone="12").get_data(as_text=True)
    assert "Enter a valid email address" in html
    html = refer(signed_in, email="", phone="12").get_data(as_text=True)
    assert "wrong number of digits" in html
    html = refer(signed_in, last_name="Friend\r\nBcc: x@example.com").get_data(as_text=True)
    assert "one line" in html
    assert leads(app) == []


def test_without_the_csrf_token_nothing_is_made(app, signed_in):
    response = signed_in.post("/portal/referral", data=FRAN)
    assert response.status_code == 400 and leads(app) == []


def test_a_co_applicants_referral_emails_the_primary_applicant(app, client, cora, mailbox):
    details.sign_in_co_applicant(app, client, cora, mailbox)

    assert THANKS in refer(client).get_data(as_text=True)

    run_jobs(app)
    [primary] = mailbox.to("cora@example.com")
    assert "Carl Partner" in primary["Subject"] and "Referral" in primary["Subject"]
    agent = [m["Subject"] for m in mailbox.to("sid.staff@example.com")]
    assert agent.count("Referral: Cora Client") == 1
    assert mailbox.to("carl@example.com") == mailbox.to("fran@example.com") == []
    with app.app_context():
        notes = db.session.scalar(select(Record.notes).where(Record.kind == RecordKind.LEAD))
    assert notes.startswith("Referred by Carl Partner, for Cora Client.")


def test_a_primary_applicants_own_referral_does_not_email_them(app, signed_in, mailbox):
    refer(signed_in)
    run_jobs(app)
    subjects = [m["Subject"] for m in mailbox.to("cora@example.com")]
    assert subjects and not any("Referral" in subject for subject in subjects)


def test_a_leads_account_finds_no_referral(app, signed_in, cora):
    with app.app_context():
        db.session.get(Record, cora["record_id"]).kind = RecordKind.LEAD
        db.session.commit()
    assert signed_in.get("/portal/referral").status_code == 404
    home = signed_in.get("/portal/home").get_data(as_text=True)
    assert "/portal/referral" not in home and "Refer a friend" not in home
    token = api_token(signed_in)
    response = signed_in.post("/portal/referral", data={**FRAN, "csrf_token": token})
    assert response.status_code == 404
    response = api_refer(signed_in, FRAN, token)
    assert response.status_code == 404 and response.get_json()["error"]["code"] == 404
    assert count(app, Record, Record.first_name == "Fran") == 0


def test_the_navigation_offers_it_to_clients(signed_in):
    nav = signed_in.get("/portal/documents").get_data(as_text=True)
    assert re.search(r'<a href="/portal/referral"[^>]*>Refer a friend</a>', nav)


def test_signed_out_there_is_nothing_to_send(app, client):
    assert client.get("/portal/referral").headers["Location"].startswith("/portal/")
    response = client.post("/portal/api/referral", json=FRAN)
    assert response.status_code in (400, 401) and leads(app) == []


def test_staff_preview_shows_the_page_but_sends_nothing(app, agent_client, cora):
    page = agent_client.get(f"/portal/preview/{cora['record_id']}/referral")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Refer a friend" in html and 'name="first_name"' not in html
    response = agent_client.post(f"/portal/preview/{cora['record_id']}/referral", data=FRAN)
    assert response.status_code in (400, 403, 405) and leads(app) == []


# -- limits -------------------------------------------------------------------------------------


def test_referrals_are_limited_per_account_page_and_api_together(
    app, fresh_minute, signed_in, monkeypatch
):
    from portal import limits

    monkeypatch.setattr(limits, "REFERRAL_LIMIT", "2 per minute")
    for _ in range(3):  # a form sent back to fix does not use one up
        assert refer(signed_in, email="", phone="").status_code == 200
    assert THANKS in refer(signed_in).get_data(as_text=True)
    token = api_token(signed_in)
    assert (
        api_refer(signed_in, {**FRAN, "email": "g@example.com", "phone": ""}, token).status_code
        == 201
    )
    assert refer(signed_in, email="h@example.com", phone="").status_code == 429
    response = api_refer(signed_in, {**FRAN, "email": "i@example.com", "phone": ""}, token)
    assert response.status_code == 429 and response.get_json()["error"]["code"] == 429
    assert len(leads(app)) == 2


def test_referrals_are_limited_per_address_across_accounts(
    app, fresh_minute, signed_in, monkeypatch
):
    from portal import limits
    from tests.views.test_portal_signin import _credentials

    monkeypatch.setattr(limits, "REFERRAL_IP_LIMIT", "2 per minute")
    assert THANKS in refer(signed_in).get_data(as_text=True)
    assert THANKS in refer(signed_in, email="g@example.com", phone="").get_data(as_text=True)
    with app.app_context():
        from app.services import portal_accounts

        staff = factories.staff()
        other = factories.record(first_name="Otto", email="otto@example.com")
        portal_accounts.enable_self_service(other, staff)
        db.session.commit()
        otto = _credentials(other.id)
    app.test_client_class = type(signed_in)
    second = app.test_client()
    second.submit(f"/portal/a/{otto['token']}", {"password": otto["password"]})
    assert refer(second, email="h@example.com", phone="").status_code == 429
    assert len(leads(app)) == 2


# -- JSON ---------------------------------------------------------------------------------------


def test_api_refers_and_answers_without_the_lead(app, signed_in, cora):
    response = api_refer(signed_in, {**FRAN, "phone": "", "note": None})
    assert response.status_code == 201
    body = response.get_json()
    assert body == {"status": "received", "message": THANKS}
    assert leads(app) == [("Fran Friend", "fran@example.com", None, "Referral", cora["staff_id"])]
    # someone known: the same answer
    again = api_refer(signed_in, {"first_name": "F", "last_name": "F", "email": "fran@example.com"})
    assert again.status_code == 201 and again.get_json() == body and len(leads(app)) == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**FRAN, "email": "", "phone": ""}, "email"),
        ({**FRAN, "email": "nope"}, "email"),
        ({**FRAN, "phone": "12"}, "phone"),
        ({**FRAN, "first_name": ""}, "first_name"),
        ({**FRAN, "note": "x" * 2001}, "note"),
        ({**FRAN, "id": 3}, "id"),
        ({**FRAN, "email": ["fran@example.com"]}, "email"),
    ],
)
def test_api_refuses_bad_bodies_with_field_errors(app, signed_in, body, field):
    response = api_refer(signed_in, body)
    assert response.status_code == 422, response.get_json()
    assert field in response.get_json()["error"]["fields"]
    assert leads(app) == []


def test_api_needs_a_json_object_and_the_csrf_header(app, signed_in):
    token = api_token(signed_in)
    response = signed_in.post("/portal/api/referral", data="x", headers={"X-CSRFToken": token})
    assert response.status_code == 400
    assert signed_in.post("/portal/api/referral", json=FRAN).status_code == 400
    assert leads(app) == []


def test_the_api_is_in_the_openapi_document(signed_in):
    document = signed_in.get("/portal/api/openapi.json").get_json()
    operation = document["paths"]["/portal/api/referral"]["post"]
    assert set(operation["responses"]) >= {"201", "401", "404", "422", "429"}
    schema = document["components"]["schemas"]["referral"]
    assert schema["required"] == ["first_name", "last_name"]
    assert set(schema["properties"]) == {"first_name", "last_name", "email", "phone", "note"}
