"""Documents under attack: what a client, a stranger or a staff member of the wrong role can
reach or make happen through every document route, page and JSON answer; markup typed into
titles, names, notes and categories stays text; files answer with the headers that keep a
browser from running them."""

from __future__ import annotations

from io import BytesIO
from typing import Any

import pytest
from sqlalchemy import func, select

from app.services import client_documents, documents
from models import (
    AccessAction,
    AccountStatus,
    Contact,
    ContactRole,
    Document,
    DocumentAccess,
    DocumentCategory,
    OutboxMessage,
    PortalAccount,
    db,
)
from tests import factories
from tests.conftest import login
from tests.views import test_portal_documents as portal
from tests.views.test_portal_documents import (
    PDF,
    PNG,
    TEXT,
    add_file,
    add_link,
    change,
    closed,
    fetch,
    multipart,
    send,
    set_uploads,
    stored_files,
)

cora = portal.cora
signed_in = portal.signed_in
uploads_on = portal.uploads_on

#: Markup a person could type where the portal or the staff panel shows text.
MARKUP = '<img src=x onerror="alert(1)">'


def count(app: Any, model: Any, *where: Any) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def page_of(record_id: int) -> str:
    return f"/admin/record/details/?id={record_id}"


# -- what a download answers with ---------------------------------------------------------------


def assert_file_headers(response: Any) -> None:
    headers = response.headers
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert "no-store" in headers["Cache-Control"]
    csp = headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "\n" not in headers["Content-Disposition"] and "\r" not in headers["Content-Disposition"]


def test_every_file_answer_carries_the_headers_that_keep_it_inert(
    app, signed_in, cora, agent_client
):
    pdf = add_file(app, cora["record_id"], cora["staff_id"])
    for url in (
        f"/portal/documents/{pdf}/download",
        f"/portal/documents/{pdf}/view",
        f"/portal/api/documents/{pdf}/download",
    ):
        response = fetch(signed_in, url)
        assert response.status_code == 200, url
        assert_file_headers(response)
    for url in (f"/admin/document/{pdf}/download/", f"/admin/document/{pdf}/view/"):
        response = fetch(agent_client, url)
        assert response.status_code == 200, url
        assert_file_headers(response)


def test_a_name_cannot_add_to_the_content_disposition_header(app, signed_in, cora):
    name = 'bill"; filename="evil.html\r\nSet-Cookie: a=b;.pdf'
    document_id = add_file(app, cora["record_id"], cora["staff_id"], name=name)
    response = fetch(signed_in, f"/portal/documents/{document_id}/download")
    disposition = response.headers["Content-Disposition"]
    assert "Set-Cookie" not in response.headers
    assert disposition.count('"') == 2 and disposition.startswith('attachment; filename="')
    assert 'filename="evil.html' not in disposition


def test_a_client_upload_opens_inline_for_staff_only_when_pdf_or_picture(
    app, signed_in, uploads_on, agent_client
):
    assert send(signed_in, [(TEXT, "notes.txt"), (PNG, "photo.png")]).status_code == 302
    with app.app_context():
        kept = {d.filename: d.id for d in db.session.scalars(select(Document))}
    text = fetch(agent_client, f"/admin/document/{kept['notes.txt']}/view/")
    assert text.headers["Content-Disposition"].startswith("attachment")
    picture = fetch(agent_client, f"/admin/document/{kept['photo.png']}/view/")
    assert picture.headers["Content-Disposition"].startswith("inline")
    assert picture.headers["Content-Type"] == "image/png"


# -- markup stays text --------------------------------------------------------------------------


def test_markup_in_titles_names_notes_and_categories_is_shown_as_text(
    app, signed_in, cora, uploads_on, agent_client
):
    with app.app_context():
        db.session.add(DocumentCategory(name=MARKUP[:80], is_id_card=True))
        db.session.commit()
    shared = add_file(app, cora["record_id"], cora["staff_id"], PNG, f"{MARKUP}.png", title=MARKUP)
    change(app, shared, category_id=_category_id(app, MARKUP[:80]))
    assert send(signed_in, [(PDF, f"{MARKUP}.pdf")], MARKUP).status_code == 302
    pages = [
        signed_in.get("/portal/documents"),
        signed_in.get("/portal/home"),
        agent_client.get(page_of(cora["record_id"])),
        agent_client.get("/admin/document/"),
        agent_client.get("/admin/document_inbox/"),
        agent_client.get(f"/admin/document/{shared}/history/"),
        agent_client.get(f"/admin/document/{shared}/edit-document/"),
        agent_client.get(f"/admin/document/notify/?document_id={shared}"),
        agent_client.get(f"/portal/preview/{cora['record_id']}/documents"),
    ]
    for response in pages:
        assert response.status_code == 200, response.request.path
        text = response.get_data(as_text=True)
        assert "<img src=x" not in text, response.request.path
    listed = signed_in.get("/portal/api/documents").get_json()["documents"]
    assert listed[0]["title"] == MARKUP  # JSON carries the text; the page script sets text


