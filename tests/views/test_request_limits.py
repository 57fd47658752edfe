"""Requests larger than PORTICO_MAX_REQUEST_MB are refused before they are read, with a page for
people and JSON for the API."""

import json
import re

import pytest
from sqlalchemy import select

from tests import factories
from tests.conftest import PageClient, login


@pytest.fixture
def small(make_app):
    app = make_app(PORTICO_MAX_REQUEST_MB=1)
    app.test_client_class = PageClient
    return app


def test_the_limit_is_a_setting_with_a_safe_default(app, small):
    assert app.config["MAX_CONTENT_LENGTH"] == 25 * 1024 * 1024
    assert small.config["MAX_CONTENT_LENGTH"] == 1024 * 1024
    assert app.config["MAX_FORM_MEMORY_SIZE"] == 1024 * 1024


def _multipart(fields):
    """A multipart body built by hand: the test client's own spills big bodies into a temporary
    file that stays open when the app refuses to read it."""
    boundary = "portico-test-boundary"
    parts = []
    for name, value in fields.items():
        if isinstance(value, tuple):
            filename, content = value
            head = f'Content-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
            head += "Content-Type: application/octet-stream\r\n"
        else:
            head = f'Content-Disposition: form-data; name="{name}"\r\n'
            content = value.encode()
        parts.append(f"--{boundary}\r\n{head}\r\n".encode() + content + b"\r\n")
    body = b"".join(parts) + f"--{boundary}--\r\n".encode()
    return {"data": body, "content_type": f"multipart/form-data; boundary={boundary}"}


def test_a_large_upload_gets_a_page_saying_what_fits(small):
    client = small.test_client()
    token = client.csrf_token("/staff/login")
    response = client.post(
        "/staff/login", **_multipart({"csrf_token": token, "file": ("big.pdf", b"x" * (2 << 20))})
    )
    assert response.status_code == 413
    text = response.get_data(as_text=True)
    assert "at most 1 MB in all" in text and "<html" in text.lower()


def test_a_long_text_field_is_refused_even_under_the_size_limit(app, client):
    token = client.csrf_token("/staff/login")
    response = client.post(
        "/staff/login",
        **_multipart({"csrf_token": token, "email": "a@example.com", "password": "x" * (2 << 20)}),
    )
    assert response.status_code == 413
    assert "1 MB of text outside files" in response.get_data(as_text=True)


def _portal_client(app):
    """A client signed in to the portal through its personal link."""
    from app.services import portal_accounts
    from models import OutboxMessage, db

    with app.app_context():
        staff = factories.staff()
        record = factories.record(email="cleo@example.com")
        portal_accounts.enable_self_service(record, staff)
        db.session.commit()
        bodies = [m.body_text for m in db.session.scalars(select(OutboxMessage))]
    token = next(re.search(r"/portal/a/([\w-]+)", b).group(1) for b in bodies if "/portal/a/" in b)
    password = next(
        m.group(1) for b in bodies if (m := re.search(r"^\s{4}(\S+)$", b, re.M)) is not None
    )
    app.test_client_class = PageClient
    client = app.test_client()
    assert client.submit(f"/portal/a/{token}", {"password": password}).status_code == 302
    return client


def _post_json(client, size):
    return client.post(
        "/portal/api/prescriptions",
        data=json.dumps({"name": "x" * size}),
        content_type="application/json",
        headers={"X-CSRFToken": client.csrf_token("/portal/home")},
    )


def test_a_large_json_body_gets_json_and_is_not_parsed(small):
    response = _post_json(_portal_client(small), 2 << 20)
    assert response.status_code == 413
    error = response.get_json()["error"]
    assert error["code"] == 413 and error["max_mb"] == 1 and "at most 1 MB" in error["message"]


def test_json_gets_the_text_limit_not_the_upload_limit(app):
    """25 MB is for files; an API body of more than 1 MB is refused before it is parsed."""
    response = _post_json(_portal_client(app), 2 << 20)
    assert response.status_code == 413
    assert response.get_json()["error"]["code"] == 413


def test_requests_under_the_limit_work(small):
    with small.app_context():
        factories.staff(email="fits@example.com")
    client = small.test_client()
    assert login(client, "fits@example.com", factories.PASSWORD).status_code == 302


@pytest.mark.parametrize("path", ["/staff/login", "/portal/api/contact", "/portal/api/documents"])
def test_a_form_part_without_a_name_is_refused_not_a_server_error(app, path):
    # 'name="\r"' parses to no name at all; CSRF protection looked fields up by name and failed.
    body = b'--b\r\nContent-Disposition: form-data; name="\r"\r\n\r\nx\r\n--b--\r\n'
    response = app.test_client().post(
        path, data=body, content_type="multipart/form-data; boundary=b"
    )
    assert response.status_code in (400, 401)
    assert b"Traceback" not in response.data
