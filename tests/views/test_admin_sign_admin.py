"""E-signature's settings and tools in the staff panel: the Verify a signed PDF page (any staff
member: a sealed file is intact, one changed byte is not, a non-PDF is refused), the
disclosure (admins publish version 2; unchanged text refused), saved layouts (saved when
sending, renamed, deleted) and what agents cannot open."""

from __future__ import annotations

import io
import json

import pytest
from sqlalchemy import select

from app import pdf
from models import Disclosure, RecordKind, SignTemplate, db
from tests import factories, sign_factories

VERIFY = "/admin/sign_verify/"
DISCLOSURE = "/admin/sign_disclosure/"
LAYOUTS = "/admin/sign_layouts/"


@pytest.fixture
def sealed(app) -> bytes:
    with app.app_context():
        return pdf.seal(sign_factories.pdf_bytes(1))


def verify(client, data: bytes, name: str = "signed.pdf") -> str:
    response = client.submit(
        VERIFY,
        {"file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_any_staff_member_verifies_a_sealed_pdf(agent_client, sealed):
    page = agent_client.get(VERIFY).get_data(as_text=True)
    assert 'type="file"' in page and 'name="csrf_token"' in page
    html = verify(agent_client, sealed)
    assert "Intact and sealed by" in html and "alert-success" in html
    changed = bytearray(sealed)
    # A byte of the first page's content (the seal's padding is most of a small file).
    at = sealed.index(b"stream") + 10
    changed[at] = (changed[at] + 1) % 256
    html = verify(agent_client, bytes(changed))
    assert "Not intact, or not sealed by us." in html and "alert-danger" in html
    html = verify(agent_client, b"GIF89a not a pdf", "picture.pdf")
    assert "This is not a PDF file." in html
    html = verify(agent_client, sign_factories.pdf_bytes(1), "plain.pdf")
    assert "alert-danger" in html  # a PDF never sealed is not ours
    # Without the CSRF token nothing is read.
    assert agent_client.post(VERIFY, data={}).status_code == 400


def test_an_admin_publishes_a_new_disclosure_version(app, admin_client):
    page = admin_client.get(DISCLOSURE).get_data(as_text=True)
    assert "version 1" in page and "Publish version 2" in page
    with app.app_context():
        first = db.session.scalar(select(Disclosure).where(Disclosure.version == 1)).text
    html = admin_client.submit(DISCLOSURE, {"text": first}).get_data(as_text=True)
    assert "The text is the same as the current version" in html
    html = admin_client.submit(DISCLOSURE, {"text": "  "}).get_data(as_text=True)
    assert "Write the disclosure" in html
    response = admin_client.submit(
        DISCLOSURE, {"text": "You agree to sign electronically.\nVersion two."}
    )
    assert response.status_code == 302
    html = admin_client.get(DISCLOSURE).get_data(as_text=True)
    assert "Published version 2" in html and "Version two." in html
    assert "Version 1 ·" in html and "Version 2 ·" in html
    with app.app_context():
        assert (
            db.session.scalar(select(Disclosure).order_by(Disclosure.version.desc())).version == 2
        )


def test_agents_cannot_open_the_admin_pages(agent_client, app):
    for url in (DISCLOSURE, LAYOUTS):
        assert agent_client.get(url).status_code == 403, url
    assert agent_client.post(f"{LAYOUTS}1/delete/").status_code in (400, 403)
    token = agent_client.csrf_token(VERIFY)
    for url in (DISCLOSURE, f"{LAYOUTS}1/delete/", f"{LAYOUTS}1/rename/"):
        response = agent_client.post(url, data={"csrf_token": token, "text": "x", "name": "x"})
        assert response.status_code == 403, url
    with app.app_context():
        assert db.session.scalar(select(Disclosure).where(Disclosure.version == 2)) is None
    # Agents do not see them in the menu either.
    menu = agent_client.get(VERIFY).get_data(as_text=True)
    assert LAYOUTS not in menu and DISCLOSURE not in menu


def test_a_layout_saved_when_sending_is_renamed_and_deleted(app, admin_client, admin_user):
    with app.app_context():
        sign_factories.link_route()
        record = factories.record(
            first_name="Lena", last_name="Layout", email="lena@example.com", kind=RecordKind.CLIENT
        )
        sr = sign_factories.sign_request(record, send=False)
        db.session.commit()
        record_id, request_id = record.id, sr.id
        fields = [
            {"page": f.page, "x": f.x, "y": f.y, "width": f.width, "height": f.height,
             "kind": f.kind.value, "signer": 0, "required": True, "label": ""}
            for f in sr.fields
        ]  # fmt: skip
    placer = f"/admin/sign_requests/record/{record_id}/{request_id}/fields/"
    data = {"operation": "send", "fields": json.dumps(fields), "template_name": "Broker letter"}
    response = admin_client.submit(placer, data)
    assert response.status_code == 302
    page = admin_client.get(LAYOUTS).get_data(as_text=True)
    assert 'value="Broker letter"' in page
    with app.app_context():
        layout = db.session.scalar(select(SignTemplate))
        assert layout.signer_roles == ["primary"] and len(layout.fields) == 2
        layout_id = layout.id
    # The layout is offered on a record's New sign request.
    form = admin_client.get(f"/admin/sign_requests/record/{record_id}/new/").get_data(as_text=True)
    assert f'<option value="{layout_id}">Broker letter</option>' in form

    html = admin_client.submit(
        f"{LAYOUTS}{layout_id}/rename/", {"name": "BOR letter"}, page=LAYOUTS, follow_redirects=True
    ).get_data(as_text=True)
    assert "Renamed to “BOR letter”." in html
    html = admin_client.submit(
        f"{LAYOUTS}{layout_id}/delete/", {}, page=LAYOUTS, follow_redirects=True
    ).get_data(as_text=True)
    assert "Deleted the layout “BOR letter”." in html and "No saved layouts yet." in html
    assert admin_client.submit(f"{LAYOUTS}999999/delete/", {}, page=LAYOUTS).status_code == 404