def _category_id(app: Any, name: str) -> int:
    with app.app_context():
        return db.session.scalar(select(DocumentCategory.id).where(DocumentCategory.name == name))


def test_the_row_an_upload_answers_with_is_escaped(app, agent_client, cora):
    token = agent_client.csrf_token(page_of(cora["record_id"]))
    response = agent_client.post(
        f"/admin/document/record/{cora['record_id']}/upload/",
        data={"csrf_token": token, "title": MARKUP, "files": [(BytesIO(PDF), "a.pdf")]},
        content_type="multipart/form-data",
        headers={"Accept": "application/json"},
    )
    [row] = response.get_json()["documents"]
    assert "<img src=x" not in row["row"] and "&lt;img src=x" in row["row"]


# -- links go only to web addresses --------------------------------------------------------------


@pytest.mark.parametrize(
    "url", ["javascript:alert(document.cookie)", "data:text/html,<script>alert(1)</script>"]
)
def test_a_link_that_is_not_a_web_address_is_never_followed(
    app, signed_in, cora, agent_client, url
):
    """Addresses are checked when staff type them; one that got into the database another
    way (an import, a hand edit) is still not where the portal or the staff panel sends anyone."""
    link = add_link(app, cora["record_id"], cora["staff_id"])
    change(app, link, url=url)
    assert fetch(signed_in, f"/portal/documents/{link}/link").status_code == 404
    assert count(app, DocumentAccess, DocumentAccess.action == AccessAction.VIEWED) == 0
    response = fetch(agent_client, f"/admin/document/{link}/download/")
    assert response.status_code == 404 and "Location" not in response.headers
    tab = agent_client.get(page_of(cora["record_id"])).get_data(as_text=True)
    row = tab.split(f'id="document-{link}"')[1].split("</tr>")[0]
    assert 'href="javascript:' not in row and 'href="data:' not in row
    assert 'href="https://' not in row  # shown as text, not a link


def test_a_link_goes_to_the_web_address_only_for_its_client(app, signed_in, cora):
    with app.app_context():
        otto = factories.record(first_name="Otto", last_name="Other").id
    theirs = add_link(app, otto, cora["staff_id"], "https://elsewhere.example/x")
    response = fetch(signed_in, f"/portal/documents/{theirs}/link")
    assert response.status_code == 404 and "Location" not in response.headers


# -- CSRF on every POST -------------------------------------------------------------------------


def test_every_staff_document_post_needs_the_csrf_token(app, agent_client, cora, mailbox):
    document_id = add_file(app, cora["record_id"], cora["staff_id"], share=False)
    record = cora["record_id"]
    before, sent = stored_files(app), count(app, OutboxMessage)
    posts = {
        f"/admin/document/record/{record}/upload/": {"files": [(BytesIO(PDF), "a.pdf")]},
        f"/admin/document/record/{record}/link/": {"url": "https://x.example", "title": "x"},
        f"/admin/document/record/{record}/bulk/": {
            "operation": "share",
            "document_id": str(document_id),
        },
        f"/admin/document/{document_id}/delete-document/": {},
        f"/admin/document/{document_id}/edit-document/": {"title": "Changed"},
        "/admin/document/notify/": {"document_id": str(document_id), "channel": "email"},
        "/admin/document/action/": {"action": "share", "rowid": str(document_id)},
        "/admin/document/delete/": {"id": str(document_id)},
    }
    for url, data in posts.items():
        response = agent_client.post(url, data=data, content_type="multipart/form-data")
        assert response.status_code == 400, url
        closed(response)
    with app.app_context():
        [document] = db.session.scalars(select(Document))
        assert document.title != "Changed" and not document.shared
    assert count(app, Document) == 1 and stored_files(app) == before
    assert count(app, OutboxMessage) == sent


def test_the_portal_upload_page_and_json_need_the_csrf_token(app, signed_in, uploads_on):
    for url in ("/portal/documents", "/portal/api/documents"):
        response = closed(signed_in.post(url, **multipart([(PDF, "a.pdf")], note="n")))
        assert response.status_code == 400, url
    assert count(app, Document) == 0


# -- GET changes nothing but the access log ------------------------------------------------------


def test_opening_the_notice_dialog_by_address_sends_nothing(app, agent_client, cora, mailbox):
    document_id = add_file(app, cora["record_id"], cora["staff_id"])
    sent = count(app, OutboxMessage)
    for url in (
        f"/admin/document/notify/?document_id={document_id}&channel=email",
        f"{page_of(cora['record_id'])}&notify={document_id}&channel=email",
    ):
        assert agent_client.get(url).status_code == 200, url
    assert count(app, OutboxMessage) == sent
    assert count(app, DocumentAccess, DocumentAccess.action == AccessAction.NOTIFIED) == 0


