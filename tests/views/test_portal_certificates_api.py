"""The certificates JSON API: the shared masters, adding a holder (201 with the certificate
for a Yes, 202 with the request for a No), the certificates issued and their PDF, and
*Request new certificate*; its errors as JSON per field, the session (401), the CSRF header
(400) and another client's master or certificate (404)."""

from __future__ import annotations

from typing import Any

import pytest

from app import pdf
from app.services.portal_settings import get_settings
from models import db
from tests.views.test_portal_certificates import (
    certificates_on,  # noqa: F401 (a fixture)
    cleo,  # noqa: F401 (a fixture)
    holders,
    make_client,
    signed_in,  # noqa: F401 (a fixture)
    text_of,
)

MASTERS = "/portal/api/certificates/masters"
CERTIFICATES = "/portal/api/certificates"
REQUESTS = "/portal/api/certificates/requests"
HOLDER = {"name": "Harbour Properties LLC", "address": "1 Quay Street\nPortland, ME 04101"}


def holders_url(master_id: int) -> str:
    return f"{MASTERS}/{master_id}/holders"


def token(client: Any) -> str:
    return client.get("/portal/api/details").get_json()["csrf_token"]


def post(client: Any, url: str, body: Any, *, csrf: bool = True) -> Any:
    headers = {"X-CSRFToken": token(client)} if csrf else {}
    return client.post(url, json=body, headers=headers)


@pytest.fixture
def api(signed_in: Any) -> Any:  # noqa: F811
    return signed_in


def test_every_route_needs_a_session(app, client, cleo):  # noqa: F811
    assert client.get(MASTERS).status_code == 401
    assert client.get(CERTIFICATES).status_code == 401
    assert client.get(f"{CERTIFICATES}/1/download").status_code == 401
    for url in (holders_url(cleo["master_id"]), REQUESTS):
        response = client.post(url, json={})
        assert response.status_code in (400, 401)  # no session: no CSRF token either
        assert "error" in response.get_json()


def test_masters_with_their_policies_and_limits(app, api, cleo):  # noqa: F811
    response = api.get(MASTERS)
    assert response.status_code == 200
    [master] = response.get_json()["masters"]
    assert master["id"] == cleo["master_id"]
    assert master["name"] == "General liability and auto"
    assert master["add_holder_url"] == holders_url(cleo["master_id"])
    gl, auto = master["policies"]
    assert [gl["policy_number"], auto["policy_number"]] == cleo["numbers"]
    assert gl["insurer"] == "Acme Mutual" and gl["expiry_date"]
    assert {"label": "Each occurrence", "amount": 1000000} in gl["limits"]
    assert auto["limits"] == [{"label": "Combined single limit", "amount": 1000000}]


def test_yes_answers_201_with_the_certificate_to_download(app, api, cleo):  # noqa: F811
    response = post(
        api, holders_url(cleo["master_id"]), {**HOLDER, "meets": "yes", "understood": True}
    )
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["holder"]["name"] == "Harbour Properties LLC"
    assert body["holder"]["meets_requirements"] is True
    certificate = body["certificate"]
    assert certificate["number"] and certificate["holder"] == "Harbour Properties LLC"
    download = api.get(certificate["download_url"])
    assert download.status_code == 200 and download.mimetype == "application/pdf"
    assert download.headers["Cache-Control"] == "private, no-store"
    assert "Harbour Properties LLC" in text_of(download.data)
    with app.app_context():
        assert pdf.verify(download.data).ok
    [listed] = api.get(CERTIFICATES).get_json()["certificates"]
    assert listed == certificate


def test_no_answers_202_with_the_request(app, api, cleo):  # noqa: F811
    response = post(
        api,
        holders_url(cleo["master_id"]),
        {**HOLDER, "meets": "no", "reason": "They need 5,000,000 per occurrence."},
    )
    assert response.status_code == 202, response.get_json()
    body = response.get_json()
    assert body["holder"]["meets_requirements"] is False
    assert body["request"]["url"] == f"/portal/requests/{body['request']['id']}"
    assert api.get(CERTIFICATES).get_json()["certificates"] == []


