"""My details, prescriptions and providers through the HTML forms and the JSON API."""

import re

import pytest
from sqlalchemy import select

from app.services import invitations, portal_accounts
from models import (
    ActivityEntry,
    Contact,
    ContactMethod,
    ContactRole,
    FieldMode,
    PendingChange,
    PortalField,
    Prescription,
    Record,
    User,
    db,
)
from tests import factories
from tests.conftest import body_of, run_jobs
from tests.views.test_portal_contact_change import confirm_contact, contact_code
from tests.views.test_portal_signin import _credentials


@pytest.fixture
def cora(app):
    with app.app_context():
        staff = factories.staff(email="sid.staff@example.com")
        record = factories.record(
            first_name="Cora",
            last_name="Client",
            email="cora@example.com",
            phone="+12025550143",
            assigned_agent_id=staff.id,
        )
        portal_accounts.enable_self_service(record, staff)
        db.session.commit()
        return {"record_id": record.id, "staff_id": staff.id, **_credentials(record.id)}


@pytest.fixture
def signed_in(client, cora):
    client.submit(f"/portal/a/{cora['token']}", {"password": cora["password"]})
    return client


def sign_in_co_applicant(app, client, cora, mailbox):
    """Carl, Cora's co-applicant, invited by her agent and signed up in ``client``; the
    mailbox is emptied after (the invitation is not what a test counts)."""
    with app.app_context():
        record = db.session.get(Record, cora["record_id"])
        carl = Contact(
            record_id=record.id,
            role=ContactRole.CO_APPLICANT,
            first_name="Carl",
            last_name="Partner",
            email="carl@example.com",
        )
        db.session.add(carl)
        db.session.flush()
        invitations.invite(record, db.session.get(User, cora["staff_id"]), contact=carl)
        db.session.commit()
    run_jobs(app)
    [invitation] = mailbox.to("carl@example.com")
    token = re.search(r"/portal/invite/([\w-]+)", body_of(invitation)).group(1)
    client.submit(
        f"/portal/invite/{token}",
        {"password": "carl's long password", "confirm": "carl's long password"},
    )
    mailbox.clear()


def set_mode(app, key, mode):
    with app.app_context():
        row = db.session.scalar(select(PortalField).where(PortalField.key == key))
        row.mode = mode
        db.session.commit()


def record_value(app, record_id, attribute):
    with app.app_context():
        return getattr(db.session.get(Record, record_id), attribute)


def contact_form(**values):
    form = {"email": "cora@example.com", "phone": "(202) 555-0143", "mobile": ""}
    form.update(values)
    return form


def api_token(client):
    return client.get("/portal/api/details").get_json()["csrf_token"]


# -- each mode ------------------------------------------------------------------------------


def test_optional_field_renders_saves_and_refuses_bad_values(app, signed_in, cora):
    page = signed_in.get("/portal/details").get_data(as_text=True)
    assert 'name="phone"' in page and 'value="(202) 555-0143"' in page
    phone = re.search(r'<input[^>]*name="phone"[^>]*>', page).group(0)
    assert "required" not in phone  # an optional field is not marked required ("None")
    assert 'required="None"' not in page
    response = signed_in.submit(
        "/portal/details/contact", contact_form(phone="12"), page="/portal/details"
    )
    assert "wrong number of digits" in response.get_data(as_text=True)
    assert record_value(app, cora["record_id"], "phone") == "+12025550143"
    response = signed_in.submit(
        "/portal/details/contact",
        contact_form(phone="(202) 555-0100"),
        page="/portal/details",
        follow_redirects=True,
    )
    assert "Phone and email saved: Phone." in response.get_data(as_text=True)
    assert record_value(app, cora["record_id"], "phone") == "+12025550100"


