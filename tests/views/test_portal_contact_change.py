"""Changing the email address or mobile number someone signs in with: a code to the new one
first, a notice to the old one, and nobody else may change them (contact persons, the primary
applicant for a co-applicant with access of their own). HTML forms and the JSON API alike."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.services import invitations as invitation_service
from app.services import password_resets, portal_accounts, portal_credentials
from app.services.portal_settings import get_settings
from models import (
    ActivityEntry,
    Channel,
    Contact,
    ContactChange,
    ContactRole,
    FieldMode,
    OutboxMessage,
    PendingChange,
    PortalField,
    Record,
    SignInSession,
    User,
    db,
    utcnow,
)
from tests import factories
from tests.views.test_portal_signin import _credentials, latest_code


def contact_code(app, to=None):
    """The newest open change and the code that went to its new address or number."""
    with app.app_context():
        query = select(OutboxMessage).where(OutboxMessage.template_key.like("portal.contact_code%"))
        if to:
            query = query.where(OutboxMessage.recipient == to)
        message = db.session.scalar(query.order_by(OutboxMessage.id.desc()))
        change_id = int(message.idempotency_key.split(":")[1])
        return change_id, re.search(r"\b(\d{6})\b", message.body_text).group(1)


def code_form(client, change_id, code):
    token = client.csrf_token("/portal/details")
    return {f"change-{change_id}-code": code, f"change-{change_id}-csrf_token": token}


def confirm_contact(client, app, to=None, code=None, **kwargs):
    change_id, sent = contact_code(app, to)
    return client.post(
        f"/portal/details/confirm/{change_id}",
        data=code_form(client, change_id, code or sent),
        **kwargs,
    )


def contact_form(**values):
    form = {"email": "cleo@example.com", "phone": "", "mobile": "(202) 555-0143"}
    form.update(values)
    return form


def set_mode(app, key, mode):
    with app.app_context():
        row = db.session.scalar(select(PortalField).where(PortalField.key == key))
        row.mode = mode
        db.session.commit()


def record_value(app, record_id, attribute):
    with app.app_context():
        return getattr(db.session.get(Record, record_id), attribute)


def outbox_to(app, recipient):
    with app.app_context():
        return [
            (m.template_key, m.body_text)
            for m in db.session.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.recipient == recipient)
                .order_by(OutboxMessage.id)
            )
        ]


@pytest.fixture
def family(app):
    """Cleo (primary, mobile +12025550143) with portal access, her invited contact person
    Dan, and her co-applicant Cy, who has portal access of his own."""
    with app.app_context():
        staff = factories.staff(email="sue.staff@example.com")
        cleo = factories.record(
            first_name="Cleo",
            last_name="Client",
            email="cleo@example.com",
            mobile="+12025550143",
            assigned_agent_id=staff.id,
        )
        portal_accounts.enable_self_service(cleo, staff)
        dan = Contact(
            record_id=cleo.id,
            role=ContactRole.CONTACT_PERSON,
            first_name="Dan",
            last_name="Helper",
            email="dan@example.com",
            phone="+12025550166",
        )
        cy = Contact(
            record_id=cleo.id,
            role=ContactRole.CO_APPLICANT,
            first_name="Cy",
            last_name="Client",
            email="cy@example.com",
            phone="+12025550177",
        )
        db.session.add_all([dan, cy])
        db.session.commit()
        invitations = {}
        for person in (dan, cy):
            invitation_service.invite(cleo, staff, person)
            db.session.commit()
            message = db.session.scalar(
                select(OutboxMessage)
                .where(OutboxMessage.template_key == "portal.invitation")
                .order_by(OutboxMessage.id.desc())
            )
            invitations[person.first_name] = re.search(
                r"/portal/invite/([\w-]+)", message.body_text
            ).group(1)
        return {
            "record_id": cleo.id,
            "staff_id": staff.id,
            "cleo": _credentials(cleo.id),
            "invitations": invitations,
        }


def sign_in_cleo(client, family):
    cleo = family["cleo"]
    response = client.submit(f"/portal/a/{cleo['token']}", {"password": cleo["password"]})
    assert response.headers["Location"] == "/portal/home"
    return client


def sign_up(client, family, name):
    page = f"/portal/invite/{family['invitations'][name]}"
    password = f"{name} picks quite a sturdy passphrase"
    response = client.submit(page, {"password": password, "confirm": password})
    assert response.headers["Location"] == "/portal/home", response.get_data(as_text=True)
    return client


def events_logged(app):
    with app.app_context():
        return [e.event_key for e in db.session.scalars(select(ActivityEntry))]


# -- the primary applicant changes their own mobile --------------------------------------------


def test_a_new_mobile_waits_for_the_code_sent_to_it(app, client, family):
    sign_in_cleo(client, family)
    response = client.submit(
        "/portal/details/contact",
        contact_form(mobile="(202) 555-0188"),
        page="/portal/details",
        follow_redirects=True,
    )
    html = response.get_data(as_text=True)
    assert "We sent a code to (202) 555-0188" in html
    assert 'id="verify-contact"' in html and "enter it to confirm your new mobile phone" in html
    # Nothing changed yet: the old number still signs in, the new one does not.
    assert record_value(app, family["record_id"], "mobile") == "+12025550143"
    with app.app_context():
        assert portal_credentials.accounts_for_identifier(Channel.SMS, "+12025550188") == []
    ((template, body),) = outbox_to(app, "+12025550188")
    assert template == "portal.contact_code.sms" and re.search(r"\b\d{6}\b", body)
    assert "portal.contact_change.requested" in events_logged(app)

    response = confirm_contact(client, app, follow_redirects=True)
    assert "Confirmed and saved: Mobile phone." in response.get_data(as_text=True)
    assert record_value(app, family["record_id"], "mobile") == "+12025550188"
    # The old number is told, so a change the client did not make is noticed.
    notices = [b for t, b in outbox_to(app, "+12025550143") if t == "portal.contact_changed.sms"]
    assert len(notices) == 1 and "(202) 555-0188" in notices[0]
    assert "call the office" in notices[0]
    with app.app_context():
        entry = db.session.scalar(
            select(ActivityEntry)
            .where(ActivityEntry.event_key == "portal.profile.updated")
            .order_by(ActivityEntry.id.desc())
        )
        assert entry.details["changes"]["Mobile phone"] == ["(202) 555-0143", "(202) 555-0188"]
    # The page no longer asks for a code.
    assert 'id="verify-contact"' not in client.get("/portal/details").get_data(as_text=True)


def test_a_wrong_code_changes_nothing_and_the_tries_run_out(app, client, family):
    sign_in_cleo(client, family)
    client.submit(
        "/portal/details/contact", contact_form(mobile="(202) 555-0188"), page="/portal/details"
    )
    change_id, code = contact_code(app)
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    with app.app_context():
        tries = get_settings().code_max_attempts
    response = confirm_contact(client, app, code=wrong)
    assert response.status_code == 422
    assert f"That code is not right. Check the newest message; {tries - 1} tries left." in (
        response.get_data(as_text=True)
    )
    for _ in range(tries - 1):
        confirm_contact(client, app, code=wrong)
    response = confirm_contact(client, app, code=code)  # even the right one, now
    assert response.status_code == 422
    assert "expired or was used up" in response.get_data(as_text=True)
    assert record_value(app, family["record_id"], "mobile") == "+12025550143"
    with app.app_context():
        change = db.session.get(ContactChange, change_id)
        assert change.attempts == tries and change.superseded_at is not None


def test_an_expired_code_changes_nothing(app, client, family):
    sign_in_cleo(client, family)
    client.submit(
        "/portal/details/contact", contact_form(mobile="(202) 555-0188"), page="/portal/details"
    )
    change_id, code = contact_code(app)
    with app.app_context():
        change = db.session.get(ContactChange, change_id)
        change.expires_at = change.created_at
        db.session.commit()
    assert 'id="verify-contact"' not in client.get("/portal/details").get_data(as_text=True)
    response = confirm_contact(client, app, code=code)
    assert response.status_code == 422 and "expired" in response.get_data(as_text=True)
    assert record_value(app, family["record_id"], "mobile") == "+12025550143"


def test_a_change_can_be_cancelled(app, client, family):
    sign_in_cleo(client, family)
    client.submit(
        "/portal/details/contact", contact_form(mobile="(202) 555-0188"), page="/portal/details"
    )
    change_id, code = contact_code(app)
    token = client.csrf_token("/portal/details")
    response = client.post(
        f"/portal/details/confirm/{change_id}/cancel",
        data={f"change-{change_id}-csrf_token": token},
        follow_redirects=True,
    )
    assert "The change of mobile phone is cancelled." in response.get_data(as_text=True)
    assert confirm_contact(client, app, code=code).status_code == 422
    assert record_value(app, family["record_id"], "mobile") == "+12025550143"


def test_a_new_email_is_confirmed_then_goes_to_staff(app, client, family, admin_client):
    """Email needs approval by default: the code proves the address, staff still decide, and
    the old address hears of it when the change applies."""
    sign_in_cleo(client, family)
    response = client.submit(
        "/portal/details/contact",
        contact_form(email="cleo.new@example.com"),
        page="/portal/details",
        follow_redirects=True,
    )
    assert "We sent a code to cleo.new@example.com" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(PendingChange)) is None  # not before the code
    response = confirm_contact(client, app, follow_redirects=True)
    html = response.get_data(as_text=True)
    assert "Confirmed and sent for approval: Email address." in html
    assert 'value="cleo.new@example.com"' in html
    assert "Waiting for approval by your adviser (sent " in html
    with app.app_context():
        change_id = db.session.scalar(select(PendingChange.id))
    admin_client.submit(
        "/admin/approvals/decide/",
        {"change_id": change_id, "decision": "approve"},
        page="/admin/approvals/?flt0_status_is=pending",
    )
    assert record_value(app, family["record_id"], "email") == "cleo.new@example.com"
    notices = [b for t, b in outbox_to(app, "cleo@example.com") if t == "portal.contact_changed"]
    assert len(notices) == 1 and "cleo.new@example.com" in notices[0]


def test_a_direct_email_change_moves_the_sign_in_address(app, client, family):
    set_mode(app, "email", FieldMode.OPTIONAL)
    sign_in_cleo(client, family)
    client.submit(
        "/portal/details/contact",
        contact_form(email="cleo.new@example.com"),
        page="/portal/details",
    )
    confirm_contact(client, app, to="cleo.new@example.com")
    assert record_value(app, family["record_id"], "email") == "cleo.new@example.com"
    with app.app_context():
        accounts = portal_credentials.accounts_for_identifier(Channel.EMAIL, "cleo.new@example.com")
        assert [a.contact_id for a in accounts] == [None]
    assert any(t == "portal.contact_changed" for t, _ in outbox_to(app, "cleo@example.com"))


def test_removing_the_mobile_needs_no_code_but_tells_the_old_number(app, client, family):
    sign_in_cleo(client, family)
    response = client.submit(
        "/portal/details/contact", contact_form(mobile=""), page="/portal/details"
    )
    assert response.status_code == 302
    assert record_value(app, family["record_id"], "mobile") is None
    assert [t for t, _ in outbox_to(app, "+12025550143")] == ["portal.contact_changed.sms"]


def test_the_old_mobile_keeps_signing_in_until_the_code_is_entered(app, client, family):
    sign_in_cleo(client, family)
    client.submit(
        "/portal/details/contact", contact_form(mobile="(202) 555-0188"), page="/portal/details"
    )
    other = app.test_client()
    other.__class__ = client.__class__
    other.submit("/portal/code/sms", {"identifier": "(202) 555-0188"})
    with app.app_context():
        from tests.views.test_portal_signin import run_sign_in_jobs

        run_sign_in_jobs(app)
        sent = db.session.scalars(
            select(OutboxMessage.template_key).where(
                OutboxMessage.recipient == "+12025550188",
                OutboxMessage.template_key == "portal.login_code.sms",
            )
        ).all()
    assert sent == []  # the unconfirmed number opens nothing
    other.submit("/portal/code/sms", {"identifier": "(202) 555-0143"})
    response = other.submit("/portal/code/verify", {"code": latest_code(app)})
    assert response.headers["Location"] == "/portal/home"


# -- who may change whose sign-in details -----------------------------------------------------


def test_a_contact_person_cannot_change_the_primarys_mobile(app, client, family):
    """The takeover: Dan sets Cleo's mobile to his own, then signs in as Cleo by text."""
    sign_up(client, family, "Dan")
    page = client.get("/portal/details").get_data(as_text=True)
    assert "(202) 555-0143" in page  # contact persons see the primary's details
    response = client.submit(
        "/portal/details/contact",
        contact_form(mobile="(202) 555-0166"),
        page="/portal/details",
    )
    assert response.status_code == 403
    assert "Only Cleo Client can change the mobile phone used to sign in" in (
        response.get_data(as_text=True)
    )
    assert record_value(app, family["record_id"], "mobile") == "+12025550143"
    assert outbox_to(app, "+12025550166") == []  # no code went anywhere
    # The attempt is logged in Dan's name, and the agent hears of it.
    with app.app_context():
        entry = db.session.scalar(
            select(ActivityEntry).where(ActivityEntry.event_key == "portal.contact_change.refused")
        )
        assert entry.actor_label == "Dan Helper" and entry.details["fields"] == ["Mobile phone"]
    told = [b for t, b in outbox_to(app, "sue.staff@example.com") if t == "notify.agent"]
    assert any("someone else's sign-in email or mobile" in body for body in told)
    # Nor the email (even though it would only be proposed to staff), nor by removing it.
    for form in (contact_form(email="dan@example.com"), contact_form(mobile="")):
        response = client.submit("/portal/details/contact", form, page="/portal/details")
        assert response.status_code == 403
    with app.app_context():
        assert db.session.scalar(select(PendingChange)) is None
        assert db.session.scalar(select(ContactChange)) is None
    # Saving the section unchanged still works, and other fields are theirs to help with.
    response = client.submit(
        "/portal/details/contact", contact_form(phone="(202) 555-0100"), page="/portal/details"
    )
    assert response.status_code == 302
    assert record_value(app, family["record_id"], "phone") == "+12025550100"


