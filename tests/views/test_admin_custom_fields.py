"""Custom fields from the admin form to the record form and the portal."""

import re

import pytest
from sqlalchemy import select

from models import CustomField, CustomFieldValue, FieldMode, PortalField, Record, db
from tests import factories


def field_form(**values):
    form = {
        "key": "policy_ref",
        "label": "Old policy reference",
        "field_type": "text",
        "help_text": "",
        "max_length": "",
        "pattern": "[A-Z]{2}[0-9]{4}",
        "pattern_message": "Two letters and four digits, like AB1234.",
        "min": "",
        "max": "",
        "options": "",
    }
    form.update(values)
    return form


def test_create_a_custom_field_and_fill_it_on_a_record(app, admin_client):
    response = admin_client.submit("/admin/custom_field/new/", field_form())
    assert response.status_code == 302
    with app.app_context():
        field = db.session.scalar(select(CustomField))
        assert field.settings["pattern"] == "[A-Z]{2}[0-9]{4}"
        row = db.session.scalar(select(PortalField).where(PortalField.key == "custom_policy_ref"))
        assert row.mode == FieldMode.HIDDEN
        record = factories.record(first_name="Fay", last_name="Field")
        record_id = record.id
    edit = f"/admin/record/edit/?id={record_id}"
    page = admin_client.get(edit).get_data(as_text=True)
    assert 'name="custom_policy_ref"' in page and "Old policy reference" in page
    base = {
        "kind": "client",
        "first_name": "Fay",
        "last_name": "Field",
        "email": "fay@example.com",
        "country": "US",
        "preferred_contact": "email",
    }
    response = admin_client.submit(edit, {**base, "custom_policy_ref": "nope"})
    assert "Two letters and four digits" in response.get_data(as_text=True)
    response = admin_client.submit(edit, {**base, "custom_policy_ref": "AB1234"})
    assert response.status_code == 302
    with app.app_context():
        assert db.session.scalar(select(CustomFieldValue.value)) == "AB1234"
    details = admin_client.get(f"/admin/record/details/?id={record_id}").get_data(as_text=True)
    assert "Old policy reference" in details and "AB1234" in details
    assert 'value="AB1234"' in admin_client.get(edit).get_data(as_text=True)


def test_bad_custom_field_settings_are_field_errors(admin_client):
    response = admin_client.submit(
        "/admin/custom_field/new/",
        field_form(key="pets", field_type="choice", pattern="", options="Only one"),
    )
    assert "at least two options" in response.get_data(as_text=True)
    response = admin_client.submit("/admin/custom_field/new/", field_form(key="Bad Key"))
    assert "starts with a letter" in response.get_data(as_text=True)


def test_a_field_with_values_is_archived_not_deleted(app, admin_client):
    admin_client.submit("/admin/custom_field/new/", field_form())
    with app.app_context():
        field = db.session.scalar(select(CustomField))
        record = factories.record()
        db.session.add(
            CustomFieldValue(record_id=record.id, custom_field_id=field.id, value="AB1234")
        )
        db.session.commit()
        field_id = field.id
    response = admin_client.submit(
        "/admin/custom_field/delete/",
        {"id": field_id},
        page="/admin/custom_field/",
        follow_redirects=True,
    )
    assert "Tick Archived instead" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(CustomField, field_id) is not None


def test_key_and_type_never_change(app, admin_client):
    admin_client.submit("/admin/custom_field/new/", field_form())
    with app.app_context():
        field_id = db.session.scalar(select(CustomField.id))
    admin_client.submit(
        f"/admin/custom_field/edit/?id={field_id}",
        field_form(key="hijacked", field_type="number", label="Renamed"),
    )
    with app.app_context():
        field = db.session.get(CustomField, field_id)
        assert (field.key, field.field_type.value, field.label) == ("policy_ref", "text", "Renamed")


