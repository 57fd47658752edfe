"""A change waiting for approval, as the client sees and re-saves it: the form shows the
proposal with a note; re-saving it unchanged keeps it, changing it replaces it, putting back
the value on file withdraws it (and says so). The JSON API alike."""

import re
from html import unescape

import jsonschema
import pytest
from sqlalchemy import select

from app.services import portal_accounts
from models import ActivityEntry, ChangeStatus, FieldMode, PendingChange, Record, db
from tests import factories
from tests.views.test_portal_details import api_token, set_mode
from tests.views.test_portal_signin import _credentials

PAGE = "/portal/details"


@pytest.fixture
def cora(app):
    with app.app_context():
        staff = factories.staff(email="sid.staff@example.com")
        record = factories.record(
            first_name="Cora",
            last_name="Client",
            email="cora@example.com",
            address_line1="1 Old Street",
            city="Reno",
            assigned_agent_id=staff.id,
        )
        portal_accounts.enable_self_service(record, staff)
        db.session.commit()
        credentials = _credentials(record.id)
    set_mode(app, "address_line1", FieldMode.APPROVAL)
    return {"record_id": record.id, **credentials}


@pytest.fixture
def signed_in(client, cora):
    client.submit(f"/portal/a/{cora['token']}", {"password": cora["password"]})
    return client


def address_form(client):
    """The address section's fields as the page fills them in (what a browser sends back)."""
    html = client.get(PAGE).get_data(as_text=True)
    section = re.search(r'<section[^>]*id="section-address".*?</section>', html, re.S).group(0)
    data = {}
    for tag in re.findall(r"<input[^>]*>", section):
        name = re.search(r'name="([^"]*)"', tag)
        if name and name.group(1) != "csrf_token":
            value = re.search(r'value="([^"]*)"', tag)
            data[name.group(1)] = unescape(value.group(1)) if value else ""
    for name, options in re.findall(
        r'<select[^>]*name="([^"]*)"[^>]*>(.*?)</select>', section, re.S
    ):
        chosen = re.search(r'<option[^>]*selected[^>]*value="([^"]*)"', options) or re.search(
            r'<option[^>]*value="([^"]*)"[^>]*selected', options
        )
        data[name] = unescape(chosen.group(1)) if chosen else ""
    return data


def save_address(client, **changes):
    data = {**address_form(client), **changes}
    return client.submit("/portal/details/address", data, page=PAGE, follow_redirects=True)


def changes(app):
    with app.app_context():
        return [
            (c.new_value, c.status)
            for c in db.session.scalars(select(PendingChange).order_by(PendingChange.id))
        ]


def record_of(app, record_id):
    with app.app_context():
        record = db.session.get(Record, record_id)
        return record.address_line1, record.city


def logged(app):
    with app.app_context():
        return [
            entry.details
            for entry in db.session.scalars(
                select(ActivityEntry)
                .where(ActivityEntry.event_key == "portal.profile.updated")
                .order_by(ActivityEntry.id)
            )
        ]


def test_resaving_the_section_keeps_the_proposal_waiting(app, signed_in, cora):
    """The reported defect: the form showed the value on file, so saving the section again
    for another field sent it back and silently withdrew the client's proposal."""
    save_address(signed_in, address_line1="2 New Road")
    assert changes(app) == [("2 New Road", ChangeStatus.PENDING)]
    assert address_form(signed_in)["address_line1"] == "2 New Road"
    html = signed_in.get(PAGE).get_data(as_text=True)
    assert "Waiting for approval by your adviser (sent " in html
    response = save_address(signed_in, city="Sparks")
    assert "Address saved: City." in response.get_data(as_text=True)
    assert "withdrawn" not in response.get_data(as_text=True)
    assert changes(app) == [("2 New Road", ChangeStatus.PENDING)]
    assert record_of(app, cora["record_id"]) == ("1 Old Street", "Sparks")
    assert logged(app)[-1] == {"section": "Address", "changes": {"City": ["Reno", "Sparks"]}}


def test_resaving_unchanged_changes_nothing(app, signed_in, cora):
    save_address(signed_in, address_line1="2 New Road")
    before = logged(app)
    response = save_address(signed_in)
    assert "Address: nothing changed." in response.get_data(as_text=True)
    assert changes(app) == [("2 New Road", ChangeStatus.PENDING)]
    assert logged(app) == before