def test_a_contact_person_cannot_change_it_through_the_api(app, client, family):
    sign_up(client, family, "Dan")
    token = client.get("/portal/api/details").get_json()["csrf_token"]
    response = client.patch(
        "/portal/api/details/contact",
        json={"mobile": "(202) 555-0166"},
        headers={"X-CSRFToken": token},
    )
    assert response.status_code == 403
    assert "Only Cleo Client" in response.get_json()["error"]["fields"]["mobile"][0]
    assert record_value(app, family["record_id"], "mobile") == "+12025550143"


def test_the_co_applicants_phone_is_theirs_once_they_have_access(app, client, family):
    sign_in_cleo(client, family)
    form = {
        "co_applicant_first_name": "Cy",
        "co_applicant_last_name": "Client",
        "co_applicant_relationship": "",
        "co_applicant_date_of_birth": "",
        "co_applicant_email": "cy@example.com",
        "co_applicant_phone": "(202) 555-0143",
    }
    response = client.submit("/portal/details/co_applicant", form, page="/portal/details")
    assert response.status_code == 403
    assert "Cy Client signs in to the portal with this phone" in response.get_data(as_text=True)
    with app.app_context():
        cy = db.session.scalar(select(Contact).where(Contact.role == ContactRole.CO_APPLICANT))
        assert cy.phone == "+12025550177"
    # Cy himself changes it, with a code to the new number.
    cy_client = app.test_client()
    cy_client.__class__ = client.__class__
    sign_up(cy_client, family, "Cy")
    cy_client.submit(
        "/portal/details/co_applicant",
        {**form, "co_applicant_phone": "(202) 555-0199"},
        page="/portal/details",
    )
    confirm_contact(cy_client, app, to="+12025550199")
    with app.app_context():
        cy = db.session.scalar(select(Contact).where(Contact.role == ContactRole.CO_APPLICANT))
        assert cy.phone == "+12025550199"
    assert any(t == "portal.contact_changed.sms" for t, _ in outbox_to(app, "+12025550177"))