# -- roles and the preview ----------------------------------------------------------------------


def test_staff_without_a_role_reach_no_document(app, client, cora):
    document_id = add_file(app, cora["record_id"], cora["staff_id"])
    with app.app_context():
        nobody = factories.staff(role="agent", email="norole@example.com")
        nobody.roles = []
        db.session.commit()
    assert login(client, "norole@example.com", factories.PASSWORD).status_code == 302
    for url in (
        f"/admin/document/{document_id}/download/",
        f"/admin/document/{document_id}/history/",
        "/admin/document/",
        "/admin/document_category/",
    ):
        assert client.get(url).status_code == 403, url
    assert count(app, DocumentAccess, DocumentAccess.action == AccessAction.DOWNLOADED) == 0


def test_agents_cannot_change_categories(app, agent_client):
    with app.app_context():
        category = db.session.scalar(select(DocumentCategory).order_by(DocumentCategory.id))
        category_id, name = category.id, category.name
    token = agent_client.csrf_token(page_of(factories_record(app)))
    for url, data in (
        ("/admin/document_category/new/", {"name": "Mine", "is_id_card": "y"}),
        (f"/admin/document_category/edit/?id={category_id}", {"name": "Renamed"}),
        ("/admin/document_category/delete/", {"id": str(category_id)}),
    ):
        response = agent_client.post(url, data={**data, "csrf_token": token})
        assert response.status_code == 403, url
    with app.app_context():
        assert db.session.get(DocumentCategory, category_id).name == name
        assert (
            db.session.scalar(select(DocumentCategory).where(DocumentCategory.name == "Mine"))
            is None
        )


def factories_record(app: Any) -> int:
    with app.app_context():
        return factories.record().id


def test_the_preview_offers_staff_nothing_to_do_as_the_client(app, agent_client, cora):
    set_uploads(app, True)
    try:
        add_file(app, cora["record_id"], cora["staff_id"], PNG, "card.png", category="ID cards")
        add_link(app, cora["record_id"], cora["staff_id"])
        for screen in ("documents", "home"):
            page = agent_client.get(f"/portal/preview/{cora['record_id']}/{screen}")
            text = page.get_data(as_text=True)
            assert "/download" not in text and "/link" not in text and "/view" not in text
            assert 'type="file"' not in text and 'portal/documents"' not in text
        refused = agent_client.post(
            f"/portal/preview/{cora['record_id']}/documents",
            data={"csrf_token": agent_client.csrf_token(page_of(cora["record_id"]))},
        )
        assert refused.status_code in (403, 405)
        # The client's own routes do not know staff.
        assert fetch(agent_client, "/portal/api/documents").status_code == 401
    finally:
        set_uploads(app, False)
    assert count(app, DocumentAccess, DocumentAccess.actor_kind == "client") == 0


# -- request sizes --------------------------------------------------------------------------------


def test_only_signed_in_people_may_send_an_upload_sized_request(
    app, signed_in, uploads_on, agent_client, cora, monkeypatch
):
    """Upload routes take ten files' worth in one request; for anyone not signed in (nothing
    they send is kept) the body is refused at the request limit before it is read."""
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 1 << 20)
    monkeypatch.setitem(app.config, "PORTICO_DOCUMENT_MAX_MB", 2)
    body = multipart([(PDF + b"0" * (1536 << 10), "big.pdf")], note="n")
    record_upload = f"/admin/document/record/{cora['record_id']}/upload/"
    for url in ("/portal/documents", "/portal/api/documents", record_upload):
        stranger = app.test_client()
        assert closed(stranger.post(url, **body)).status_code == 413, url
    # A client signed in to the portal is a stranger to the staff upload, and the other way.
    assert closed(signed_in.post(record_upload, **body)).status_code == 413
    assert closed(agent_client.post("/portal/documents", **body)).status_code == 413
    # Signed in where they upload, the body is read (and refused here without its token).
    assert closed(signed_in.post("/portal/documents", **body)).status_code == 400
    assert closed(agent_client.post(record_upload, **body)).status_code == 400
    assert count(app, Document) == 0


# -- where staff are sent back to ----------------------------------------------------------------


@pytest.mark.parametrize(
    "back", ["javascript:alert(1)", "//evil.example/x", "https://evil.example/x", "/\\evil.example"]
)
def test_the_notice_dialog_sends_staff_back_only_within_portico(
    app, agent_client, cora, mailbox, back
):
    document_id = add_file(app, cora["record_id"], cora["staff_id"])
    page = agent_client.get(f"/admin/document/notify/?document_id={document_id}&url={back}")
    text = page.get_data(as_text=True)
    assert "evil.example" not in text and 'href="javascript:alert' not in text
    response = agent_client.submit(
        "/admin/document/notify/",
        {"document_id": str(document_id), "channel": "", "url": back},
        page="/admin/document/",
    )
    assert response.status_code == 302
    assert "evil.example" not in response.headers["Location"]
    assert not response.headers["Location"].startswith("javascript:")


