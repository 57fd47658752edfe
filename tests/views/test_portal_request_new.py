"""New request through the screens and the JSON API: a client sends a change request with
admin-defined fields and a file (a thread with the answers, the event logged, the agent
emailed at the SMTP server, a task per the matrix), the household rule, refusals that keep
nothing, a lead and unknown or switched-off types (404), and the multipart API."""

from __future__ import annotations

import io
from typing import Any

from sqlalchemy import func, select

from models import (
    ActivityEntry,
    Conversation,
    Document,
    Record,
    RecordKind,
    RequestType,
    Task,
    db,
)
from tests import factories
from tests.conftest import body_of, run_jobs
from tests.views import test_portal_details as details

cora = details.cora
signed_in = details.signed_in
api_token = details.api_token

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
THANKS = "Your request reached your adviser."
WHAT = "What would you like to change?"


def fields(app: Any, key: str) -> dict[str, str]:
    with app.app_context():
        found = db.session.scalar(select(RequestType).where(RequestType.key == key))
        return {f.label: f"f{f.id}" for f in found.fields}


def count(app: Any, model: Any) -> int:
    with app.app_context():
        return int(db.session.scalar(select(func.count()).select_from(model)) or 0)


def policy(app: Any, cora: dict[str, Any]) -> int:
    with app.app_context():
        record = db.session.get(Record, cora["record_id"])
        product = factories.product(record, carrier="Acme", plan_name="Auto", client_access=True)
        db.session.commit()
        return product.id