def test_a_change_is_confirmed_only_by_whoever_asked(app, client, family):
    sign_in_cleo(client, family)
    client.submit(
        "/portal/details/contact", contact_form(mobile="(202) 555-0188"), page="/portal/details"
    )
    change_id, code = contact_code(app)
    dan = app.test_client()
    dan.__class__ = client.__class__
    sign_up(dan, family, "Dan")
    response = dan.post(
        f"/portal/details/confirm/{change_id}", data=code_form(dan, change_id, code)
    )
    assert response.status_code == 404
    token = dan.get("/portal/api/details").get_json()["csrf_token"]
    response = dan.post(
        f"/portal/api/details/verifications/{change_id}",
        json={"code": code},
        headers={"X-CSRFToken": token},
    )
    assert response.status_code == 404
    assert record_value(app, family["record_id"], "mobile") == "+12025550143"


# -- the JSON API -----------------------------------------------------------------------------


def test_the_api_answers_202_and_confirms_at_the_verify_endpoint(app, client, family):
    sign_in_cleo(client, family)
    token = client.get("/portal/api/details").get_json()["csrf_token"]
    headers = {"X-CSRFToken": token}
    response = client.patch(
        "/portal/api/details/contact", json={"mobile": "2025550188"}, headers=headers
    )
    assert response.status_code == 202
    body = response.get_json()
    assert body["saved"] == {}
    (waiting,) = body["awaiting_verification"]
    assert waiting["field"] == "mobile" and waiting["sent_to"] == "(202) 555-0188"
    assert waiting["channel"] == "sms" and waiting["attempts_left"] == 5
    assert response.headers["Location"] == waiting["confirm"]
    assert client.get("/portal/api/details/verifications").get_json()["verifications"] == [waiting]
    assert record_value(app, family["record_id"], "mobile") == "+12025550143"

    _, code = contact_code(app)
    wrong = client.post(waiting["confirm"], json={"code": "000000"}, headers=headers)
    if code != "000000":
        assert wrong.status_code == 422 and "not right" in wrong.get_json()["error"]["message"]
    assert client.post(waiting["confirm"], json={"code": []}, headers=headers).status_code == 422
    response = client.post(waiting["confirm"], json={"code": code}, headers=headers)
    assert response.status_code == 200
    assert response.get_json()["saved"] == {
        "Mobile phone": {"old": "(202) 555-0143", "new": "(202) 555-0188"}
    }
    assert record_value(app, family["record_id"], "mobile") == "+12025550188"
    assert client.get("/portal/api/details/verifications").get_json()["verifications"] == []


