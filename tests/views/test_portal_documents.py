"""The client's Documents: the page, opening files and links, ID cards on home, sending the
office documents, and the JSON API; a client reaches nothing but what is shared with them."""

from __future__ import annotations

from datetime import timedelta
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from app.services import document_sharing, documents, portal_accounts
from app.services.actors import Actor
from app.services.portal_settings import get_settings
from models import (
    AccessAction,
    ActivityEntry,
    Document,
    DocumentAccess,
    DocumentCategory,
    DocumentSource,
    OutboxMessage,
    Record,
    RecordKind,
    Task,
    User,
    db,
)
from tests import factories
from tests.views import test_portal_details as details

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
PNG = bytes.fromhex("89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489")
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00" + b"\x00" * 200
TEXT = b"Policy number H1234, renewal in March.\n"

# The signed-in client of the portal tests: Cora, a client with an agent.
cora = details.cora
signed_in = details.signed_in
api_token = details.api_token


# -- helpers ------------------------------------------------------------------------------------


def add_file(
    app: Any,
    record_id: int,
    staff_id: int,
    content: bytes = PDF,
    name: str = "policy.pdf",
    *,
    title: str | None = None,
    category: str | None = None,
    share: bool = True,
) -> int:
    with app.app_context():
        record = db.session.get(Record, record_id)
        actor = Actor.staff(db.session.get(User, staff_id))
        found = db.session.scalar(select(DocumentCategory).where(DocumentCategory.name == category))
        [document] = documents.add_files(
            record,
            [documents.Upload(BytesIO(content), name)],
            actor=actor,
            title=title,
            category=found,
        )
        if share:
            document_sharing.share([document], actor=actor, today=documents.office_today())
        db.session.commit()
        return document.id


def add_link(
    app: Any, record_id: int, staff_id: int, url: str = "https://carrier.example/p"
) -> int:
    with app.app_context():
        actor = Actor.staff(db.session.get(User, staff_id))
        document = documents.add_link(
            db.session.get(Record, record_id), url, "Carrier page", actor=actor
        )
        document_sharing.share([document], actor=actor, today=documents.office_today())
        db.session.commit()
        return document.id


def change(app: Any, document_id: int, **values: Any) -> None:
    with app.app_context():
        document = db.session.get(Document, document_id)
        for name, value in values.items():
            setattr(document, name, value)
        db.session.commit()


def stored_files(app: Any) -> list[Path]:
    """The document files in storage (not the office logo, not scratch files)."""
    root = Path(app.config["PORTICO_INSTANCE_PATH"]) / "uploads"
    return sorted(
        path
        for path in root.rglob("*")
        if path.is_file() and "branding" not in path.parts and ".incoming" not in path.parts
    )


def fetch(client: Any, url: str) -> Any:
    """GET ``url``, its body read and the response closed (a file's handle with it)."""
    response = client.get(url)
    response.get_data()
    response.close()
    return response


def count(app: Any, model: Any, *where: Any) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def events(app: Any, key: str) -> list[ActivityEntry]:
    with app.app_context():
        return list(db.session.scalars(select(ActivityEntry).where(ActivityEntry.event_key == key)))


def set_uploads(app: Any, on: bool) -> None:
    with app.app_context():
        get_settings().module_uploads = on
        db.session.commit()


@pytest.fixture
def uploads_on(app):
    set_uploads(app, True)
    yield
    set_uploads(app, False)


