import re

from sqlalchemy import select

from models import FieldMode, PortalField, db


def all_rows(page):
    data = {}
    for key, label in re.findall(r'name="([\w]+):label" value="([^"]*)"', page):
        data[f"{key}:label"] = label
        data[f"{key}:mode"] = re.search(
            rf'name="{key}:mode".*?<option value="(\w+)" selected', page, re.S
        ).group(1)
    return data


def test_admin_edits_labels_help_and_modes(app, admin_client):
    page = admin_client.get("/admin/portal_fields/").get_data(as_text=True)
    data = all_rows(page)
    data["mobile:label"] = "Cell phone"
    data["mobile:help_text"] = "We text reminders here."
    data["date_of_birth:mode"] = "approval"
    response = admin_client.submit("/admin/portal_fields/", data, follow_redirects=True)
    assert "Saved 2 fields" in response.get_data(as_text=True)
    with app.app_context():
        mobile = db.session.scalar(select(PortalField).where(PortalField.key == "mobile"))
        birth = db.session.scalar(select(PortalField).where(PortalField.key == "date_of_birth"))
        assert (mobile.label, mobile.help_text) == ("Cell phone", "We text reminders here.")
        assert birth.mode == FieldMode.APPROVAL


def test_an_empty_label_is_refused_and_nothing_saved(app, admin_client):
    page = admin_client.get("/admin/portal_fields/").get_data(as_text=True)
    data = all_rows(page)
    data["city:label"] = "  "
    data["mobile:mode"] = "hidden"
    response = admin_client.submit("/admin/portal_fields/", data)
    assert "a field needs a label. Nothing was saved." in response.get_data(as_text=True)
    with app.app_context():
        mobile = db.session.scalar(select(PortalField).where(PortalField.key == "mobile"))
        assert mobile.mode == FieldMode.OPTIONAL


def test_a_refused_row_undoes_the_rows_saved_before_it(app, admin_client):
    page = admin_client.get("/admin/portal_fields/").get_data(as_text=True)
    data = all_rows(page)
    data["city:mode"] = "hidden"  # the address section comes before the personal one
    data["first_name:label"] = "  "
    response = admin_client.submit("/admin/portal_fields/", data)
    assert "Nothing was saved." in response.get_data(as_text=True)
    with app.app_context():
        city = db.session.scalar(select(PortalField).where(PortalField.key == "city"))
        assert city.mode == FieldMode.OPTIONAL


def test_restore_defaults(app, admin_client):
    with app.app_context():
        row = db.session.scalar(select(PortalField).where(PortalField.key == "email"))
        row.mode = FieldMode.HIDDEN
        row.label = "E-mail"
        db.session.commit()
    admin_client.submit("/admin/portal_fields/restore/", page="/admin/portal_fields/")
    with app.app_context():
        row = db.session.scalar(select(PortalField).where(PortalField.key == "email"))
        assert (row.label, row.mode) == ("Email address", FieldMode.APPROVAL)


def test_agents_cannot_configure_the_portal(agent_client):
    assert agent_client.get("/admin/portal_fields/").status_code == 403
    assert agent_client.get("/admin/custom_field/").status_code == 403