def test_a_change_request_with_a_file_reaches_the_agent(app, signed_in, cora, mailbox):
    product_id = policy(app, cora)
    listing = signed_in.get("/portal/requests/new").get_data(as_text=True)
    assert "Personal change request" in listing and "Add a driver" in listing
    page = signed_in.get("/portal/requests/new/personal-change").get_data(as_text=True)
    assert 'enctype="multipart/form-data"' in page and "Acme Auto" in page
    f = fields(app, "personal-change")
    run_jobs(app)
    mailbox.clear()
    response = signed_in.submit(
        "/portal/requests/new/personal-change",
        {
            "policy": str(product_id),
            f[WHAT]: "Please add my new address.",
            f["Date the change should start"]: "2027-01-15",
            f["Supporting documents"]: (io.BytesIO(PDF), "lease.pdf"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    with app.app_context():
        conversation = db.session.scalar(select(Conversation))
        assert response.headers["Location"].endswith(f"/portal/requests/{conversation.id}")
        assert conversation.product_id == product_id
        [document] = db.session.scalars(select(Document))
        assert document.filename == "lease.pdf"
        files_key = f["Supporting documents"][1:]
        assert conversation.answers[files_key] == [document.id]
        assert conversation.answers[f[WHAT][1:]] == "Please add my new address."
        logged = db.session.scalars(
            select(ActivityEntry.event_key).where(ActivityEntry.record_id == cora["record_id"])
        ).all()
        assert "portal.change_request.personal" in logged
        assert db.session.scalar(select(func.count()).select_from(Task)) == 1
    thread = signed_in.get(response.headers["Location"]).get_data(as_text=True)
    assert THANKS in thread and "lease.pdf" in thread

    run_jobs(app)
    [email] = mailbox.to("sid.staff@example.com")
    body = body_of(email)
    assert f"{WHAT}: Please add my new address." in body and "Acme Auto" in body
    assert mailbox.to("cora@example.com") == [] or all(
        "Carl" not in m["Subject"] for m in mailbox.to("cora@example.com")
    )


def test_a_co_applicants_request_emails_the_primary_applicant(app, client, cora, mailbox):
    details.sign_in_co_applicant(app, client, cora, mailbox)
    f = fields(app, "add-driver")
    response = client.submit(
        "/portal/requests/new/add-driver",
        {f["Full name"]: "Dana Driver", f["Date of birth"]: "2004-05-06"},
        follow_redirects=True,
    )
    assert THANKS in response.get_data(as_text=True)
    run_jobs(app)
    [primary] = mailbox.to("cora@example.com")
    assert "Carl Partner" in primary["Subject"]
    assert "Full name: Dana Driver" in body_of(primary)


def test_refused_forms_keep_nothing(app, signed_in, cora):
    f = fields(app, "general")
    response = signed_in.submit("/portal/requests/new/general", {f["Files"]: ""})
    assert response.status_code == 422 and "This field is required." in response.get_data(
        as_text=True
    )
    response = signed_in.submit(
        "/portal/requests/new/general",
        {f["How can we help?"]: "See file.", f["Files"]: (io.BytesIO(b"MZ\x90\x00"), "run.exe")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422 and "run.exe" in response.get_data(as_text=True)
    response = signed_in.post("/portal/requests/new/general", data={f["How can we help?"]: "Hi"})
    assert response.status_code == 400  # no CSRF token
    assert count(app, Conversation) == 0 and count(app, Document) == 0


def test_unknown_switched_off_and_leads_find_nothing(app, signed_in, cora):
    assert signed_in.get("/portal/requests/new/no-such-type").status_code == 404
    with app.app_context():
        vehicle = db.session.scalar(select(RequestType).where(RequestType.key == "add-vehicle"))
        vehicle.active = False
        db.session.commit()
    assert signed_in.get("/portal/requests/new/add-vehicle").status_code == 404
    assert "Add a vehicle" not in signed_in.get("/portal/requests/new").get_data(as_text=True)
    token = api_token(signed_in)
    response = signed_in.post(
        "/portal/api/request-types/add-vehicle", data={}, headers={"X-CSRFToken": token}
    )
    assert response.status_code == 404
    with app.app_context():
        db.session.get(Record, cora["record_id"]).kind = RecordKind.LEAD
        db.session.commit()
    assert signed_in.get("/portal/requests/new").status_code == 404
    assert signed_in.get("/portal/requests/new/general").status_code == 404
    assert signed_in.get("/portal/api/request-types").status_code == 404
    f = fields(app, "general")
    response = signed_in.post(
        "/portal/api/request-types/general",
        data={f["How can we help?"]: "Hi"},
        headers={"X-CSRFToken": token},
    )
    assert response.status_code == 404 and count(app, Conversation) == 0


def test_the_json_api(app, signed_in, cora):
    product_id = policy(app, cora)
    listed = signed_in.get("/portal/api/request-types").get_json()["request_types"]
    by_key = {t["key"]: t for t in listed}
    personal = by_key["personal-change"]
    assert personal["asks_policy"] is True
    assert personal["policies"] == [{"value": str(product_id), "label": "Acme Auto"}]
    types = {field["label"]: field for field in personal["fields"]}
    assert types["Supporting documents"]["schema"]["type"] == "array"
    assert types[WHAT]["required"] is True
    driver = {field["label"]: field for field in by_key["add-driver"]["fields"]}
    assert [o["value"] for o in driver["Relationship to you"]["options"]] == [
        "Spouse",
        "Child",
        "Other",
    ]
    headers = {"X-CSRFToken": api_token(signed_in)}
    url = personal["url"]
    f = fields(app, "personal-change")

    response = signed_in.post(url, data={f[WHAT]: "x"}, headers=headers)
    assert response.status_code == 422 and "policy" in response.get_json()["error"]["fields"]
    response = signed_in.post(
        url, data={"policy": str(product_id), f[WHAT]: "x", "f999999": "y"}, headers=headers
    )
    assert response.status_code == 422 and "f999999" in response.get_json()["error"]["fields"]
    response = signed_in.post(
        url,
        data={
            "policy": str(product_id),
            f[WHAT]: "x",
            f["Supporting documents"]: (io.BytesIO(b"MZ\x90\x00"), "run.exe"),
        },
        headers=headers,
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    assert f["Supporting documents"] in response.get_json()["error"]["fields"]
    assert count(app, Conversation) == 0 and count(app, Document) == 0

    response = signed_in.post(
        url,
        data={
            "policy": str(product_id),
            f[WHAT]: "New garage address.",
            f["Supporting documents"]: [(io.BytesIO(PDF), "a.pdf"), (io.BytesIO(PDF), "b.pdf")],
        },
        headers=headers,
        content_type="multipart/form-data",
    )
    assert response.status_code == 201, response.get_json()
    sent = response.get_json()
    assert sent["message"] == THANKS and sent["url"] == f"/portal/requests/{sent['id']}"
    assert count(app, Document) == 2

    spec = signed_in.get("/portal/api/openapi.json").get_json()
    body = spec["paths"]["/portal/api/request-types/personal-change"]["post"]["requestBody"]
    assert "multipart/form-data" in body["content"]
    schema = spec["components"]["schemas"]["request_personal-change"]
    assert f[WHAT] in schema["required"] and "policy" in schema["properties"]


def test_ten_requests_an_hour_per_account(app, signed_in):
    f = fields(app, "general")
    for _ in range(10):
        response = signed_in.submit("/portal/requests/new/general", {f["How can we help?"]: "Hi"})
        assert response.status_code == 302
    response = signed_in.submit("/portal/requests/new/general", {f["How can we help?"]: "Hi"})
    assert response.status_code == 429
    assert count(app, Conversation) == 10


def test_staff_preview_shows_the_fields_without_a_form(app, admin_client, cora):
    base = f"/portal/preview/{cora['record_id']}"
    page = admin_client.get(f"{base}/requests/new")
    assert page.status_code == 200 and "Add a driver" in page.get_data(as_text=True)
    page = admin_client.get(f"{base}/requests/new/add-driver").get_data(as_text=True)
    assert "Date of birth" in page and "<form" not in page.split("</nav>")[-1]


def test_a_json_body_of_other_kinds_than_its_fields_is_refused_and_keeps_nothing(
    app, signed_in, cora
):
    """A list or an object where a field's text is expected is refused (422), a body that is
    not an object too (400): never kept as the text "{'a': 1}", never a server error."""
    token = details.api_token(signed_in)
    what = fields(app, "general")
    name = next(iter(what.values()))
    before = count(app, Conversation)
    for body, code in (
        ({name: {"a": 1}}, 422),
        ({name: ["a", "b"]}, 422),
        ([1, 2], 400),
        ("hello", 400),
    ):
        response = signed_in.post(
            "/portal/api/request-types/general", json=body, headers={"X-CSRFToken": token}
        )
        assert response.status_code == code, (body, response.get_data(as_text=True))
    assert count(app, Conversation) == before