@pytest.fixture
def others(app, cora):
    """Documents Cora must never reach: another client's, a lead's (forced shared), her own
    unshared, expired and deleted ones."""
    staff_id = cora["staff_id"]
    with app.app_context():
        otto = factories.record(first_name="Otto", last_name="Other", email="otto@example.com")
        lead = factories.record(first_name="Lee", last_name="Lead", kind=RecordKind.LEAD)
        portal_accounts.enable_self_service(lead, db.session.get(User, staff_id))
        db.session.commit()
        otto_id, lead_id = otto.id, lead.id
    found = {
        "other client": add_file(app, otto_id, staff_id, title="Otto's policy"),
        "lead": add_file(app, lead_id, staff_id, title="Lead quote", share=False),
        "unshared": add_file(app, cora["record_id"], staff_id, title="Draft", share=False),
        "expired": add_file(app, cora["record_id"], staff_id, title="Old card"),
        "deleted": add_file(app, cora["record_id"], staff_id, title="Removed"),
        "other's link": add_link(app, otto_id, staff_id),
    }
    change(app, found["lead"], shared=True)  # as if forced: the rule still hides it
    with app.app_context():
        yesterday = documents.office_today() - timedelta(days=1)
    change(app, found["expired"], share_expires_on=yesterday)
    with app.app_context():
        documents.remove(db.session.get(Document, found["deleted"]))
        db.session.commit()
    return found


# -- the page -----------------------------------------------------------------------------------


def test_the_page_lists_only_what_is_shared_and_current(app, signed_in, cora, others):
    staff = cora["staff_id"]
    add_file(app, cora["record_id"], staff, title="Plan summary", category="Policy documents")
    add_file(
        app, cora["record_id"], staff, PNG, "card.png", title="Member card", category="ID cards"
    )
    add_link(app, cora["record_id"], staff)
    last_day = add_file(app, cora["record_id"], staff, title="Until today")
    with app.app_context():
        today = documents.office_today()
    change(app, last_day, share_expires_on=today)  # the last day it shows is today
    page = signed_in.get("/portal/documents").get_data(as_text=True)
    assert "Plan summary" in page and "Policy documents" in page and "Until today" in page
    assert page.index("ID cards") < page.index("Plan summary")
    assert "Member card" in page and "Website link" in page and "Carrier page" in page
    for title in ("Otto", "Lead quote", "Draft", "Old card", "Removed"):
        assert title not in page
    assert 'rel="noopener noreferrer"' in page and 'target="_blank"' in page
    assert "Sent by you" not in page and 'type="file"' not in page  # uploads are off
    assert 'href="/portal/documents"' in signed_in.get("/portal/home").get_data(as_text=True)


def test_an_empty_page_says_so(signed_in):
    page = signed_in.get("/portal/documents").get_data(as_text=True)
    assert "has not shared any documents with you yet" in page


def test_staff_preview_lists_the_documents_without_opening_them(app, agent_client, cora):
    add_file(app, cora["record_id"], cora["staff_id"], title="Plan summary")
    page = agent_client.get(f"/portal/preview/{cora['record_id']}/documents")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Plan summary" in text and "/download" not in text
    assert count(app, DocumentAccess, DocumentAccess.actor_kind == "client") == 0


# -- opening ------------------------------------------------------------------------------------


def test_download_is_an_attachment_logged_with_its_receipt_and_event(app, signed_in, cora):
    document_id = add_file(app, cora["record_id"], cora["staff_id"], name="../../etc/Plan\x07.pdf")
    response = fetch(signed_in, f"/portal/documents/{document_id}/download")
    assert response.status_code == 200 and response.data == PDF
    assert response.headers["Content-Disposition"].startswith("attachment")
    assert "Plan.pdf" in response.headers["Content-Disposition"]
    assert "/" not in response.headers["Content-Disposition"].split("filename", 1)[1]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Type"] == "application/pdf"
    with app.app_context():
        document = db.session.get(Document, document_id)
        assert document.first_opened_at is not None
        [entry] = db.session.scalars(
            select(DocumentAccess).where(
                DocumentAccess.document_id == document_id,
                DocumentAccess.action == AccessAction.DOWNLOADED,
            )
        )
        assert entry.actor_kind == "client"
    [event] = events(app, "portal.document.downloaded")
    assert event.record_id == cora["record_id"]


