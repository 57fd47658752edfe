"""The portal API does what its OpenAPI document says: schemathesis generates requests from
the document, sends them to the app in-process (WSGI) as a signed-in client, and checks every
answer against it (status codes, content types, response schemas, no 5xx)."""

from __future__ import annotations

import re
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.config import PositiveDataAcceptanceConfig
from schemathesis.core.failures import Failure, FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ignored_auth,
    missing_required_header,
    negative_data_rejection,
    positive_data_acceptance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
    unsupported_method,
)

from app.services import portal_accounts
from app.services.portal_settings import get_settings
from models import Prescription, Provider, db
from tests import cert_factories, factories
from tests.views.test_portal_signin import _credentials

#: Generated requests per operation and mode: enough to find each mismatch, bounded in time.
EXAMPLES = 10

#: What a response is checked for: nothing the document does not promise.
CONFORMANCE = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
    # Invalid data by the document is refused, valid data accepted (or answered with a
    # documented 422: rules between fields that no schema states), and what the document says
    # a request needs (the session, the CSRF header on writes, a body) it does need.
    positive_data_acceptance,
    negative_data_rejection,
    missing_required_header,
    unsupported_method,
    ignored_auth,
]


@pytest.fixture
def api_session(app: Any, client: Any) -> dict[str, str]:
    """A signed-in client with one prescription and one provider: its session cookie and
    CSRF token."""
    with app.app_context():
        staff = factories.staff(email="contract.staff@example.com")
        record = factories.record(
            first_name="Cora", last_name="Contract", email="cora.contract@example.com"
        )
        portal_accounts.enable_self_service(record, staff)
        db.session.add(Prescription(record_id=record.id, drug_name="Lisinopril"))
        db.session.add(Provider(record_id=record.id, name="Dr Who"))
        get_settings().module_uploads = True  # the upload is tried too, with generated files
        get_settings().module_reviews = True  # and reviews, generated ratings and comments
        # and certificates: a shared master over a policy in force, so generated holders are
        # issued (or turned into requests) and the answers' bodies are checked too
        get_settings().module_certificates = True
        cert_factories.master(
            record, [cert_factories.policy(record, carrier="Acme Mutual", number="GL-1")]
        )
        db.session.commit()
        person = _credentials(record.id)
    response = client.submit(f"/portal/a/{person['token']}", {"password": person["password"]})
    assert response.status_code == 302
    token = client.get("/portal/api/details").get_json()["csrf_token"]
    cookie = client.get_cookie("session")
    assert cookie is not None
    return {"session": cookie.value, "csrf": token}


def test_every_answer_is_the_documented_one(
    app: Any, api_session: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Positive cases (valid by the document) and negative ones (invalid by it), for every
    operation; every mismatch is collected, so one run lists them all."""
    import portal.certificates
    import portal.requests.new
    import portal.surveys

    # Five survey answers an hour per account: the generated valid ones are more.
    monkeypatch.setattr(portal.surveys, "SURVEY_LIMIT", "1000 per hour")
    monkeypatch.setattr(portal.requests.new, "REQUEST_LIMIT", "1000 per hour")
    monkeypatch.setattr(portal.certificates, "HOLDER_LIMIT", "1000 per hour")
    monkeypatch.setattr(portal.certificates, "REQUEST_LIMIT", "1000 per hour")
    schema = schemathesis.openapi.from_wsgi("/portal/api/openapi.json", app)
    schema.config.checks.positive_data_acceptance = PositiveDataAcceptanceConfig(
        expected_statuses=["2xx", "404", "422"]
    )
    problems: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 10
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            problems.extend(_mismatches(operation, mode, api_session))
    distinct = sorted(set(problems))
    assert not distinct, f"{len(distinct)} mismatches:\n" + "\n".join(distinct)


def _mismatches(operation: Any, mode: GenerationMode, api_session: dict[str, str]) -> list[str]:
    """Generated requests for one operation and mode, sent as the signed-in client: what did
    not answer as documented."""
    found: list[str] = []

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def run(case: Any) -> None:
        # The document's security schemes are generated as a cookie and a header: where a
        # case sends one, it sends the real one (a negative case may leave it out).
        if case.cookies and "session" in case.cookies:
            case.cookies["session"] = api_session["session"]
        if case.headers and "X-CSRFToken" in case.headers:
            case.headers["X-CSRFToken"] = api_session["csrf"]
        try:
            case.call_and_validate(checks=CONFORMANCE)
        except (Failure, FailureGroup) as exc:
            found.append(f"{operation.label} ({mode.value}): {_summary(exc)}")

    run()
    return found


def _summary(exc: BaseException) -> str:
    """The failure's title, the status received and the request, on few lines."""
    failures = exc.exceptions if isinstance(exc, FailureGroup) else [exc]
    return "; ".join(
        f"{getattr(f, 'title', type(f).__name__)}: {str(getattr(f, 'message', f)).strip()[:300]}"
        for f in failures
    )


def test_reads_need_only_the_session_and_writes_the_csrf_header_too(app, client, api_session):
    spec = client.get("/portal/api/openapi.json").get_json()
    details = spec["paths"]["/portal/api/details/address"]
    assert details["get"]["security"] == [{"session": []}]
    assert details["patch"]["security"] == [{"session": [], "csrf": []}]
    client.set_cookie("session", api_session["session"])
    assert client.get("/portal/api/details/address").status_code == 200
    response = client.patch("/portal/api/details/address", json={"city": "Springfield"})
    assert response.status_code == 400
    assert "expired" in response.get_json()["error"]["message"]


def test_without_a_session_every_call_is_refused_with_401(app, client):
    spec = client.get("/portal/api/openapi.json").get_json()
    for path, operations in spec["paths"].items():
        url = re.sub(r"\{\w+\}", "1", path)
        for method in ("get", "post", "patch", "delete"):
            if method in operations:
                response = client.open(url, method=method.upper(), json={})
                assert response.status_code == 401, (method, url, response.status_code)
                assert "401" in operations[method]["responses"]


def test_required_fields_are_never_null_nor_blank(app, client):
    schemas = client.get("/portal/api/openapi.json").get_json()["components"]["schemas"]
    personal = schemas["personal_changes"]
    assert {"first_name", "last_name"} <= set(personal["required"])
    first_name = personal["properties"]["first_name"]
    assert first_name["type"] == "string" and first_name["minLength"] == 1
    assert schemas["personal_patch"]["required"] == []
    assert schemas["prescriptions"]["required"] == ["drug_name"]
    assert schemas["prescriptions"]["properties"]["drug_name"]["type"] == "string"
    assert schemas["prescriptions"]["properties"]["drug_name"]["maxLength"] == 160
    assert schemas["prescriptions"]["properties"]["strength"]["type"] == ["string", "null"]
