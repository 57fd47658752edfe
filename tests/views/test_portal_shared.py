"""What every portal feature shares: the guards, the shape check of JSON bodies, and the
OpenAPI document walked from the routes."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask_wtf import FlaskForm
from wtforms import BooleanField, StringField
from wtforms.validators import DataRequired, Length, Optional

from app.services.portal_settings import get_settings
from models import db
from portal import openapi
from portal.api import check_shape
from portal.openapi import Reply
from portal.schemas import form_schema
from tests.views.test_portal_details import cora, signed_in  # noqa: F401 - fixtures


class ExampleForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=40)])
    note = StringField("Note", validators=[Optional()])
    urgent = BooleanField("Urgent")


def test_a_body_of_the_wrong_shape_is_refused_field_by_field(app):
    schema = form_schema(ExampleForm)
    with app.test_request_context():
        assert check_shape({"name": "Ann", "note": None, "urgent": True}, schema) is None
        response, status = check_shape(
            {"name": ["Ann"], "urgent": "no", "colour": "red", "note": 5}, schema
        )
    assert status == 422
    assert response.get_json()["error"]["fields"] == {
        "name": ["Send text."],
        "note": ["Send text."],
        "urgent": ["Send true or false."],
        "colour": ["There is no such field to change here."],
    }


def test_a_form_becomes_the_schema_of_its_body():
    schema = form_schema(ExampleForm)
    assert list(schema["properties"]) == ["name", "note", "urgent"]
    assert schema["required"] == ["name"]
    assert schema["additionalProperties"] is False
    name = schema["properties"]["name"]
    assert name["type"] == "string" and name["minLength"] == 1 and name["maxLength"] == 40
    assert schema["properties"]["note"]["type"] == ["string", "null"]
    assert schema["properties"]["urgent"] == {"type": "boolean", "title": "Urgent"}


def test_a_documented_route_is_in_the_document_with_no_other_edit():
    """The document walks the routes: declaring a route's operations is all it takes."""
    example = Flask(__name__)

    @example.route("/portal/api/things/<any(red, blue):kind>/<int:thing_id>", methods=["PATCH"])
    @openapi.operation(
        "patch",
        lambda kind: f"Change a {kind} thing",
        body=lambda kind: form_schema(ExampleForm, title=kind),
        body_name="{kind}_thing",
        replies={200: Reply("Changed", {"type": "object"})},
        errors=(401, 422),
    )
    @openapi.each(kind=lambda: ["red", "blue"])
    def change_thing(kind: str, thing_id: int) -> Any:
        return {}

    schemas: dict[str, Any] = {}
    paths = openapi.paths(example, schemas)
    assert set(paths) == {"/portal/api/things/red/{thing_id}", "/portal/api/things/blue/{thing_id}"}
    red = paths["/portal/api/things/red/{thing_id}"]
    assert red["parameters"][0]["schema"]["type"] == "integer"
    patch = red["patch"]
    assert patch["summary"] == "Change a red thing"
    assert patch["security"] == [{"session": [], "csrf": []}]
    assert patch["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/red_thing"
    }
    assert schemas["red_thing"]["title"] == "red"
    assert set(patch["responses"]) == {"200", "401", "422"}


def test_signed_out_pages_send_to_sign_in_and_the_api_answers_401(client):
    response = client.get("/portal/prescriptions")
    assert response.status_code == 302 and response.headers["Location"].endswith("/portal/")
    response = client.get("/portal/api/prescriptions")
    assert response.status_code == 401
    assert response.get_json()["error"]["message"] == "Sign in to the portal first."


def test_a_module_switched_off_is_gone_from_pages_api_and_navigation(app, signed_in):  # noqa: F811
    assert signed_in.get("/portal/api/prescriptions").status_code == 200
    with app.app_context():
        get_settings().module_rx = False
        db.session.commit()
    try:
        assert signed_in.get("/portal/prescriptions").status_code == 404
        assert signed_in.get("/portal/api/prescriptions").status_code == 404
        assert signed_in.get("/portal/api/providers").status_code == 200
        home = signed_in.get("/portal/home").get_data(as_text=True)
        assert 'href="/portal/prescriptions"' not in home
        assert 'href="/portal/providers"' in home
    finally:
        with app.app_context():
            get_settings().module_rx = True
            db.session.commit()