def test_view_is_inline_only_for_pdf_and_pictures(app, signed_in, cora):
    staff = cora["staff_id"]
    pdf = add_file(app, cora["record_id"], staff)
    png = add_file(app, cora["record_id"], staff, PNG, "photo.png")
    text = add_file(app, cora["record_id"], staff, TEXT, "notes.txt")
    svg = add_file(app, cora["record_id"], staff, TEXT, "drawing.txt")
    change(app, svg, content_type="image/svg+xml", filename="drawing.svg")
    for document_id, inline in ((pdf, True), (png, True), (text, False), (svg, False)):
        response = fetch(signed_in, f"/portal/documents/{document_id}/view")
        assert response.status_code == 200
        disposition = response.headers["Content-Disposition"]
        assert disposition.startswith("inline" if inline else "attachment"), document_id
        assert response.headers["X-Content-Type-Options"] == "nosniff"
    page = signed_in.get("/portal/documents").get_data(as_text=True)
    assert f"/portal/documents/{pdf}/view" in page and f"/portal/documents/{png}/view" in page
    assert f"/portal/documents/{text}/view" not in page
    assert f"/portal/documents/{svg}/view" not in page
    # What the browser was given to download is logged as a download, not a view.
    assert count(app, DocumentAccess, DocumentAccess.action == AccessAction.VIEWED) == 2
    assert count(app, DocumentAccess, DocumentAccess.action == AccessAction.DOWNLOADED) == 2


def test_a_link_opens_through_the_log_and_a_file_is_not_a_link(app, signed_in, cora):
    link = add_link(app, cora["record_id"], cora["staff_id"], "https://carrier.example/policy")
    response = fetch(signed_in, f"/portal/documents/{link}/link")
    assert response.status_code == 302
    assert response.headers["Location"] == "https://carrier.example/policy"
    assert count(app, DocumentAccess, DocumentAccess.action == AccessAction.VIEWED) == 1
    assert fetch(signed_in, f"/portal/documents/{link}/download").status_code == 404
    file_id = add_file(app, cora["record_id"], cora["staff_id"])
    assert fetch(signed_in, f"/portal/documents/{file_id}/link").status_code == 404
    # The refused opens logged nothing and told no one.
    assert count(app, DocumentAccess, DocumentAccess.action == AccessAction.VIEWED) == 1
    assert count(app, DocumentAccess, DocumentAccess.action == AccessAction.DOWNLOADED) == 0
    assert len(events(app, "portal.document.downloaded")) == 1


def test_id_cards_are_one_click_on_home(app, signed_in, cora):
    card = add_file(app, cora["record_id"], cora["staff_id"], PNG, "card.png", category="ID cards")
    change(app, card, title="Humana member card")
    page = signed_in.get("/portal/home").get_data(as_text=True)
    assert "Your ID cards" in page and f"/portal/documents/{card}/download" in page
    assert fetch(signed_in, f"/portal/documents/{card}/download").status_code == 200
    [event] = events(app, "portal.id_card.downloaded")
    assert event.record_id == cora["record_id"]
    assert events(app, "portal.document.downloaded") == []


def test_home_without_id_cards_has_no_such_section(signed_in):
    assert "Your ID cards" not in signed_in.get("/portal/home").get_data(as_text=True)


URLS = (
    "/portal/documents/{id}/download",
    "/portal/documents/{id}/view",
    "/portal/documents/{id}/link",
    "/portal/api/documents/{id}/download",
)


def test_nothing_but_what_is_shared_is_reachable_anywhere(app, signed_in, cora, others, uploads_on):
    signed_in.submit(
        "/portal/documents",
        {"files": [(BytesIO(PDF), "mine.pdf")], "note": ""},
        content_type="multipart/form-data",
    )
    with app.app_context():
        own = db.session.scalar(select(Document.id).where(Document.filename == "mine.pdf"))
    for reason, document_id in {**others, "own upload": own, "never was": 10**6}.items():
        for url in URLS:
            response = fetch(signed_in, url.format(id=document_id))
            assert response.status_code == 404, (reason, url)
            if "/api/" in url:
                assert response.get_json()["error"]["code"] == 404
    assert signed_in.get("/portal/api/documents").get_json()["documents"] == []
    assert count(app, DocumentAccess, DocumentAccess.actor_kind == "client") == 1  # the upload
    assert events(app, "portal.document.downloaded") == []