def test_mandatory_field_cannot_be_emptied(app, signed_in, cora):
    set_mode(app, "phone", FieldMode.MANDATORY)
    page = signed_in.get("/portal/details").get_data(as_text=True)
    assert re.search(r'<input[^>]*name="phone"[^>]*required', page)
    response = signed_in.submit(
        "/portal/details/contact", contact_form(phone=""), page="/portal/details"
    )
    assert "This field is required." in response.get_data(as_text=True)
    assert record_value(app, cora["record_id"], "phone") == "+12025550143"


def test_read_only_field_is_shown_and_a_forged_post_changes_nothing(app, signed_in, cora):
    set_mode(app, "phone", FieldMode.READ_ONLY)
    page = signed_in.get("/portal/details").get_data(as_text=True)
    assert "(202) 555-0143" in page and 'name="phone"' not in page
    response = signed_in.submit(
        "/portal/details/contact", contact_form(phone="(202) 555-0177"), page="/portal/details"
    )
    assert response.status_code == 400
    assert "Nothing was saved" in response.get_data(as_text=True)
    assert record_value(app, cora["record_id"], "phone") == "+12025550143"


def test_hidden_field_never_shows_and_is_never_accepted(app, signed_in, cora):
    set_mode(app, "phone", FieldMode.HIDDEN)
    page = signed_in.get("/portal/details").get_data(as_text=True)
    assert "555-0143" not in page and "+12025550143" not in page
    assert "555-0143" not in signed_in.get("/portal/api/details").get_data(as_text=True)
    response = signed_in.submit(
        "/portal/details/contact", contact_form(phone="(202) 555-0177"), page="/portal/details"
    )
    assert response.status_code == 400
    assert record_value(app, cora["record_id"], "phone") == "+12025550143"


def test_approval_field_waits_for_staff(app, signed_in, cora, admin_client):
    signed_in.submit(
        "/portal/details/contact",
        contact_form(email="cora.new@example.com"),
        page="/portal/details",
    )
    # A sign-in address: the code sent to it comes first (tests/views/test_portal_contact_change).
    response = confirm_contact(signed_in, app, follow_redirects=True)
    html = response.get_data(as_text=True)
    assert "sent for approval: Email address." in html
    # The form shows the proposal, with a note: saved again as it is, it keeps waiting.
    assert 'value="cora.new@example.com"' in html
    assert "Waiting for approval by your adviser (sent " in html
    assert record_value(app, cora["record_id"], "email") == "cora@example.com"
    queue = admin_client.get("/admin/approvals/?flt0_status_is=pending").get_data(as_text=True)
    assert "cora.new@example.com" in queue and "Cora Client" in queue
    with app.app_context():
        change_id = db.session.scalar(select(PendingChange.id))
    admin_client.submit(
        "/admin/approvals/decide/",
        {"change_id": change_id, "decision": "approve"},
        page="/admin/approvals/?flt0_status_is=pending",
    )
    assert record_value(app, cora["record_id"], "email") == "cora.new@example.com"
    html = signed_in.get("/portal/details").get_data(as_text=True)
    assert "Your change to Email address was approved." in html
    # Looking changes nothing: the message stays until the client says they have read it.
    html = signed_in.get("/portal/details").get_data(as_text=True)
    assert "Your change to Email address was approved." in html
    with app.app_context():
        assert db.session.get(PendingChange, change_id).acknowledged is False
    seen = re.search(r'name="seen" type="hidden" value="([^"]*)"', html)
    assert seen is not None and seen.group(1) == str(change_id)
    response = signed_in.submit(
        "/portal/details/decisions/dismiss", {"seen": seen.group(1)}, page="/portal/details"
    )
    assert response.status_code == 302
    assert "was approved" not in signed_in.get("/portal/details").get_data(as_text=True)