def test_the_api_can_cancel_a_waiting_change(app, client, family):
    sign_in_cleo(client, family)
    headers = {"X-CSRFToken": client.get("/portal/api/details").get_json()["csrf_token"]}
    response = client.patch(
        "/portal/api/details/contact", json={"mobile": "2025550188"}, headers=headers
    )
    confirm = response.get_json()["awaiting_verification"][0]["confirm"]
    assert client.delete(confirm, headers=headers).status_code == 204
    _, code = contact_code(app)
    assert client.post(confirm, json={"code": code}, headers=headers).status_code == 422
    assert record_value(app, family["record_id"], "mobile") == "+12025550143"


def test_staff_may_still_change_the_mobile_in_the_panel(app, family):
    """Staff are the trusted path (they know the client): the panel saves at once."""
    with app.app_context():
        record = db.session.get(Record, family["record_id"])
        record.mobile = "+12025550111"
        db.session.commit()
        assert db.session.get(User, family["staff_id"]) is not None
        assert [
            a.record_id
            for a in portal_credentials.accounts_for_identifier(Channel.SMS, "+12025550111")
        ] == [family["record_id"]]


def test_a_password_reset_ends_a_change_begun_before_it(app, client, family):
    """Whoever was signed in (a copied session, say) loses the change they began: the reset
    ends every session and every change waiting for its code."""
    sign_in_cleo(client, family)
    client.submit(
        "/portal/details/contact", contact_form(mobile="(202) 555-0188"), page="/portal/details"
    )
    change_id, code = contact_code(app)
    with app.app_context():
        password_resets.request_password_reset("cleo@example.com")
        db.session.commit()
        message = db.session.scalar(
            select(OutboxMessage).where(OutboxMessage.template_key == "portal.password_reset")
        )
        token = re.search(r"/portal/reset/([\w.-]+)", message.body_text).group(1)
        password_resets.reset_password(token, "a fresh long passphrase", "a fresh long passphrase")
        db.session.commit()
        assert db.session.get(ContactChange, change_id).superseded_at is not None
    assert client.get("/portal/details").status_code == 302  # that session is over
    sign_in_again = app.test_client()
    sign_in_again.__class__ = client.__class__
    sign_in_again.submit(
        "/portal/signin/password",
        {"email": "cleo@example.com", "password": "a fresh long passphrase"},
    )
    response = sign_in_again.post(
        f"/portal/details/confirm/{change_id}",
        data=code_form(sign_in_again, change_id, code),
    )
    assert response.status_code == 422
    assert record_value(app, family["record_id"], "mobile") == "+12025550143"