def test_custom_field_shown_to_clients_once_an_admin_says_so(app, admin_client, client):
    from app.services import portal_accounts
    from tests.views.test_portal_signin import _credentials

    admin_client.submit(
        "/admin/custom_field/new/",
        field_form(
            key="pet_count",
            label="Number of pets",
            field_type="number",
            pattern="",
            pattern_message="",
            min="0",
            max="20",
        ),
    )
    with app.app_context():
        staff = factories.staff()
        record = factories.record(email="pat@example.com")
        portal_accounts.enable_self_service(record, staff)
        db.session.commit()
        creds = _credentials(record.id)
        row = db.session.scalar(select(PortalField).where(PortalField.key == "custom_pet_count"))
        row.mode = FieldMode.OPTIONAL
        db.session.commit()
        record_id = record.id
    client.submit(f"/portal/a/{creds['token']}", {"password": creds["password"]})
    page = client.get("/portal/details").get_data(as_text=True)
    assert "Number of pets" in page and re.search(r'name="custom_pet_count"[^>]*', page)
    response = client.submit(
        "/portal/details/additional", {"custom_pet_count": "21"}, page="/portal/details"
    )
    assert "between 0 and 20" in response.get_data(as_text=True)
    client.submit("/portal/details/additional", {"custom_pet_count": "3"}, page="/portal/details")
    details = admin_client.get(f"/admin/record/details/?id={record_id}").get_data(as_text=True)
    assert "Number of pets" in details
    with app.app_context():
        assert db.session.get(Record, record_id) is not None
        assert db.session.scalar(select(CustomFieldValue.value)) == "3"


ADMIN_CASES = [
    # type, admin settings, what the client types, what staff then read on the record page
    (
        "text",
        {"pattern": "[A-Z]{2}[0-9]{4}", "pattern_message": "Like AB1234."},
        "AB1234",
        "AB1234",
    ),
    ("long_text", {"max_length": "200"}, "Two cats\nand a dog", "Two cats"),
    ("number", {"min": "0", "max": "10"}, "3", "3"),
    ("date", {"max": "today"}, "2019-07-04", "4 July 2019"),
    ("yes_no", {}, "y", "Yes"),
    ("choice", {"options": "Dog\nCat\nFish"}, "Fish", "Fish"),
    ("email", {}, "vet@example.com", "vet@example.com"),
    ("phone", {}, "(202) 555-0166", "(202) 555-0166"),
]


@pytest.mark.parametrize("kind, settings, typed, shown", ADMIN_CASES)
def test_each_type_from_admin_form_to_portal_to_record_page(
    app, admin_client, client, kind, settings, typed, shown
):
    from app.services import portal_accounts
    from tests.views.test_portal_signin import _credentials

    form = field_form(
        key=f"extra_{kind}", label=f"Extra {kind}", field_type=kind, pattern="", pattern_message=""
    )
    form.update(settings)
    response = admin_client.submit("/admin/custom_field/new/", form)
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    with app.app_context():
        row = db.session.scalar(
            select(PortalField).where(PortalField.key == f"custom_extra_{kind}")
        )
        row.mode = FieldMode.OPTIONAL
        staff = factories.staff()
        record = factories.record(email=f"{kind}@example.com")
        portal_accounts.enable_self_service(record, staff)
        db.session.commit()
        creds = _credentials(record.id)
        record_id = record.id
    client.submit(f"/portal/a/{creds['token']}", {"password": creds["password"]})
    assert f"Extra {kind}" in client.get("/portal/details").get_data(as_text=True)
    response = client.submit(
        "/portal/details/additional",
        {f"custom_extra_{kind}": typed},
        page="/portal/details",
        follow_redirects=True,
    )
    assert f"More about you saved: Extra {kind}." in response.get_data(as_text=True)
    page = admin_client.get(f"/admin/record/details/?id={record_id}").get_data(as_text=True)
    assert f"Extra {kind}" in page and shown in page