def test_dismissing_decisions_keeps_those_the_page_did_not_show(app, signed_in, cora, admin_client):
    """A decision made after the page was shown is not dismissed unseen; without the form's
    CSRF token nothing is dismissed."""
    signed_in.submit(
        "/portal/details/personal",
        {"first_name": "Corinna", "last_name": "Client"},
        page="/portal/details",
    )
    with app.app_context():
        change_id = db.session.scalar(select(PendingChange.id))
    admin_client.submit(
        "/admin/approvals/decide/",
        {"change_id": change_id, "decision": "reject", "reason": "Send us a copy of your ID."},
        page="/admin/approvals/?flt0_status_is=pending",
    )
    refused = signed_in.post("/portal/details/decisions/dismiss", data={"seen": str(change_id)})
    assert refused.status_code == 400
    signed_in.submit(
        "/portal/details/decisions/dismiss", {"seen": "999999"}, page="/portal/details"
    )
    html = signed_in.get("/portal/details").get_data(as_text=True)
    assert "was not accepted: Send us a copy of your ID." in html


def test_rejected_change_leaves_the_record_untouched_and_says_why(
    app, signed_in, cora, admin_client
):
    signed_in.submit(
        "/portal/details/personal",
        {"first_name": "Corinna", "last_name": "Client"},
        page="/portal/details",
    )
    with app.app_context():
        change_id = db.session.scalar(select(PendingChange.id))
    admin_client.submit(
        "/admin/approvals/decide/",
        {"change_id": change_id, "decision": "reject", "reason": "Send us a copy of your ID."},
        page="/admin/approvals/?flt0_status_is=pending",
    )
    assert record_value(app, cora["record_id"], "first_name") == "Cora"
    html = signed_in.get("/portal/details").get_data(as_text=True)
    assert "was not accepted: Send us a copy of your ID." in html


def test_changing_a_mode_in_the_admin_changes_the_portal_at_once(
    app, signed_in, cora, admin_client
):
    assert 'name="phone"' in signed_in.get("/portal/details").get_data(as_text=True)
    page = admin_client.get("/admin/portal_fields/").get_data(as_text=True)
    data = {}
    for key, label in re.findall(r'name="([\w]+):label" value="([^"]*)"', page):
        data[f"{key}:label"] = label
        data[f"{key}:mode"] = re.search(
            rf'name="{key}:mode".*?<option value="(\w+)" selected', page, re.S
        ).group(1)
    data["phone:mode"] = "hidden"
    response = admin_client.submit("/admin/portal_fields/", data, follow_redirects=True)
    assert "Saved 1 field." in response.get_data(as_text=True)
    assert "555-0143" not in signed_in.get("/portal/details").get_data(as_text=True)


# -- HTML and JSON give the same results --------------------------------------------------------


PARITY = [
    ("contact", {"email": "cora@example.com", "phone": "(202) 555-0123", "mobile": ""}),
    ("contact", {"email": "cora@example.com", "phone": "not a phone", "mobile": ""}),
    ("contact", {"email": "nope@", "phone": "(202) 555-0123", "mobile": ""}),
    ("contact", {"email": "cora+new@example.com", "phone": "(202) 555-0143", "mobile": ""}),
    ("personal", {"first_name": "", "last_name": "Client"}),
    (
        "address",
        {
            "address_line1": "1 Main St",
            "address_line2": "",
            "city": "Reno",
            "state": "NV",
            "postal_code": "89501",
        },
    ),
    ("personal", {"first_name": "Cora", "last_name": "Client", "date_of_birth": "1950-01-01"}),
]


def outcome(app, record_id):
    with app.app_context():
        record = db.session.get(Record, record_id)
        pending = sorted(
            (c.field_key, c.new_value)
            for c in db.session.scalars(
                select(PendingChange).where(PendingChange.status == "pending")
            )
        )
        return (
            record.phone,
            record.email,
            record.first_name,
            record.address_line1,
            record.city,
            record.date_of_birth,
            pending,
        )