# -- people sharing a record ---------------------------------------------------------------------


def test_sent_by_you_lists_only_what_this_person_sent(app, signed_in, cora, uploads_on):
    """A contact person with their own portal access is on the client's record: what the
    client sent the office (names, notes) is not theirs to read, nor theirs the client's."""
    with app.app_context():
        helper = Contact(
            record_id=cora["record_id"],
            role=ContactRole.CONTACT_PERSON,
            first_name="Hal",
            last_name="Helper",
        )
        db.session.add(helper)
        db.session.flush()
        account = PortalAccount(
            record_id=cora["record_id"],
            contact_id=helper.id,
            status=AccountStatus.ENABLED,
            generation=0,
            failed_attempts=0,
        )
        db.session.add(account)
        db.session.flush()
        client_documents.client_upload(
            account, [documents.Upload(BytesIO(PDF), "hal-payslip.pdf")], "Hal's own pay"
        )
        db.session.commit()
        helper_id = account.id
    assert send(signed_in, [(PDF, "cora-claim.pdf")], "Cora's claim").status_code == 302
    page = signed_in.get("/portal/documents").get_data(as_text=True)
    assert "cora-claim.pdf" in page and "Cora&#39;s claim" in page
    assert "hal-payslip" not in page and "Hal&#39;s own pay" not in page
    with app.app_context():
        helper_account = db.session.get(PortalAccount, helper_id)
        sent = [d.filename for d in client_documents.sent_by(helper_account)]
    assert sent == ["hal-payslip.pdf"]


#: Access entries that are a client opening a document (not uploads, shares or notices).
OPENS = DocumentAccess.action.in_([AccessAction.VIEWED, AccessAction.DOWNLOADED])


def test_another_site_cannot_make_a_client_open_a_document(app, signed_in, cora):
    """A page elsewhere that points the signed-in client's browser at a download (an image,
    a link) would log a receipt "seen by the client" and an event: a cross-site request
    opens nothing and logs nothing; the client lands on their Documents page."""
    pdf = add_file(app, cora["record_id"], cora["staff_id"])
    link = add_link(app, cora["record_id"], cora["staff_id"], "https://carrier.example/claims")
    elsewhere = {"Sec-Fetch-Site": "cross-site"}
    for url in (
        f"/portal/documents/{pdf}/download",
        f"/portal/documents/{pdf}/view",
        f"/portal/documents/{link}/link",
    ):
        response = signed_in.get(url, headers=elsewhere)
        assert response.status_code == 302 and response.headers["Location"] == "/portal/documents"
    response = signed_in.get(f"/portal/api/documents/{pdf}/download", headers=elsewhere)
    assert response.status_code == 403 and response.get_json()["error"]["code"] == 403
    assert count(app, DocumentAccess, OPENS) == 0
    with app.app_context():
        assert db.session.get(Document, pdf).first_opened_at is None
    # From the portal itself (or a bookmark) it opens as ever.
    response = signed_in.get(
        f"/portal/documents/{pdf}/download", headers={"Sec-Fetch-Site": "same-origin"}
    )
    response.get_data()
    response.close()
    assert response.status_code == 200 and count(app, DocumentAccess, OPENS) == 1


def test_opening_documents_is_rate_limited_per_account(app, signed_in, cora, monkeypatch):
    from portal import limits

    monkeypatch.setattr(limits, "READ_LIMIT", "3 per minute")
    pdf = add_file(app, cora["record_id"], cora["staff_id"])
    statuses = [fetch(signed_in, f"/portal/documents/{pdf}/download").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    assert count(app, DocumentAccess, OPENS) == 3


def test_a_client_made_a_lead_again_is_not_told_of_documents_it_cannot_open(app, cora):
    from app.services import document_sharing
    from app.services.actors import Actor
    from models import Record, RecordKind, User

    pdf = add_file(app, cora["record_id"], cora["staff_id"])
    with app.app_context():
        before = db.session.scalar(select(func.count()).select_from(OutboxMessage))
        db.session.get(Record, cora["record_id"]).kind = RecordKind.LEAD
        staff = db.session.get(User, cora["staff_id"])
        outcome = document_sharing.notify(
            [db.session.get(Document, pdf)],
            document_sharing.EMAIL,
            actor=Actor.staff(staff),
            today=documents.office_today(),
        )
        assert outcome.done == []
        assert [why for _doc, why in outcome.refused] == [document_sharing.LEAD_REFUSAL]
        assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == before
        db.session.rollback()