def test_refusals_name_their_field(app, api, cleo):  # noqa: F811
    url = holders_url(cleo["master_id"])
    no_tick = post(api, url, {**HOLDER, "meets": "yes"})
    assert no_tick.status_code == 422
    assert no_tick.get_json()["error"]["message"]
    no_reason = post(api, url, {**HOLDER, "meets": "no"})
    assert no_reason.status_code == 422
    no_name = post(api, url, {"meets": "yes", "understood": True})
    assert no_name.status_code == 422 and "name" in no_name.get_json()["error"]["fields"]
    maybe = post(api, url, {**HOLDER, "meets": "maybe", "understood": True})
    assert maybe.status_code == 422 and "meets" in maybe.get_json()["error"]["fields"]
    unknown = post(api, url, {**HOLDER, "meets": "yes", "understood": True, "colour": "red"})
    assert unknown.status_code == 422 and "colour" in unknown.get_json()["error"]["fields"]
    wrong_kind = post(api, url, {**HOLDER, "meets": "yes", "understood": "y"})
    assert wrong_kind.status_code == 422
    assert "understood" in wrong_kind.get_json()["error"]["fields"]
    not_an_object = post(api, url, ["a list"])
    assert not_an_object.status_code == 400
    no_csrf = post(api, url, {**HOLDER, "meets": "yes", "understood": True}, csrf=False)
    assert no_csrf.status_code == 400
    # Valid JSON, yet no text: a lone surrogate escape cannot be stored (it was a 500).
    surrogate = api.post(
        url,
        data='{"name": "\\ud800x", "meets": "yes", "understood": true}',
        content_type="application/json",
        headers={"X-CSRFToken": token(api)},
    )
    assert surrogate.status_code == 400 and "surrogate" in surrogate.get_json()["error"]["message"]
    # Invisible direction marks are dropped; characters the certificate cannot print are refused.
    flipped = post(api, url, {**HOLDER, "name": "\u202eevil\u202c", "meets": "no", "reason": "x"})
    assert flipped.status_code == 202
    cjk = post(api, url, {**HOLDER, "name": "日本語株式会社", "meets": "yes", "understood": True})
    assert cjk.status_code == 422 and "cannot print" in cjk.get_json()["error"]["message"] + str(
        cjk.get_json()["error"].get("fields")
    )
    assert [h.name for h in holders(app, cleo["master_id"])] == ["evil"]


def test_another_clients_master_and_certificate_answer_404(app, client, cleo):  # noqa: F811
    other = make_client(app, company="Other Co")
    client.submit(f"/portal/a/{other['token']}", {"password": other["password"]})
    theirs = post(
        client, holders_url(other["master_id"]), {**HOLDER, "meets": "yes", "understood": True}
    ).get_json()["certificate"]
    client.post("/portal/signout", data={"csrf_token": client.csrf_token("/portal/home")})
    client.submit(f"/portal/a/{cleo['token']}", {"password": cleo["password"]})
    refused = post(
        client, holders_url(other["master_id"]), {**HOLDER, "meets": "yes", "understood": True}
    )
    assert refused.status_code == 404 and refused.get_json()["error"]["code"] == 404
    download = client.get(theirs["download_url"])
    assert download.status_code == 404 and "error" in download.get_json()
    assert client.get(CERTIFICATES).get_json()["certificates"] == []
    assert [m["id"] for m in client.get(MASTERS).get_json()["masters"]] == [cleo["master_id"]]


def test_request_new_certificate(app, api, cleo):  # noqa: F811
    empty = post(api, REQUESTS, {"message": ""})
    assert empty.status_code == 422 and "message" in empty.get_json()["error"]["fields"]
    response = post(api, REQUESTS, {"message": "An additional insured, please."})
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["request"]["url"].startswith("/portal/requests/")


def test_module_off_answers_404(app, api, cleo):  # noqa: F811
    with app.app_context():
        get_settings().module_certificates = False
        db.session.commit()
    assert api.get(MASTERS).status_code == 404
    assert api.get(CERTIFICATES).get_json()["error"]["code"] == 404
    response = post(api, holders_url(cleo["master_id"]), {**HOLDER, "meets": "yes"})
    assert response.status_code == 404


def test_the_openapi_document_describes_the_routes(app, api):
    paths = api.get("/portal/api/openapi.json").get_json()["paths"]
    assert set(paths) >= {
        MASTERS,
        MASTERS + "/{master_id}/holders",
        CERTIFICATES,
        CERTIFICATES + "/{certificate_id}/download",
        REQUESTS,
    }
    operation = paths[MASTERS + "/{master_id}/holders"]["post"]
    assert {"201", "202", "422", "404"} <= set(operation["responses"])
