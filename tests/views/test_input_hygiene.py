"""Control characters are refused in every typed value, ZIP codes and states are what they
say, and a bad name saved before any of this never stops a client's mail."""

import pytest
from sqlalchemy import select

from app.services import outbox
from models import (
    Channel,
    Contact,
    MessageTemplate,
    OutboxMessage,
    OutboxStatus,
    PendingChange,
    PortalField,
    Prescription,
    Product,
    Record,
    Tag,
    Task,
    User,
    db,
)
from tests import factories
from tests.conftest import body_of, run_jobs
from tests.views import test_portal_details as details
from tests.views.test_admin_records import record_form
from tests.views.test_portal_details import api_token, record_value

#: The signed-in client of the details tests (fixtures).
cora, signed_in = details.cora, details.signed_in

ONE_LINE = "Keep this to one line"
CONTROL = "Remove the invisible control character"


def address_form(**values):
    form = {"address_line1": "1 Main St", "address_line2": "", "city": "Springfield"}
    form.update(values)
    return form


# -- the portal's own fields -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("1 Main St\r\nBcc: evil@example.com", ONE_LINE),
        ("1 Main St\u2028Apt 2", ONE_LINE),
        ("1 Main\x00 St", CONTROL),
        ("1 Main\x1b[31m St", CONTROL),
        ("1 Main\x85 St", ONE_LINE),
        ("1\tMain St", "Remove the tab"),
    ],
)
def test_portal_fields_refuse_control_characters(app, signed_in, cora, value, message):
    response = signed_in.submit(
        "/portal/details/address", address_form(address_line1=value), page="/portal/details"
    )
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert record_value(app, cora["record_id"], "address_line1") is None


def test_a_name_with_a_line_break_is_refused_before_it_waits_for_approval(app, signed_in, cora):
    response = signed_in.submit(
        "/portal/details/personal",
        {"first_name": "Cora\nBcc: evil@example.com", "last_name": "Client"},
        page="/portal/details",
    )
    assert ONE_LINE in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalars(select(PendingChange)).all() == []


def test_surrounding_line_breaks_are_trimmed_not_refused(app, signed_in, cora):
    response = signed_in.submit(
        "/portal/details/address", address_form(city="\r\nSpringfield\n"), page="/portal/details"
    )
    assert response.status_code == 302
    assert record_value(app, cora["record_id"], "city") == "Springfield"


def test_the_json_api_refuses_them_too(app, signed_in, cora):
    response = signed_in.patch(
        "/portal/api/details/address",
        json={"city": "Spring\x00field"},
        headers={"X-CSRFToken": api_token(signed_in)},
    )
    assert response.status_code == 422
    assert CONTROL in response.get_json()["error"]["fields"]["city"][0]
    assert record_value(app, cora["record_id"], "city") is None


# -- ZIP and state -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("postal_code", "{{7*7}}", "ZIP code of 5 digits"),
        ("postal_code", "1234", "ZIP code of 5 digits"),
        ("postal_code", "12345-67", "ZIP code of 5 digits"),
        ("state", "{%", "two-letter code"),
        ("state", "{{7*7}}", "two-letter code"),
        ("state", "XX", "two-letter code"),
    ],
)
def test_zip_and_state_refuse_what_they_are_not(app, signed_in, cora, field, value, message):
    response = signed_in.submit(
        "/portal/details/address", address_form(**{field: value}), page="/portal/details"
    )
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert record_value(app, cora["record_id"], field) is None


def test_zip_and_state_are_kept_in_their_standard_form(app, signed_in, cora):
    response = signed_in.submit(
        "/portal/details/address",
        address_form(postal_code=" 20500-0003 ", state="ca"),
        page="/portal/details",
    )
    assert response.status_code == 302
    assert record_value(app, cora["record_id"], "postal_code") == "20500-0003"
    assert record_value(app, cora["record_id"], "state") == "CA"
    signed_in.submit(
        "/portal/details/address", address_form(state="New York"), page="/portal/details"
    )
    assert record_value(app, cora["record_id"], "state") == "NY"


def test_addresses_abroad_keep_their_own_postal_codes(app, signed_in, cora):
    with app.app_context():
        db.session.get(Record, cora["record_id"]).country = "GB"
        db.session.commit()
    response = signed_in.submit(
        "/portal/details/address",
        address_form(postal_code="sw1a 1aa", state="Greater London"),
        page="/portal/details",
    )
    assert response.status_code == 302
    assert record_value(app, cora["record_id"], "postal_code") == "SW1A 1AA"
    assert record_value(app, cora["record_id"], "state") == "Greater London"
    response = signed_in.submit(
        "/portal/details/address", address_form(postal_code="{{7*7}}"), page="/portal/details"
    )
    assert "postal code of letters" in response.get_data(as_text=True)