# -- a right code is not wasted, one notice per change, unconfirmed is not saved ---------------


def test_a_right_code_for_a_change_that_cannot_apply_stays_unused(app, client, family):
    """The code used to be marked used before the field was checked: the change was used up
    but never applied. Now the checks come first and the same code works once it may."""
    sign_in_cleo(client, family)
    client.submit(
        "/portal/details/contact", contact_form(mobile="(202) 555-0188"), page="/portal/details"
    )
    change_id, code = contact_code(app)
    set_mode(app, "mobile", FieldMode.READ_ONLY)
    response = confirm_contact(client, app, code=code)
    assert response.status_code == 422
    assert "Mobile phone can no longer be changed here." in response.get_data(as_text=True)
    with app.app_context():
        change = db.session.get(ContactChange, change_id)
        assert change.confirmed_at is None and change.attempts == 0
    set_mode(app, "mobile", FieldMode.OPTIONAL)
    response = confirm_contact(client, app, code=code, follow_redirects=True)
    assert "Confirmed and saved: Mobile phone." in response.get_data(as_text=True)
    assert record_value(app, family["record_id"], "mobile") == "+12025550188"


def test_the_old_number_hears_once_per_change_under_the_changes_key(app, client, family):
    sign_in_cleo(client, family)
    client.submit(
        "/portal/details/contact", contact_form(mobile="(202) 555-0188"), page="/portal/details"
    )
    change_id, _ = contact_code(app)
    confirm_contact(client, app)
    with app.app_context():
        keys = db.session.scalars(
            select(OutboxMessage.idempotency_key).where(
                OutboxMessage.template_key == "portal.contact_changed.sms"
            )
        ).all()
    assert keys == [f"contact-changed:{change_id}"]