@pytest.mark.parametrize("section, data", PARITY)
def test_html_and_json_submissions_agree(app, section, data):
    from tests.conftest import reset_state

    results = []
    for via in ("html", "json"):
        reset_state(app)  # the same client, from scratch, for each way in
        with app.app_context():
            staff = factories.staff(email="sid.staff@example.com")
            record = factories.record(
                first_name="Cora",
                last_name="Client",
                email="cora@example.com",
                phone="+12025550143",
                assigned_agent_id=staff.id,
            )
            portal_accounts.enable_self_service(record, staff)
            db.session.commit()
            creds = {"record_id": record.id, **_credentials(record.id)}
        web = app.test_client()
        web.submit(f"/portal/a/{creds['token']}", {"password": creds["password"]})
        if via == "html":
            response = web.submit(f"/portal/details/{section}", data, page="/portal/details")
            errors = set(re.findall(r'id="(\w+)-error"', response.get_data(as_text=True)))
            forbidden = response.status_code == 400
        else:
            response = web.post(
                f"/portal/api/details/{section}", json=data, headers={"X-CSRFToken": api_token(web)}
            )
            body = response.get_json()
            errors = (
                set(body.get("error", {}).get("fields", {}))
                if response.status_code == 422 and "Some values" in body["error"]["message"]
                else set()
            )
            forbidden = (
                response.status_code == 422 and "cannot be changed" in body["error"]["message"]
            )
        results.append((errors, forbidden, outcome(app, creds["record_id"])))
    assert results[0] == results[1]


# -- the JSON API ---------------------------------------------------------------------------------


def test_api_needs_a_session_and_a_csrf_header(app, client, signed_in):
    anonymous = app.test_client()
    response = anonymous.get("/portal/api/details")
    assert response.status_code == 401 and response.get_json()["error"]["code"] == 401
    response = signed_in.patch("/portal/api/details/contact", json={"phone": "2025550100"})
    assert response.status_code == 400
    assert "form has expired" in response.get_json()["error"]["message"]


def test_api_errors_are_json_per_field(signed_in):
    token = api_token(signed_in)
    response = signed_in.patch(
        "/portal/api/details/contact", json={"phone": "12"}, headers={"X-CSRFToken": token}
    )
    assert response.status_code == 422
    assert response.get_json()["error"]["fields"] == {
        "phone": ["This phone number has the wrong number of digits for its country."]
    }
    response = signed_in.patch(
        "/portal/api/details/contact", data="phone=1", headers={"X-CSRFToken": token}
    )
    assert response.status_code == 400 and "JSON object" in response.get_json()["error"]["message"]
    response = signed_in.patch("/portal/api/details/nope", json={}, headers={"X-CSRFToken": token})
    assert response.status_code == 404


def test_api_patch_changes_only_what_is_sent(app, signed_in, cora):
    token = api_token(signed_in)
    response = signed_in.patch(
        "/portal/api/details/contact", json={"mobile": "2025550177"}, headers={"X-CSRFToken": token}
    )
    assert response.status_code == 202  # a sign-in number: it waits for its code
    confirm = response.get_json()["awaiting_verification"][0]["confirm"]
    _, code = contact_code(app)
    response = signed_in.post(confirm, json={"code": code}, headers={"X-CSRFToken": token})
    assert response.status_code == 200
    assert response.get_json()["saved"] == {"Mobile phone": {"old": "", "new": "(202) 555-0177"}}
    assert record_value(app, cora["record_id"], "phone") == "+12025550143"


def test_openapi_follows_the_configuration(app, client):
    spec = client.get("/portal/api/openapi.json").get_json()
    assert spec["openapi"] == "3.1.0"
    contact = spec["components"]["schemas"]["contact_changes"]["properties"]
    assert {"email", "phone", "mobile"} <= set(contact)
    set_mode(app, "phone", FieldMode.HIDDEN)
    contact = client.get("/portal/api/openapi.json").get_json()["components"]["schemas"][
        "contact_changes"
    ]["properties"]
    assert "phone" not in contact
    assert "/portal/api/prescriptions/{entry_id}" in spec["paths"]


# -- stored XSS -----------------------------------------------------------------------------------