# -- care lists --------------------------------------------------------------------------------


def test_a_drug_name_with_a_nul_byte_is_refused(app, signed_in, cora):
    response = signed_in.post(
        "/portal/api/prescriptions",
        json={"drug_name": "Lisinopril\x00"},
        headers={"X-CSRFToken": api_token(signed_in)},
    )
    assert response.status_code == 422
    assert CONTROL in response.get_json()["error"]["fields"]["drug_name"][0]
    response = signed_in.submit(
        "/portal/prescriptions", {"drug_name": "Lisi\nnopril"}, page="/portal/prescriptions"
    )
    assert response.status_code == 200
    assert ONE_LINE in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalars(select(Prescription)).all() == []


def test_notes_keep_their_lines_but_not_other_control_characters(app, signed_in, cora):
    token = api_token(signed_in)
    response = signed_in.post(
        "/portal/api/providers",
        json={"name": "Dr Who", "notes": "Tuesdays\r\n\tmornings only"},
        headers={"X-CSRFToken": token},
    )
    assert response.status_code == 201
    assert response.get_json()["notes"] == "Tuesdays\n\tmornings only"  # line ends stored as LF
    response = signed_in.post(
        "/portal/api/providers",
        json={"name": "Dr No", "notes": "bell\x07"},
        headers={"X-CSRFToken": token},
    )
    assert response.status_code == 422
    assert "U+0007" in response.get_json()["error"]["fields"]["notes"][0]


# -- the staff panel ---------------------------------------------------------------------------


def test_staff_record_form_refuses_them_and_keeps_lines_in_notes(app, agent_client):
    response = agent_client.submit(
        "/admin/record/new/", record_form(first_name="Grace\r\nBcc: evil@example.com")
    )
    assert response.status_code == 200
    assert ONE_LINE in response.get_data(as_text=True)
    response = agent_client.submit(
        "/admin/record/new/", record_form(notes="Called twice.\r\nPrefers mornings.")
    )
    assert response.status_code == 302
    with app.app_context():
        [record] = db.session.scalars(select(Record)).all()
        assert record.notes == "Called twice.\nPrefers mornings."  # a browser's CRLF, stored as LF


def test_staff_inline_contacts_refuse_them(app, agent_client):
    with app.app_context():
        record = factories.record(first_name="Ben", last_name="Ocean")
    form = record_form(first_name="Ben", last_name="Ocean", email="ben@example.com")
    form.update(
        {
            "contacts-0-role": "contact_person",
            "contacts-0-first_name": "Cal\x00",
            "contacts-0-last_name": "Ocean",
        }
    )
    response = agent_client.submit(f"/admin/record/edit/?id={record.id}", form)
    assert response.status_code == 200
    assert CONTROL in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalars(select(Contact)).all() == []


def test_staff_tags_tasks_and_template_subjects_refuse_them(app, admin_client, admin_user):
    response = admin_client.submit(
        "/admin/tag/new/", {"name": "rush\norder", "colour": "#000000", "description": "a\nb"}
    )
    assert ONE_LINE in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(Tag).where(Tag.name.like("rush%"))) is None
        record = factories.record(first_name="Tia", last_name="Task")
        template_id = db.session.scalar(
            select(MessageTemplate.id).where(MessageTemplate.key == "portal.link")
        )
    response = admin_client.submit(
        "/admin/task/new/",
        {
            "title": "Call\x1bback",
            "kind": "call",
            "record": str(record.id),
            "assignee": str(admin_user.id),
        },
    )
    assert CONTROL in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalars(select(Task)).all() == []
    response = admin_client.submit(
        f"/admin/template/edit/?id={template_id}",
        {
            "name": "Portal link",
            "channel": "email",
            "subject": "Your link\r\nBcc: evil@example.com",
            "body": "Hi {{ record.first_name }}:\n\n{{ portal_link }}",
        },
    )
    assert ONE_LINE in response.get_data(as_text=True)
    with app.app_context():
        assert "Bcc" not in db.session.get(MessageTemplate, template_id).subject