def test_an_unconfirmed_mobile_cannot_be_preferred_yet(app, client, family):
    """With the preference in the same section, "prefer text" and a new mobile used to be
    accepted together: the preference saved, pointing at a number still waiting for its code
    (and at none at all for a client who had no mobile)."""
    with app.app_context():
        row = db.session.scalar(select(PortalField).where(PortalField.key == "preferred_contact"))
        row.section = "contact"
        db.session.get(Record, family["record_id"]).mobile = None
        db.session.commit()
    sign_in_cleo(client, family)
    response = client.submit(
        "/portal/details/contact",
        contact_form(mobile="(202) 555-0188", preferred_contact="sms"),
        page="/portal/details",
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Your new mobile phone is not confirmed yet" in html
    with app.app_context():
        record = db.session.get(Record, family["record_id"])
        assert record.preferred_contact.value == "email" and record.mobile is None
        assert db.session.scalar(select(ContactChange)) is None
    # Confirmed first, the preference then saves.
    client.submit(
        "/portal/details/contact",
        contact_form(mobile="(202) 555-0188", preferred_contact="email"),
        page="/portal/details",
    )
    confirm_contact(client, app)
    response = client.submit(
        "/portal/details/contact",
        contact_form(mobile="(202) 555-0188", preferred_contact="sms"),
        page="/portal/details",
    )
    assert response.status_code == 302
    assert record_value(app, family["record_id"], "preferred_contact").value == "sms"


# -- confirm it's you before the sign-in email or mobile changes ----------------------------


def age_sessions(app, minutes=20):
    """Sessions signed in ``minutes`` ago, and in use since (not idle)."""
    with app.app_context():
        for row in db.session.scalars(select(SignInSession)):
            row.created_at = utcnow() - timedelta(minutes=minutes)
            row.last_seen_at = utcnow()
        db.session.commit()


def open_changes(app):
    with app.app_context():
        return db.session.scalars(select(ContactChange)).all()


def test_an_old_sign_in_confirms_its_you_before_a_new_mobile(app, client, family):
    """A stolen session could pick the new number itself and get the code. Now a session
    signed in more than 15 minutes ago confirms it's the client first; only then the code
    goes out."""
    sign_in_cleo(client, family)
    age_sessions(app)
    response = client.submit(
        "/portal/details/contact", contact_form(mobile="(202) 555-0188"), page="/portal/details"
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 403
    assert 'id="confirm-identity"' in html and "c***@example.com" in html
    assert "first confirm it&#39;s you" in html
    assert open_changes(app) == [] and outbox_to(app, "+12025550188") == []
    assert record_value(app, family["record_id"], "mobile") == "+12025550143"

    token = client.csrf_token("/portal/details")
    wrong = client.post(
        "/portal/details/confirm-identity",
        data={"identity-password": "not it", "identity-csrf_token": token},
    )
    assert wrong.status_code == 422
    assert "That is not your current password" in wrong.get_data(as_text=True)
    response = client.post(
        "/portal/details/confirm-identity",
        data={"identity-password": family["cleo"]["password"], "identity-csrf_token": token},
        follow_redirects=True,
    )
    assert "For the next 15 minutes you can change" in response.get_data(as_text=True)
    with app.app_context():
        rows = db.session.scalars(select(SignInSession).order_by(SignInSession.id)).all()
        assert [r.ended_at is None for r in rows] == [False, True]  # the old row ended
    response = client.submit(
        "/portal/details/contact", contact_form(mobile="(202) 555-0188"), page="/portal/details"
    )
    assert response.status_code == 302
    assert [t for t, _ in outbox_to(app, "+12025550188")] == ["portal.contact_code.sms"]


def test_confirming_with_a_code_to_the_current_email(app, client, family):
    sign_in_cleo(client, family)
    age_sessions(app)
    token = client.csrf_token("/portal/details")
    response = client.post(
        "/portal/details/confirm-identity/code",
        data={"identity-send-csrf_token": token},
        follow_redirects=True,
    )
    assert "We sent a code to c***@example.com" in response.get_data(as_text=True)
    code = latest_code(app)  # a sign-in code, to the current address
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    token = client.csrf_token("/portal/details")
    response = client.post(
        "/portal/details/confirm-identity/verify",
        data={"identity-code-code": wrong, "identity-code-csrf_token": token},
    )
    assert response.status_code == 422
    response = client.post(
        "/portal/details/confirm-identity/verify",
        data={"identity-code-code": code, "identity-code-csrf_token": token},
    )
    assert response.status_code == 302
    response = client.submit(
        "/portal/details/contact", contact_form(mobile="(202) 555-0188"), page="/portal/details"
    )
    assert response.status_code == 302 and len(open_changes(app)) == 1


def test_the_api_asks_an_old_sign_in_to_confirm_its_you(app, client, family):
    sign_in_cleo(client, family)
    age_sessions(app)
    headers = {"X-CSRFToken": client.get("/portal/api/details").get_json()["csrf_token"]}
    response = client.patch(
        "/portal/api/details/contact", json={"mobile": "2025550188"}, headers=headers
    )
    assert response.status_code == 403
    error = response.get_json()["error"]
    assert error["reason"] == "fresh_sign_in_required"
    assert error["confirm"] == "/portal/api/session/confirm" and "mobile" in error["fields"]
    assert open_changes(app) == []
    wrong = client.post(error["confirm"], json={"password": "not it"}, headers=headers)
    assert wrong.status_code == 422
    response = client.post(
        error["confirm"], json={"password": family["cleo"]["password"]}, headers=headers
    )
    assert response.status_code == 200 and "fresh_until" in response.get_json()
    response = client.patch(
        "/portal/api/details/contact", json={"mobile": "2025550188"}, headers=headers
    )
    assert response.status_code == 202


# -- a limit on codes to new addresses and numbers -------------------------------------------


def test_codes_to_new_numbers_are_limited_per_account(app, client, family):
    """Each save of a new number texted a code to it, without end: costly, and a way to
    pester anyone's phone. Five an hour per account, shared by the page and the API."""
    sign_in_cleo(client, family)
    for n in range(5):
        response = client.submit(
            "/portal/details/contact",
            contact_form(mobile=f"(202) 555-01{90 + n}"),
            page="/portal/details",
        )
        assert response.status_code == 302
    response = client.submit(
        "/portal/details/contact", contact_form(mobile="(202) 555-0199"), page="/portal/details"
    )
    assert response.status_code == 429
    assert "We have sent as many codes" in response.get_data(as_text=True)
    assert outbox_to(app, "+12025550199") == []
    headers = {"X-CSRFToken": client.get("/portal/api/details").get_json()["csrf_token"]}
    response = client.patch(
        "/portal/api/details/contact", json={"mobile": "2025550199"}, headers=headers
    )
    assert response.status_code == 429
    error = response.get_json()["error"]
    assert error["reason"] == "too_many_codes" and 0 < error["retry_after"] <= 3600
    assert outbox_to(app, "+12025550199") == []
    assert record_value(app, family["record_id"], "mobile") == "+12025550143"


def test_codes_to_new_numbers_are_limited_per_address_across_accounts(app, client, family):
    app.config["PORTICO_CONTACT_CODE_LIMIT_IP"] = "2 per hour"
    try:
        sign_in_cleo(client, family)
        for number in ("(202) 555-0190", "(202) 555-0191"):
            response = client.submit(
                "/portal/details/contact", contact_form(mobile=number), page="/portal/details"
            )
            assert response.status_code == 302
        cy = app.test_client()
        cy.__class__ = client.__class__
        sign_up(cy, family, "Cy")
        form = {
            "co_applicant_first_name": "Cy",
            "co_applicant_last_name": "Client",
            "co_applicant_relationship": "",
            "co_applicant_date_of_birth": "",
            "co_applicant_email": "cy@example.com",
            "co_applicant_phone": "(202) 555-0192",
        }
        response = cy.submit("/portal/details/co_applicant", form, page="/portal/details")
        assert response.status_code == 429
        assert outbox_to(app, "+12025550192") == []
    finally:
        app.config.pop("PORTICO_CONTACT_CODE_LIMIT_IP")