def test_markup_a_client_types_is_shown_as_text_everywhere(app, signed_in, cora, admin_client):
    signed_in.submit(
        "/portal/details/address",
        {
            "address_line1": '<img src=x onerror="alert(1)">',
            "address_line2": "",
            "city": "<script>alert(2)</script>",
            "state": "",
            "postal_code": "",
        },
        page="/portal/details",
    )
    signed_in.submit(
        "/portal/prescriptions",
        {"drug_name": "<b onmouseover=alert(3)>Rx</b>"},
        page="/portal/prescriptions",
    )
    pages = [
        signed_in.get("/portal/details"),
        signed_in.get("/portal/prescriptions"),
        admin_client.get(f"/admin/record/details/?id={cora['record_id']}"),
        admin_client.get("/admin/activity/"),
    ]
    for response in pages:
        html = response.get_data(as_text=True)
        assert "<script>alert(2)</script>" not in html
        assert '<img src=x onerror="alert(1)">' not in html
        assert "<b onmouseover" not in html
    record_page = pages[2].get_data(as_text=True)
    assert "&lt;script&gt;alert(2)&lt;/script&gt;" in record_page


# -- prescriptions and providers ----------------------------------------------------------------


def test_prescriptions_add_edit_remove_and_staff_see_them(app, signed_in, cora, admin_client):
    response = signed_in.submit(
        "/portal/prescriptions", {"drug_name": ""}, page="/portal/prescriptions"
    )
    assert "This field is required." in response.get_data(as_text=True)
    signed_in.submit(
        "/portal/prescriptions",
        {"drug_name": "Lisinopril", "strength": "10 mg", "frequency": "once a day"},
        page="/portal/prescriptions",
    )
    record_page = f"/admin/record/details/?id={cora['record_id']}"
    assert "Lisinopril" in admin_client.get(record_page).get_data(as_text=True)
    with app.app_context():
        entry_id = db.session.scalar(select(Prescription.id))
    signed_in.submit(
        f"/portal/prescriptions/{entry_id}", {"drug_name": "Lisinopril", "strength": "20 mg"}
    )
    assert "20 mg" in admin_client.get(record_page).get_data(as_text=True)
    signed_in.submit(f"/portal/prescriptions/{entry_id}/delete", page="/portal/prescriptions")
    assert "<strong>Lisinopril</strong>" not in signed_in.get("/portal/prescriptions").get_data(
        as_text=True
    )
    with app.app_context():
        changes = [
            e.details["changes"]
            for e in db.session.scalars(
                select(ActivityEntry)
                .where(ActivityEntry.event_key == "portal.rx.updated")
                .order_by(ActivityEntry.id)
            )
        ]
    assert changes == [
        {"Lisinopril": [None, "10 mg, once a day"]},
        {"Lisinopril": ["10 mg, once a day", "20 mg, once a day"]},
        {"Lisinopril": ["20 mg, once a day", "removed"]},
    ]


def test_providers_through_the_api(app, signed_in):
    token = api_token(signed_in)
    response = signed_in.post(
        "/portal/api/providers",
        json={"name": "Dr Gray", "phone": "202 555 0101"},
        headers={"X-CSRFToken": token},
    )
    assert response.status_code == 201 and response.get_json()["phone"] == "+12025550101"
    url = response.headers["Location"]
    response = signed_in.patch(
        url, json={"specialty": "Cardiology"}, headers={"X-CSRFToken": token}
    )
    assert response.get_json()["specialty"] == "Cardiology"
    assert response.get_json()["name"] == "Dr Gray"
    response = signed_in.post(
        "/portal/api/providers", json={"phone": "1"}, headers={"X-CSRFToken": token}
    )
    assert set(response.get_json()["error"]["fields"]) == {"name", "phone"}
    assert signed_in.delete(url, headers={"X-CSRFToken": token}).status_code == 204
    assert signed_in.get("/portal/api/providers").get_json() == {"providers": []}