def test_staff_products_and_users_refuse_them(app, admin_client):
    with app.app_context():
        record_id = factories.record(first_name="Pia", last_name="Product").id
        coverage_id = factories.coverage().id
    response = admin_client.submit(
        "/admin/product/new/",
        {
            "record": str(record_id),
            "coverage_type": str(coverage_id),
            "carrier": "Acme\u2029Health",
            "plan_name": "Gold",
            "status": "quoted",
        },
    )
    assert ONE_LINE in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalars(select(Product)).all() == []
    response = admin_client.submit(
        "/admin/staff_user/new/",
        {
            "email": "newbie@example.com",
            "first_name": "New\nBie",
            "last_name": "Staff",
            "role": "agent",
            "active": "y",
        },
    )
    assert ONE_LINE in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(User).where(User.email == "newbie@example.com")) is None


# -- mail to a row saved before -----------------------------------------------------------------


def test_a_bad_name_saved_before_never_blocks_the_mail(app, mailbox):
    """A record saved with a line break in its name (as old versions allowed) still gets its
    mail, through the real SMTP server, with a clean To and Subject and no forged header."""
    with app.app_context():
        record = factories.record(
            first_name="Cora\r\nBcc: evil@example.com", last_name="Client", email="cora@example.com"
        )
        outbox.put(
            key="hygiene-1",
            channel=Channel.EMAIL,
            to=record.email,
            to_name=record.full_name,
            subject=f"Your code, {record.first_name}",
            text="Your code is 123456",
            record_id=record.id,
        )
        db.session.commit()
    run_jobs(app)
    [received] = mailbox.wait_for(1)
    assert received["To"] == '"Cora Bcc: evil@example.com Client" <cora@example.com>'
    assert received["Subject"] == "Your code, Cora Bcc: evil@example.com"
    assert received["Bcc"] is None
    assert received["X-Envelope-To"] == "cora@example.com"
    assert "123456" in body_of(received)
    with app.app_context():
        assert db.session.scalar(select(OutboxMessage)).status == OutboxStatus.SENT


# -- rows saved before --------------------------------------------------------------------------


def test_the_migration_cleans_rows_saved_before(app):
    from flask_migrate import downgrade, upgrade

    with app.app_context():
        record = factories.record(
            first_name="Cora\r\nBcc: evil@example.com",
            last_name="Cli\x1bent",  # (PostgreSQL cannot store a NUL byte at all)
            email="cora@example.com",
            notes="Line one\r\nLine\x07 two",
        )
        db.session.add(Prescription(record_id=record.id, drug_name="Lisinopril\x85"))
        db.session.add(Tag(name="VIP\n", colour="#000000"))  # the seeded "VIP" is taken
        db.session.commit()
        record_id = record.id
        db.session.remove()
        downgrade(revision="0007")
        upgrade()
        record = db.session.get(Record, record_id)
        assert (record.first_name, record.last_name) == ("Cora Bcc: evil@example.com", "Cli ent")
        assert record.notes == "Line one\r\nLine two"
        assert db.session.scalar(select(Prescription.drug_name)) == "Lisinopril"
        names = set(db.session.scalars(select(Tag.name)))
        assert "VIP\n" not in names and "VIP" in names
        assert any(name.startswith("VIP (") for name in names)


def test_staff_record_form_checks_zip_and_state_by_the_same_rule(app, agent_client):
    response = agent_client.submit(
        "/admin/record/new/", record_form(postal_code="{{7*7}}", state="{%")
    )
    assert response.status_code == 200
    assert "Enter a ZIP code of 5 digits" in response.get_data(as_text=True)
    response = agent_client.submit(
        "/admin/record/new/", record_form(postal_code="20500", state="ohio")
    )
    assert response.status_code == 302
    with app.app_context():
        [record] = db.session.scalars(select(Record)).all()
        assert (record.postal_code, record.state) == ("20500", "OH")


def test_portal_field_labels_and_help_refuse_them(app, admin_client):
    from tests.views.test_admin_portal_fields import all_rows

    data = all_rows(admin_client.get("/admin/portal_fields/").get_data(as_text=True))
    data["mobile:label"] = "Cell\x00phone"
    response = admin_client.submit("/admin/portal_fields/", data)
    assert "Mobile phone: Remove the invisible control character (U+0000)" in (
        response.get_data(as_text=True)
    )
    data["mobile:label"] = "Cell phone"
    data["mobile:help_text"] = "We text\r\nreminders\x1b here."
    response = admin_client.submit("/admin/portal_fields/", data)
    assert "U+001B" in response.get_data(as_text=True)
    data["mobile:help_text"] = "We text\r\nreminders here."
    admin_client.submit("/admin/portal_fields/", data)
    with app.app_context():
        mobile = db.session.scalar(select(PortalField).where(PortalField.key == "mobile"))
        assert (mobile.label, mobile.help_text) == ("Cell phone", "We text\r\nreminders here.")