def test_changing_the_proposal_again_replaces_it(app, signed_in, cora):
    save_address(signed_in, address_line1="2 New Road")
    response = save_address(signed_in, address_line1="3 Other Avenue")
    assert "Address sent for approval: Street address." in response.get_data(as_text=True)
    assert changes(app) == [
        ("2 New Road", ChangeStatus.SUPERSEDED),
        ("3 Other Avenue", ChangeStatus.PENDING),
    ]
    assert logged(app)[-1] == {
        "section": "Address",
        "awaiting_approval": {"Street address": "3 Other Avenue"},
        "replaced": {"Street address": "2 New Road"},
    }
    assert address_form(signed_in)["address_line1"] == "3 Other Avenue"


def test_putting_back_the_value_on_file_withdraws_the_proposal(app, signed_in, cora):
    save_address(signed_in, address_line1="2 New Road")
    response = save_address(signed_in, address_line1="1 Old Street")
    html = response.get_data(as_text=True)
    assert "Your earlier proposed change to Street address was withdrawn." in html
    assert "Waiting for approval by your adviser" not in html
    assert changes(app) == [("2 New Road", ChangeStatus.SUPERSEDED)]
    assert record_of(app, cora["record_id"]) == ("1 Old Street", "Reno")
    assert logged(app)[-1] == {"section": "Address", "withdrawn": {"Street address": "2 New Road"}}
    assert address_form(signed_in)["address_line1"] == "1 Old Street"


def test_staff_approve_the_proposal_after_a_resave(app, signed_in, cora, admin_client):
    save_address(signed_in, address_line1="2 New Road")
    save_address(signed_in, city="Sparks")
    with app.app_context():
        change_id = db.session.scalar(
            select(PendingChange.id).where(PendingChange.status == ChangeStatus.PENDING)
        )
    queue = "/admin/approvals/?flt0_status_is=pending"
    assert "2 New Road" in admin_client.get(queue).get_data(as_text=True)
    admin_client.submit(
        "/admin/approvals/decide/", {"change_id": change_id, "decision": "approve"}, page=queue
    )
    assert record_of(app, cora["record_id"]) == ("2 New Road", "Sparks")
    html = signed_in.get(PAGE).get_data(as_text=True)
    assert "Your change to Street address was approved." in html
    assert "Waiting for approval by your adviser" not in html


# -- JSON ---------------------------------------------------------------------------------------


def documented(client, answer, component):
    """``answer`` as the OpenAPI document describes the ``component``."""
    document = client.get("/portal/api/openapi.json").get_json()
    jsonschema.validate(answer, {**document, "$ref": f"#/components/schemas/{component}"})
    return answer


def field_of(section, key):
    return next(f for f in section["fields"] if f["key"] == key)


def test_api_shows_the_proposal_and_a_patch_that_keeps_it_keeps_it(app, signed_in, cora):
    token = api_token(signed_in)
    headers = {"X-CSRFToken": token}
    reply = signed_in.patch(
        "/portal/api/details/address", json={"address_line1": "2 New Road"}, headers=headers
    )
    assert reply.status_code == 200 and reply.get_json()["awaiting_approval"] == {
        "Street address": "2 New Road"
    }
    section = documented(
        signed_in, signed_in.get("/portal/api/details/address").get_json(), "Section"
    )
    line = field_of(section, "address_line1")
    assert line["value"] == "1 Old Street"  # still what is on file
    assert line["pending"]["value"] == "2 New Road"
    assert line["pending"]["display"] == "2 New Road"
    assert line["pending"]["proposed_at"]
    # The section as read, sent back with another field changed: the proposal stays.
    body = {
        f["key"]: (f["pending"]["value"] if "pending" in f else f["value"])
        for f in section["fields"]
    }
    reply = signed_in.patch(
        "/portal/api/details/address", json={**body, "city": "Sparks"}, headers=headers
    )
    assert reply.status_code == 200
    assert reply.get_json()["awaiting_approval"] == {}
    assert "withdrawn" not in reply.get_json() or reply.get_json()["withdrawn"] == {}
    assert changes(app) == [("2 New Road", ChangeStatus.PENDING)]
    assert record_of(app, cora["record_id"]) == ("1 Old Street", "Sparks")
    # Sending the value on file withdraws it, and the reply says so.
    reply = signed_in.patch(
        "/portal/api/details/address", json={"address_line1": "1 Old Street"}, headers=headers
    )
    documented(signed_in, reply.get_json(), "Saved")
    assert reply.get_json()["withdrawn"] == {"Street address": "2 New Road"}
    assert "pending" not in field_of(reply.get_json()["section"], "address_line1")
    assert changes(app) == [("2 New Road", ChangeStatus.SUPERSEDED)]
