"""Request types in the staff panel: admins add a type and a choice field that the portal
asks on its next load, archive a field, cannot delete a type clients have used; agents cannot
open either view."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from models import Conversation, RequestField, RequestType, db
from tests.views import test_portal_details as details

cora = details.cora
signed_in = details.signed_in


def _type(app: Any, key: str) -> dict[str, Any]:
    with app.app_context():
        found = db.session.scalar(select(RequestType).where(RequestType.key == key))
        if found is None:
            return {}
        return {"id": found.id, "name": found.name, **{f.label: f.id for f in found.fields}}


def test_admins_add_a_type_with_a_choice_field_and_archive_it(app, admin_client, signed_in):
    assert admin_client.get("/admin/request_type/").status_code == 200
    # A type chosen by an address that is no id ("²" is a digit to str.isdigit) is no type.
    for odd in ("%C2%B2", "x"):
        assert admin_client.get(f"/admin/request_field/new/?request_type={odd}").status_code == 200
    form = admin_client.get("/admin/request_type/new/").get_data(as_text=True)
    assert "Change request (personal)" in form  # the event's readable label
    response = admin_client.submit(
        "/admin/request_type/new/",
        {
            "name": "Add a boat",
            "key": "add-boat",
            "description": "A boat to insure.",
            "event": "portal.change_request.personal",
            "active": "y",
            "position": "9",
        },
        follow_redirects=True,
    )
    assert response.status_code == 200
    boat = _type(app, "add-boat")
    assert boat["name"] == "Add a boat"

    response = admin_client.submit(
        "/admin/request_field/new/",
        {
            "request_type": str(boat["id"]),
            "label": "Hull",
            "help_text": "What it is made of.",
            "field_type": "choice",
            "options": "Wood\nFibreglass\nSteel",
            "required": "y",
            "position": "1",
        },
        follow_redirects=True,
    )
    assert response.status_code == 200
    with app.app_context():
        hull = db.session.scalar(select(RequestField).where(RequestField.label == "Hull"))
        assert hull.settings == {"options": ["Wood", "Fibreglass", "Steel"]}
        hull_id = hull.id
    page = signed_in.get("/portal/requests/new").get_data(as_text=True)
    assert "Add a boat" in page and "A boat to insure." in page
    page = signed_in.get("/portal/requests/new/add-boat").get_data(as_text=True)
    assert "Hull" in page and "Fibreglass" in page and "What it is made of." in page

    # One option only: refused with the type's message.
    response = admin_client.submit(
        f"/admin/request_field/edit/?id={hull_id}",
        {
            "request_type": str(boat["id"]),
            "label": "Hull",
            "field_type": "choice",
            "options": "Wood",
            "position": "1",
        },
    )
    assert "at least two options" in response.get_data(as_text=True)

    admin_client.submit(
        f"/admin/request_field/edit/?id={hull_id}",
        {
            "request_type": str(boat["id"]),
            "label": "Hull",
            "field_type": "choice",
            "options": "Wood\nSteel",
            "position": "1",
            "archived": "y",
        },
    )
    page = signed_in.get("/portal/requests/new/add-boat").get_data(as_text=True)
    assert "Hull" not in page

    # Switched off: gone from the list, its page 404.
    admin_client.submit(
        f"/admin/request_type/edit/?id={boat['id']}",
        {"name": "Add a boat", "key": "add-boat", "event": "portal.request.general"},
    )
    assert "Add a boat" not in signed_in.get("/portal/requests/new").get_data(as_text=True)
    assert signed_in.get("/portal/requests/new/add-boat").status_code == 404


def test_a_bad_or_taken_key_is_refused(app, admin_client):
    for key, message in (("Add Boat", "lower-case letters"), ("general", "Already exists")):
        response = admin_client.submit(
            "/admin/request_type/new/",
            {"name": "Boat", "key": key, "event": "portal.request.general", "position": "0"},
        )
        assert message in response.get_data(as_text=True)
    assert _type(app, "add boat") == {}


def test_a_type_clients_used_is_not_deleted(app, admin_client, cora):
    general = _type(app, "general")
    vehicle = _type(app, "add-vehicle")
    with app.app_context():
        db.session.add(
            Conversation(
                record_id=cora["record_id"],
                kind="client_request",
                status="open",
                subject="General request",
                request_type_id=general["id"],
            )
        )
        db.session.commit()
    token = admin_client.csrf_token("/admin/request_type/")
    response = admin_client.post(
        "/admin/request_type/delete/",
        data={"id": str(general["id"]), "csrf_token": token},
        follow_redirects=True,
    )
    assert "cannot be deleted" in response.get_data(as_text=True)
    assert _type(app, "general") != {}
    admin_client.post(
        "/admin/request_type/delete/",
        data={"id": str(vehicle["id"]), "csrf_token": token},
        follow_redirects=True,
    )
    assert _type(app, "add-vehicle") == {}


def test_agents_cannot_open_request_types(app, agent_client):
    assert agent_client.get("/admin/request_type/").status_code == 403
    assert agent_client.get("/admin/request_field/").status_code == 403