def test_unsharing_takes_it_away_at_once(app, signed_in, cora):
    document_id = add_file(app, cora["record_id"], cora["staff_id"])
    assert fetch(signed_in, f"/portal/documents/{document_id}/download").status_code == 200
    with app.app_context():
        staff = Actor.staff(db.session.get(User, cora["staff_id"]))
        document_sharing.unshare([db.session.get(Document, document_id)], actor=staff)
        db.session.commit()
    assert fetch(signed_in, f"/portal/documents/{document_id}/download").status_code == 404


def test_signed_out_every_document_url_sends_to_sign_in_or_401(app, client, cora):
    document_id = add_file(app, cora["record_id"], cora["staff_id"])
    for url in URLS:
        response = fetch(client, url.format(id=document_id))
        assert response.status_code == (401 if "/api/" in url else 302), url
    assert client.get("/portal/documents").status_code == 302


# -- sending documents --------------------------------------------------------------------------


def send(client: Any, files: list[tuple[bytes, str]], note: str = "", **kwargs: Any) -> Any:
    """The page's form, as a browser sends it (the answer read and closed)."""
    token = client.csrf_token("/portal/documents")
    response = client.post(
        "/portal/documents", **multipart(files, note=note, csrf_token=token), **kwargs
    )
    return closed(response)


def multipart(files: list[tuple[bytes, str]], **fields: str) -> dict[str, Any]:
    """A multipart body built in memory: the test client would spool a large one to a
    temporary file that it leaves open."""
    values = MultiDict([*fields.items()])
    for content, name in files:
        values.add("files", FileStorage(BytesIO(content), filename=name))
    boundary, body = encode_multipart(values)
    return {"data": body, "content_type": f"multipart/form-data; boundary={boundary}"}


def closed(response: Any) -> Any:
    """The answer read and closed: the test client's spooled request body goes with it."""
    response.get_data()
    response.close()
    return response


def test_uploads_off_means_no_form_and_404(app, signed_in):
    before = stored_files(app)
    response = send(signed_in, [(PDF, "a.pdf")])
    assert response.status_code == 404
    assert count(app, Document) == 0 and stored_files(app) == before


def test_a_batch_lands_on_the_record_for_the_office(app, signed_in, cora, uploads_on):
    before = stored_files(app)
    page = signed_in.get("/portal/documents").get_data(as_text=True)
    assert 'type="file"' in page and "multiple" in page and 'accept=".pdf,' in page
    response = send(
        signed_in,
        [(PDF, "claim.pdf"), (PNG, "receipt.png")],
        "For the March claim",
        follow_redirects=True,
    )
    text = response.get_data(as_text=True)
    assert "Thank you: your documents were sent to the office." in text
    assert "Sent by you" in text and "claim.pdf" in text and "For the March claim" in text
    with app.app_context():
        kept = list(db.session.scalars(select(Document).order_by(Document.id)))
        assert [d.filename for d in kept] == ["claim.pdf", "receipt.png"]
        for document in kept:
            assert document.source == DocumentSource.CLIENT and not document.shared
            assert document.record_id == cora["record_id"]
            assert document.client_note == "For the March claim"
            assert document.staff_seen_at is None
        tasks = db.session.scalar(
            select(func.count()).select_from(Task).where(Task.record_id == cora["record_id"])
        )
        assert tasks == 1
        to_agent = db.session.scalars(
            select(OutboxMessage).where(OutboxMessage.recipient == "sid.staff@example.com")
        ).all()
        assert len(to_agent) == 1
    assert len(events(app, "portal.document.uploaded")) == 1
    assert len(stored_files(app)) == len(before) + 2
    # What the client sent is not theirs to download back: names only.
    assert "/download" not in text


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ([], "Choose a file to upload."),
        ([(EXE, "policy.pdf")], "This kind of file (.exe) is not accepted here."),
        ([(b"", "empty.pdf")], "The file is empty."),
        ([(PDF, f"page{n}.pdf") for n in range(11)], "Upload at most 10 files at a time."),
        ([(PDF, "good.pdf"), (EXE, "bad.pdf")], "bad.pdf: This kind of file (.exe)"),
    ],
)
def test_a_refused_batch_keeps_nothing(app, signed_in, uploads_on, files, message):
    before = stored_files(app)
    response = send(signed_in, files, "note")
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert message in text and 'aria-invalid="true"' in text
    assert "Thank you" not in text
    assert count(app, Document) == 0 and stored_files(app) == before
    assert events(app, "portal.document.uploaded") == []