def test_one_client_never_reaches_anothers_entries(app, signed_in, cora):
    with app.app_context():
        other = factories.record(first_name="Otto")
        entry = Prescription(record_id=other.id, drug_name="Otto's secret pill")
        db.session.add(entry)
        db.session.commit()
        entry_id = entry.id
    token = api_token(signed_in)
    assert signed_in.get(f"/portal/prescriptions/{entry_id}").status_code == 404
    assert signed_in.get(f"/portal/api/prescriptions/{entry_id}").status_code == 404
    assert (
        signed_in.delete(
            f"/portal/api/prescriptions/{entry_id}", headers={"X-CSRFToken": token}
        ).status_code
        == 404
    )
    assert (
        signed_in.submit(
            f"/portal/prescriptions/{entry_id}/delete", page="/portal/prescriptions"
        ).status_code
        == 404
    )
    assert "secret pill" not in signed_in.get("/portal/prescriptions").get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Prescription, entry_id) is not None


def test_modules_switched_off_disappear(app, signed_in):
    from app.services.portal_settings import get_settings

    with app.app_context():
        get_settings().module_rx = False
        db.session.commit()
    home = signed_in.get("/portal/home").get_data(as_text=True)
    assert "Prescriptions" not in home and "Providers" in home
    assert signed_in.get("/portal/prescriptions").status_code == 404
    assert signed_in.get("/portal/api/prescriptions").status_code == 404


@pytest.mark.parametrize(
    "section, body, field, message",
    [
        ("preferences", {"preferred_contact": "pigeon"}, "preferred_contact", "Not a valid choice"),
        ("preferences", {"email_opt_in": None}, "email_opt_in", "Send true or false."),
        ("preferences", {"email_opt_in": "no"}, "email_opt_in", "Send true or false."),
        ("contact", {"phone": ["2025550100", "2025550101"]}, "phone", "Send text."),
        ("contact", {"phone": {"number": "2025550100"}}, "phone", "Send text."),
        # Preferring texts, then emptying the mobile in another section: refused there too.
        ("contact", {"mobile": ""}, "mobile", "Add a mobile number to prefer text messages."),
    ],
)
def test_api_refuses_values_it_would_otherwise_bend(
    app, signed_in, cora, section, body, field, message
):
    with app.app_context():
        record = db.session.get(Record, cora["record_id"])
        record.mobile, record.preferred_contact = "+12025550177", ContactMethod.SMS
        db.session.commit()
    token = api_token(signed_in)
    response = signed_in.patch(
        f"/portal/api/details/{section}", json=body, headers={"X-CSRFToken": token}
    )
    assert response.status_code == 422, response.get_json()
    assert message in " ".join(response.get_json()["error"]["fields"][field])
    assert record_value(app, cora["record_id"], "mobile") == "+12025550177"
    assert record_value(app, cora["record_id"], "email_opt_in") is True


def test_api_answers_odd_bodies_with_a_clear_4xx(signed_in):
    token = api_token(signed_in)
    deep = signed_in.patch(
        "/portal/api/details/contact",
        data="[" * 100_000,
        content_type="application/json",
        headers={"X-CSRFToken": token},
    )
    assert deep.status_code == 400 and "JSON object" in deep.get_json()["error"]["message"]
    typo = signed_in.post(
        "/portal/api/prescriptions",
        json={"drug_name": "Atorvastatin", "strenght": "10mg"},
        headers={"X-CSRFToken": token},
    )
    assert typo.status_code == 422
    assert typo.get_json()["error"]["fields"] == {
        "strenght": ["There is no such field to change here."]
    }
    assert signed_in.get("/portal/api/prescriptions").get_json() == {"prescriptions": []}