def test_too_large_is_a_clear_form_error(app, signed_in, uploads_on, monkeypatch):
    before = stored_files(app)
    monkeypatch.setitem(app.config, "PORTICO_DOCUMENT_MAX_MB", 1)
    big = PDF + b"0" * (1 << 20)
    response = send(signed_in, [(PDF, "small.pdf"), (big, "big.pdf")])
    assert response.status_code == 200
    assert "big.pdf: The file is larger than 1 MB" in response.get_data(as_text=True)
    assert count(app, Document) == 0 and stored_files(app) == before


def test_the_request_limit_makes_room_for_a_full_batch(app, signed_in, uploads_on, monkeypatch):
    """The office's request limit (1 MB here) would cut off a batch; the upload route raises
    its own limit to ten files of the per-file size before the body is read."""
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 1 << 20)
    monkeypatch.setitem(app.config, "PORTICO_DOCUMENT_MAX_MB", 2)
    files = [(PDF + b"0" * (700 << 10), f"scan{n}.pdf") for n in range(2)]
    response = send(signed_in, files, follow_redirects=True)
    assert "Thank you" in response.get_data(as_text=True)
    assert count(app, Document) == 2


def test_a_long_note_is_refused(app, signed_in, uploads_on):
    before = stored_files(app)
    response = send(signed_in, [(PDF, "a.pdf")], "x" * 2001)
    assert "2000" in response.get_data(as_text=True) or "2,000" in response.get_data(as_text=True)
    assert count(app, Document) == 0 and stored_files(app) == before


def test_a_lead_sees_nothing_and_cannot_send(app, client, cora, uploads_on):
    """Shared while a client, then the record is a lead again: the portal shows nothing."""
    document_id = add_file(app, cora["record_id"], cora["staff_id"], title="Plan summary")
    with app.app_context():
        record = db.session.get(Record, cora["record_id"])
        record.kind = RecordKind.LEAD
        db.session.commit()
    client.submit(f"/portal/a/{cora['token']}", {"password": cora["password"]})
    page = client.get("/portal/documents").get_data(as_text=True)
    assert "Plan summary" not in page and 'type="file"' not in page
    assert client.get("/portal/api/documents").get_json()["documents"] == []
    for url in URLS:
        assert fetch(client, url.format(id=document_id)).status_code == 404, url
    assert send(client, [(PDF, "a.pdf")]).status_code == 404
    assert count(app, Document) == 1
    assert count(app, DocumentAccess, DocumentAccess.actor_kind == "client") == 0