def test_staff_approve_and_reject_changes_in_bulk(app, signed_in, cora, admin_client):
    set_mode(app, "phone", FieldMode.APPROVAL)
    signed_in.submit(
        "/portal/details/contact",
        contact_form(email="cora.bulk@example.com", phone="(202) 555-0190"),
        page="/portal/details",
    )
    confirm_contact(signed_in, app)  # the new sign-in address, proven by its code
    with app.app_context():
        email_change, phone_change = db.session.scalars(
            select(PendingChange.id).order_by(PendingChange.field_key)
        ).all()
    queue = "/admin/approvals/?flt0_status_is=pending"
    html = admin_client.submit(
        "/admin/approvals/action/",
        {"action": "approve", "rowid": [str(email_change)]},
        page=queue,
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "Approved 1 change" in html
    html = admin_client.submit(
        "/admin/approvals/action/",
        {"action": "reject", "rowid": [str(email_change), str(phone_change)]},
        page=queue,
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "Rejected 1 change" in html  # the approved one is decided already
    assert record_value(app, cora["record_id"], "email") == "cora.bulk@example.com"
    assert record_value(app, cora["record_id"], "phone") == "+12025550143"


# -- what a client reads ------------------------------------------------------------------------


def test_phones_show_in_the_form_as_everywhere_else_and_any_format_is_accepted(
    app, signed_in, cora
):
    with app.app_context():
        record = db.session.get(Record, cora["record_id"])
        record.mobile = "+16145550101"
        db.session.commit()
    assert "(614) 555-0101" in signed_in.get("/portal/home").get_data(as_text=True)
    page = signed_in.get("/portal/details").get_data(as_text=True)
    assert re.search(r'name="mobile"[^>]*value="\(614\) 555-0101"', page)
    assert "+16145550101" not in page
    # Sent back for another field's error: still readable, not as the validator left it.
    response = signed_in.submit(
        "/portal/details/contact",
        contact_form(phone="12", mobile="614 555 0101"),
        page="/portal/details",
    )
    page = response.get_data(as_text=True)
    assert "wrong number of digits" in page and "+16145550101" not in page
    assert re.search(r'name="mobile"[^>]*value="\(614\) 555-0101"', page)
    assert re.search(r'name="phone"[^>]*value="12"', page)
    unchanged = contact_form(phone="(202) 555-0143", mobile="(614) 555-0101")
    response = signed_in.submit(
        "/portal/details/contact", unchanged, page="/portal/details", follow_redirects=True
    )
    assert "Phone and email: nothing changed." in response.get_data(as_text=True)
    signed_in.submit(
        "/portal/details/contact",
        contact_form(phone="202.555.0100", mobile="(614) 555-0101"),
        page="/portal/details",
    )
    assert record_value(app, cora["record_id"], "phone") == "+12025550100"
    assert record_value(app, cora["record_id"], "mobile") == "+16145550101"


def test_a_phone_from_another_country_keeps_a_form_that_reads_back():
    from portal.forms import phone_for_form

    assert phone_for_form("+16145550101") == "(614) 555-0101"
    assert phone_for_form("+442079460958") == "+44 20 7946 0958"
    # A UK client with a US number: "(614) 555-0101" would read back as a UK number.
    assert phone_for_form("+16145550101", "GB") == "+16145550101"
    assert phone_for_form(None) == ""


def test_provider_phones_read_the_same_in_the_list_and_the_form(app, signed_in):
    signed_in.submit(
        "/portal/providers", {"name": "Dr Gray", "phone": "614 555 0199"}, page="/portal/providers"
    )
    listing = signed_in.get("/portal/providers").get_data(as_text=True)
    assert "(614) 555-0199" in listing and "+16145550199" not in listing
    with app.app_context():
        from models import Provider

        entry_id = db.session.scalar(select(Provider.id))
    form = signed_in.get(f"/portal/providers/{entry_id}").get_data(as_text=True)
    assert re.search(r'name="phone"[^>]*value="\(614\) 555-0199"', form)


def test_each_section_says_which_fields_of_it_changed(app, signed_in, cora):
    response = signed_in.submit(
        "/portal/details/co_applicant",
        {"co_applicant_first_name": "Carl", "co_applicant_last_name": "Client"},
        page="/portal/details",
        follow_redirects=True,
    )
    html = response.get_data(as_text=True)
    assert "Co-applicant saved: First name, Last name." in html
    assert "Saved: First name" not in html
    response = signed_in.submit(
        "/portal/details/personal",
        {"first_name": "Corinna", "last_name": "Client"},
        page="/portal/details",
        follow_redirects=True,
    )
    html = response.get_data(as_text=True)
    assert "Personal details sent for approval: First name." in html
    assert "Co-applicant" not in html.split("</h1>")[1].split("<section")[0]


def test_removing_an_entry_asks_first_and_works_without_scripts(app, signed_in, cora):
    signed_in.submit(
        "/portal/prescriptions", {"drug_name": "Lisinopril"}, page="/portal/prescriptions"
    )
    with app.app_context():
        entry_id = db.session.scalar(select(Prescription.id))
    listing = signed_in.get("/portal/prescriptions").get_data(as_text=True)
    delete_url = f"/portal/prescriptions/{entry_id}/delete"
    # The list links to a question; no form on it removes anything in one click.
    assert f'action="{delete_url}"' not in listing and f'href="{delete_url}"' in listing
    question = signed_in.get(delete_url)
    html = question.get_data(as_text=True)
    assert question.status_code == 200 and "Remove Lisinopril?" in html
    assert f'action="{delete_url}"' in html and 'href="/portal/prescriptions"' in html
    with app.app_context():
        assert db.session.get(Prescription, entry_id) is not None
    response = signed_in.submit(delete_url, page=delete_url, follow_redirects=True)
    assert "Removed Lisinopril." in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Prescription, entry_id) is None
    assert signed_in.get(delete_url).status_code == 404


def test_the_portal_link_email_promises_only_what_the_portal_does(app, cora):
    from models import OutboxMessage

    with app.app_context():
        message = db.session.scalar(
            select(OutboxMessage).where(OutboxMessage.template_key == "portal.link")
        )
        assert "document" not in message.body_text.lower()
        assert "your policies" in message.body_text


def test_a_co_applicants_sign_in_task_names_them(app, client, cora):
    from app.services import notification_rules
    from models import Contact, ContactRole, Task, User

    with app.app_context():
        rule = notification_rules.rule_for("portal.login.password")
        rule.create_task = True
        db.session.add(rule)
        record = db.session.get(Record, cora["record_id"])
        carl = Contact(
            record_id=record.id,
            role=ContactRole.CO_APPLICANT,
            first_name="Carl",
            last_name="Partner",
            email="carl@example.com",
        )
        db.session.add(carl)
        db.session.flush()
        invitations.invite(record, db.session.get(User, cora["staff_id"]), contact=carl)
        db.session.commit()
        from models import OutboxMessage

        body = db.session.scalar(
            select(OutboxMessage.body_text).where(OutboxMessage.template_key == "portal.invitation")
        )
        token = re.search(r"/portal/invite/([\w-]+)", body).group(1)
    client.submit(
        f"/portal/invite/{token}",
        {"password": "carl's long password", "confirm": "carl's long password"},
    )
    client.submit("/portal/signout", page="/portal/home")
    client.submit(
        "/portal/signin/password", {"email": "carl@example.com", "password": "carl's long password"}
    )
    with app.app_context():
        titles = list(db.session.scalars(select(Task.title)))
    assert titles and all("Carl Partner" in title for title in titles), titles
    assert all("Cora Client" in title for title in titles)


def test_home_shows_phone_and_mobile_each_under_its_own_name(app, signed_in, cora):
    from app.services.portal_settings import get_settings
    from models import Record

    with app.app_context():
        db.session.get(Record, cora["record_id"]).mobile = "+16145550101"
        get_settings().office_phone = "+12025550100"
        db.session.commit()
    page = signed_in.get("/portal/home").get_data(as_text=True)
    assert re.search(r"<dt>Phone</dt><dd>\(202\) 555-0143</dd>", page)
    assert re.search(r"<dt>Mobile phone</dt><dd>\(614\) 555-0101</dd>", page)
    # The office's number reads like the client's, not as stored (+12025550100).
    assert "Call (202) 555-0100." in page