def test_without_the_csrf_token_nothing_is_kept(app, signed_in, uploads_on):
    response = signed_in.post(
        "/portal/documents",
        data={"files": [(BytesIO(PDF), "a.pdf")]},
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    assert count(app, Document) == 0


# -- JSON ---------------------------------------------------------------------------------------


def test_api_lists_and_downloads(app, signed_in, cora, others):
    staff = cora["staff_id"]
    pdf = add_file(app, cora["record_id"], staff, title="Plan summary", category="Policy documents")
    link = add_link(app, cora["record_id"], staff)
    listed = signed_in.get("/portal/api/documents").get_json()["documents"]
    by_id = {item["id"]: item for item in listed}
    assert set(by_id) == {pdf, link}
    item = by_id[pdf]
    assert item["title"] == "Plan summary" and item["category"] == "Policy documents"
    assert item["kind"] == "file" and item["size"] == len(PDF)
    assert item["content_type"] == "application/pdf" and item["url"] is None
    assert item["download_url"] == f"/portal/api/documents/{pdf}/download"
    assert item["view_url"] == f"/portal/documents/{pdf}/view"
    assert by_id[link]["url"] == f"/portal/documents/{link}/link"
    assert by_id[link]["download_url"] is None
    response = fetch(signed_in, item["download_url"])
    assert response.status_code == 200 and response.data == PDF
    assert response.headers["Content-Disposition"].startswith("attachment")
    assert len(events(app, "portal.document.downloaded")) == 1
    spec = signed_in.get("/portal/api/openapi.json").get_json()
    assert {"get", "post"} <= set(spec["paths"]["/portal/api/documents"])
    assert "get" in spec["paths"]["/portal/api/documents/{document_id}/download"]


def api_send(client: Any, files: list[tuple[bytes, str]], note: str = "", token: str | None = None):
    headers = {"X-CSRFToken": token} if token else {}
    response = client.post("/portal/api/documents", headers=headers, **multipart(files, note=note))
    return closed(response)


def test_api_upload(app, signed_in, uploads_on):
    token = api_token(signed_in)
    response = api_send(signed_in, [(PDF, "claim.pdf"), (TEXT, "notes")], "Two files", token)
    assert response.status_code == 201
    sent = response.get_json()["documents"]
    assert [d["filename"] for d in sent] == ["claim.pdf", "notes.txt"]
    assert sent[0]["note"] == "Two files" and sent[0]["content_type"] == "application/pdf"
    assert len(events(app, "portal.document.uploaded")) == 1
    # Sent, not shared: not in the list of what the office shared.
    assert signed_in.get("/portal/api/documents").get_json()["documents"] == []


def test_api_upload_refusals_are_json_and_keep_nothing(app, signed_in, uploads_on, monkeypatch):
    before = stored_files(app)
    token = api_token(signed_in)
    assert api_send(signed_in, [(PDF, "a.pdf")]).status_code == 400  # no CSRF header
    response = api_send(signed_in, [(EXE, "policy.pdf")], token=token)
    assert response.status_code == 422
    body = response.get_json()["error"]
    assert body["code"] == 422 and "not accepted" in body["fields"]["files"][0]
    assert api_send(signed_in, [], token=token).get_json()["error"]["fields"] == {
        "files": ["Choose a file to upload."]
    }
    monkeypatch.setitem(app.config, "PORTICO_DOCUMENT_MAX_MB", 1)
    response = api_send(signed_in, [(PDF + b"0" * (1 << 20), "big.pdf")], token=token)
    assert (
        response.status_code == 422
        and "larger than 1 MB" in response.get_json()["error"]["message"]
    )
    response = api_send(signed_in, [(PDF, "a.pdf")], "x" * 2001, token)
    assert response.status_code == 422 and "note" in response.get_json()["error"]["fields"]
    assert count(app, Document) == 0 and stored_files(app) == before


def test_api_upload_is_404_while_uploads_are_off(app, signed_in):
    response = api_send(signed_in, [(PDF, "a.pdf")], token=api_token(signed_in))
    assert response.status_code == 404 and response.get_json()["error"]["code"] == 404
    assert count(app, Document) == 0


def test_sending_is_rate_limited_per_account(app, fresh_minute, signed_in, uploads_on, monkeypatch):
    from portal import limits

    monkeypatch.setattr(limits, "UPLOAD_LIMIT", "2 per minute")
    assert send(signed_in, [(PDF, "a.pdf")]).status_code == 302
    assert send(signed_in, [(PDF, "b.pdf")]).status_code == 302
    assert send(signed_in, [(PDF, "c.pdf")]).status_code == 429
    token = api_token(signed_in)  # the JSON route shares the count: no second allowance
    response = api_send(signed_in, [(PDF, "d.pdf")], token=token)
    assert response.status_code == 429 and response.get_json()["error"]["code"] == 429
    assert count(app, Document) == 2
