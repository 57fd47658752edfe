"""Staff documents in the admin panel: the record's Documents tab (upload, links, Actions, the
notification dialog), the documents list and its inbox, categories, history and downloads.
Every change is a real form post with its CSRF token."""

from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.services import document_sharing, documents
from app.services.actors import Actor
from app.services.portal_accounts import enable_self_service
from models import (
    AccessAction,
    Channel,
    Document,
    DocumentAccess,
    DocumentCategory,
    DocumentSource,
    OutboxMessage,
    Record,
    RecordKind,
    User,
    db,
    utcnow,
)
from tests import factories
from tests.conftest import run_jobs

PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(32)
EXE = b"MZ\x90\x00\x03\x00\x00\x00" + bytes(120)


def page_of(record_id: int) -> str:
    return f"/admin/record/details/?id={record_id}"


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def stored_files(app) -> set[str]:
    root = Path(app.config["PORTICO_INSTANCE_PATH"]) / "uploads"
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}


def files(*named: tuple[str, bytes]) -> list[tuple[io.BytesIO, str]]:
    return [(io.BytesIO(data), name) for name, data in named]


def all_documents(app) -> list[Document]:
    with app.app_context():
        return list(db.session.scalars(select(Document).order_by(Document.id)))


@pytest.fixture
def cleo(app) -> int:
    with app.app_context():
        return factories.record(first_name="Cleo", last_name="Client", email="cleo@example.com").id


def upload(client, record_id: int, *named: tuple[str, bytes], **fields) -> object:
    return client.submit(
        f"/admin/document/record/{record_id}/upload/",
        {"files": files(*named), **fields},
        page=page_of(record_id),
        content_type="multipart/form-data",
        follow_redirects=True,
    )


def add_pdfs(app, record_id: int, user_email: str, n: int) -> list[int]:
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == user_email))
        record = db.session.get(Record, record_id)
        added = documents.add_files(
            record,
            [documents.Upload(io.BytesIO(PDF), f"policy {i}.pdf") for i in range(n)],
            actor=Actor.staff(user),
        )
        db.session.commit()
        return [document.id for document in added]


def bulk(client, record_id: int, operation: str, ids: list[int], **fields):
    return client.submit(
        f"/admin/document/record/{record_id}/bulk/",
        {"operation": operation, "document_id": [str(i) for i in ids], **fields},
        page=page_of(record_id),
        follow_redirects=True,
    )


# -- upload and links --------------------------------------------------------------------------


def test_upload_one_file_with_title_category_and_policy(app, agent_client, cleo):
    with app.app_context():
        record = db.session.get(Record, cleo)
        policy = factories.product(record, carrier="Aetna", plan_name="Gold").id
        category = db.session.scalar(
            select(DocumentCategory.id).where(DocumentCategory.name == "Policy documents")
        )
    response = upload(
        agent_client,
        cleo,
        ("scan.pdf", PDF),
        title="Policy 2027",
        category_id=str(category),
        product_id=str(policy),
    )
    html = response.get_data(as_text=True)
    assert "Uploaded 1 file." in html
    assert "Policy 2027" in html and "scan.pdf" in html and "Policy: Aetna · Gold" in html
    [document] = all_documents(app)
    assert (document.title, document.category_id, document.product_id) == (
        "Policy 2027",
        category,
        policy,
    )
    assert document.source == DocumentSource.STAFF and not document.shared


def test_upload_several_files_at_once_names_each_after_itself(app, agent_client, cleo):
    response = upload(agent_client, cleo, ("a.pdf", PDF), ("b.png", PNG), title="ignored")
    assert "Uploaded 2 files." in response.get_data(as_text=True)
    assert sorted(d.title for d in all_documents(app)) == ["a", "b"]


def test_the_script_gets_json_with_the_new_row(app, agent_client, cleo):
    response = agent_client.submit(
        f"/admin/document/record/{cleo}/upload/",
        {"files": files(("one.pdf", PDF))},
        page=page_of(cleo),
        content_type="multipart/form-data",
        headers={"Accept": "application/json"},
    )
    assert response.status_code == 200
    body = response.get_json()
    assert body["ok"] is True
    [row] = body["documents"]
    assert row["filename"] == "one.pdf" and 'id="document-' in row["row"]


def test_an_exe_renamed_pdf_is_refused_and_nothing_is_kept(app, agent_client, cleo):
    before = stored_files(app)
    response = upload(agent_client, cleo, ("good.pdf", PDF), ("invoice.pdf", EXE))
    html = response.get_data(as_text=True)
    assert "invoice.pdf" in html and "not accepted" in html
    assert all_documents(app) == [] and stored_files(app) == before
    json = agent_client.submit(
        f"/admin/document/record/{cleo}/upload/",
        {"files": files(("invoice.pdf", EXE))},
        page=page_of(cleo),
        content_type="multipart/form-data",
        headers={"Accept": "application/json"},
    )
    assert json.status_code == 400 and "not accepted" in json.get_json()["error"]


def multipart(fields: dict[str, object]) -> dict[str, object]:
    """A multipart body built by hand: the test client's own spills big bodies into a
    temporary file that it never closes."""
    boundary = "portico-test-boundary"
    parts = []
    for name, value in fields.items():
        if isinstance(value, tuple):
            filename, content = value
            head = f'Content-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
            head += "Content-Type: application/pdf\r\n"
        else:
            head = f'Content-Disposition: form-data; name="{name}"\r\n'
            content = str(value).encode()
        parts.append(f"--{boundary}\r\n{head}\r\n".encode() + content + b"\r\n")
    body = b"".join(parts) + f"--{boundary}--\r\n".encode()
    return {"data": body, "content_type": f"multipart/form-data; boundary={boundary}"}


def test_a_too_large_file_gets_the_clear_message(app, agent_client, cleo):
    kept = app.config["PORTICO_DOCUMENT_MAX_MB"], app.config["MAX_CONTENT_LENGTH"]
    app.config["PORTICO_DOCUMENT_MAX_MB"] = 1
    # The request limit is below the file: the upload's own limit is what lets it in.
    app.config["MAX_CONTENT_LENGTH"] = 1 << 20
    url = f"/admin/document/record/{cleo}/upload/"
    token = agent_client.csrf_token(page_of(cleo))
    try:
        response = agent_client.post(
            url,
            **multipart({"csrf_token": token, "files": ("scan.pdf", PDF + bytes(1 << 20))}),
            headers={"Accept": "application/json"},
        )
        assert response.status_code == 400
        assert response.get_json()["error"] == (
            "scan.pdf: The file is larger than 1 MB; upload a smaller one."
        )
        # Far more than MAX_FILES files of the limit is refused before it is read.
        huge = agent_client.post(
            url, **multipart({"csrf_token": token, "files": ("huge.pdf", PDF + bytes(12 << 20))})
        )
        assert huge.status_code == 413
    finally:
        app.config["PORTICO_DOCUMENT_MAX_MB"], app.config["MAX_CONTENT_LENGTH"] = kept
    assert all_documents(app) == []


def test_add_a_link_and_a_bad_link_is_refused(app, agent_client, cleo):
    url = f"/admin/document/record/{cleo}/link/"
    bad = agent_client.submit(
        url, {"url": "javascript:alert(1)", "title": "x"}, page=page_of(cleo), follow_redirects=True
    )
    assert "Enter a website address such as" in bad.get_data(as_text=True)
    assert all_documents(app) == []
    good = agent_client.submit(
        url,
        {"url": "www.carrier.example/claims", "title": "Claims form"},
        page=page_of(cleo),
        follow_redirects=True,
    )
    html = good.get_data(as_text=True)
    assert "Added the link Claims form." in html and "https://www.carrier.example/claims" in html
    [link] = all_documents(app)
    assert link.url == "https://www.carrier.example/claims"


# -- actions -----------------------------------------------------------------------------------


def test_share_with_expiry_then_unshare(app, agent_client, agent_user, cleo):
    [doc] = add_pdfs(app, cleo, agent_user.email, 1)
    with app.app_context():
        until = documents.office_today() + timedelta(days=30)
    response = bulk(agent_client, cleo, "share", [doc], expires_on=until.isoformat())
    html = response.get_data(as_text=True)
    assert f"Shared 1 document with the client until {until.isoformat()}." in html
    assert "Email the client" in html and "Text the client" in html
    assert 'id="pt-notify-modal"' in html  # the dialog, over the record's Documents tab
    assert "has no mobile number or has not agreed to texts" in html
    page = agent_client.get(page_of(cleo)).get_data(as_text=True)
    assert f"until {until.isoformat()}" in page and "Not opened yet" in page
    [shared] = all_documents(app)
    assert shared.shared and shared.share_expires_on == until

    later = until + timedelta(days=5)
    response = bulk(agent_client, cleo, "expiry", [doc], expires_on=later.isoformat())
    assert "1 shared document now shown until" in response.get_data(as_text=True)
    assert all_documents(app)[0].share_expires_on == later

    response = bulk(agent_client, cleo, "unshare", [doc])
    assert "Unshared 1 document" in response.get_data(as_text=True)
    assert not all_documents(app)[0].shared


def test_an_expired_share_is_labelled(app, agent_client, agent_user, cleo):
    [doc] = add_pdfs(app, cleo, agent_user.email, 1)
    with app.app_context():
        document = db.session.get(Document, doc)
        document.shared = True
        document.share_expires_on = documents.office_today() - timedelta(days=1)
        db.session.commit()
    page = agent_client.get(page_of(cleo)).get_data(as_text=True)
    assert '<span class="badge badge-secondary">expired</span>' in page
    listing = agent_client.get("/admin/document/?flt0_expired_is=1").get_data(as_text=True)
    assert "policy 0" in listing
    listing = agent_client.get("/admin/document/?flt0_expired_is=0").get_data(as_text=True)
    assert "policy 0" not in listing


def test_an_expiry_in_the_past_is_refused(app, agent_client, agent_user, cleo):
    [doc] = add_pdfs(app, cleo, agent_user.email, 1)
    with app.app_context():
        past = documents.office_today() - timedelta(days=1)
    response = bulk(agent_client, cleo, "share", [doc], expires_on=past.isoformat())
    assert "Choose an expiry day from today on." in response.get_data(as_text=True)
    assert not all_documents(app)[0].shared


def test_sharing_on_a_lead_is_refused_with_why(app, agent_client, agent_user):
    with app.app_context():
        lead = factories.record(kind=RecordKind.LEAD, first_name="Lee", last_name="Lead").id
    ids = add_pdfs(app, lead, agent_user.email, 2)
    response = bulk(agent_client, lead, "share", ids)
    html = response.get_data(as_text=True)
    assert html.count(document_sharing.LEAD_REFUSAL) >= 2
    assert "Not shared: policy 0 (Lee Lead)" in html and "Email the client" not in html
    assert not any(d.shared for d in all_documents(app))


def enable_portal(app, record_id: int, user_email: str, mailbox) -> None:
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == user_email))
        enable_self_service(db.session.get(Record, record_id), user)
        db.session.commit()
    run_jobs(app)
    mailbox.clear()


def test_bulk_share_of_three_then_email_sends_one_message(app, agent_client, agent_user, mailbox):
    with app.app_context():
        cleo = factories.record(first_name="Cleo", last_name="Client", email="cleo@example.com").id
    enable_portal(app, cleo, agent_user.email, mailbox)
    ids = add_pdfs(app, cleo, agent_user.email, 3)
    dialog = bulk(agent_client, cleo, "share", ids)
    assert "Shared 3 documents with the client." in dialog.get_data(as_text=True)
    response = agent_client.submit(
        "/admin/document/notify/",
        {"channel": "email", "document_id": [str(i) for i in ids], "url": page_of(cleo)},
        page=page_of(cleo),
        follow_redirects=True,
    )
    assert "Sent an email about 3 documents to 1 client: Cleo Client." in response.get_data(
        as_text=True
    )
    run_jobs(app)
    received = mailbox.wait_for(1)
    assert len(received) == 1 and "cleo@example.com" in received[0]["To"]
    with app.app_context():
        notices = db.session.scalars(
            select(DocumentAccess).where(DocumentAccess.action == AccessAction.NOTIFIED)
        ).all()
        assert sorted(n.document_id for n in notices) == ids
        assert {n.detail for n in notices} == {"email"}


def test_notify_by_text_goes_to_the_mobile(app, agent_client, agent_user, mailbox):
    with app.app_context():
        cleo = factories.record(email="cleo@example.com", mobile="+12025550143", sms_opt_in=True).id
    enable_portal(app, cleo, agent_user.email, mailbox)
    ids = add_pdfs(app, cleo, agent_user.email, 2)
    dialog = bulk(agent_client, cleo, "share", ids).get_data(as_text=True)
    assert "has not agreed to texts" not in dialog
    with app.app_context():
        before = count(OutboxMessage)
    response = agent_client.submit(
        "/admin/document/notify/",
        {"channel": "text", "document_id": [str(i) for i in ids], "url": page_of(cleo)},
        page=page_of(cleo),
        follow_redirects=True,
    )
    assert "Sent a text about 2 documents" in response.get_data(as_text=True)
    run_jobs(app)
    with app.app_context():
        texts = db.session.scalars(
            select(OutboxMessage).where(OutboxMessage.channel == Channel.SMS)
        ).all()
        assert [t.recipient for t in texts] == ["+12025550143"]
        assert count(OutboxMessage) == before + 1
    assert mailbox.messages == []


def test_cancel_sends_nothing_and_refusals_say_why(app, agent_client, agent_user, mailbox, cleo):
    ids = add_pdfs(app, cleo, agent_user.email, 2)
    dialog = bulk(agent_client, cleo, "share", ids).get_data(as_text=True)
    assert 'class="btn btn-link mb-1">Cancel</a>' in dialog
    with app.app_context():
        before = count(OutboxMessage)
    agent_client.get(page_of(cleo))  # Cancel is a link back: nothing is posted
    # Without portal access the notice is refused, document by document.
    response = agent_client.submit(
        "/admin/document/notify/",
        {"channel": "email", "document_id": [str(i) for i in ids], "url": page_of(cleo)},
        page=page_of(cleo),
        follow_redirects=True,
    )
    html = response.get_data(as_text=True)
    assert html.count("The client has no portal access: enable self service first.") == 2
    run_jobs(app)
    with app.app_context():
        assert count(OutboxMessage) == before
    assert mailbox.messages == []


def test_the_list_shares_in_bulk_and_offers_the_dialog(app, agent_client, agent_user, cleo):
    ids = add_pdfs(app, cleo, agent_user.email, 3)
    response = agent_client.submit(
        "/admin/document/action/",
        {"action": "share", "rowid": [str(i) for i in ids], "url": "/admin/document/"},
        page="/admin/document/",
        follow_redirects=True,
    )
    html = response.get_data(as_text=True)
    assert "Shared 3 documents with the client." in html and "Email the client" in html
    assert 'id="pt-notify-dialog"' in html  # a page of its own: the rows may be many records'
    listing = agent_client.get("/admin/document/?flt0_shared_equals=1").get_data(as_text=True)
    assert listing.count("Not opened yet") == 3
    opened = agent_client.get("/admin/document/?flt0_not_yet_opened_is=1").get_data(as_text=True)
    assert opened.count("Not opened yet") == 3
    agent_client.submit(
        "/admin/document/action/",
        {"action": "unshare", "rowid": [str(ids[0])], "url": "/admin/document/"},
        page="/admin/document/",
    )
    assert [d.shared for d in all_documents(app)] == [False, True, True]


# -- the rest of a row: history, downloads, edit, delete -------------------------------------


def test_download_view_and_history(app, agent_client, agent_user, cleo):
    [doc] = add_pdfs(app, cleo, agent_user.email, 1)
    with agent_client.get(f"/admin/document/{doc}/download/") as download:
        assert download.status_code == 200 and download.data == PDF
        assert download.headers["Content-Disposition"].startswith("attachment")
    with agent_client.get(f"/admin/document/{doc}/view/") as shown:
        assert shown.headers["Content-Disposition"].startswith("inline")
        assert shown.data == PDF
    history = agent_client.get(f"/admin/document/{doc}/history/").get_data(as_text=True)
    assert "Access history of policy 0" in history
    # Uploaded, downloaded, viewed: who, what, from where.
    assert history.count('Ari Agent <span class="small text-muted">staff</span>') == 3
    assert "Downloaded" in history and "Viewed" in history and "127.0.0.1" in history
    assert agent_client.get("/admin/document/999999/history/").status_code == 404


def test_a_client_receipt_shows_on_the_tab(app, agent_client, agent_user, cleo):
    [doc] = add_pdfs(app, cleo, agent_user.email, 1)
    with app.app_context():
        document = db.session.get(Document, doc)
        document.shared = True
        document.first_opened_at = utcnow().replace(hour=15, minute=12)
        db.session.commit()
    page = agent_client.get(page_of(cleo)).get_data(as_text=True)
    assert "Seen by the client on" in page and ":12</span>" in page


def test_edit_and_delete_a_document(app, agent_client, agent_user, cleo):
    [doc] = add_pdfs(app, cleo, agent_user.email, 1)
    url = f"/admin/document/{doc}/edit-document/"
    refused = agent_client.submit(url, {"title": " "}, follow_redirects=True)
    assert "Enter a title." in refused.get_data(as_text=True)
    saved = agent_client.submit(url, {"title": "Renamed"}, follow_redirects=True)
    assert "Saved Renamed." in saved.get_data(as_text=True)
    before = stored_files(app)
    deleted = agent_client.submit(
        f"/admin/document/{doc}/delete-document/", page=page_of(cleo), follow_redirects=True
    )
    assert "Deleted Renamed." in deleted.get_data(as_text=True)
    assert all_documents(app) == [] and len(stored_files(app)) == len(before) - 1


def test_the_inbox_lists_new_client_uploads_until_seen(app, agent_client, agent_user, cleo):
    ids = add_pdfs(app, cleo, agent_user.email, 2)
    with app.app_context():
        client_doc = db.session.get(Document, ids[0])
        client_doc.source = DocumentSource.CLIENT
        client_doc.client_note = "My new card"
        client_doc.title = "Card from the client"
        db.session.commit()
    inbox = agent_client.get("/admin/document_inbox/").get_data(as_text=True)
    assert "Card from the client" in inbox and "My new card" in inbox and "policy 1" not in inbox
    tab = agent_client.get(page_of(cleo)).get_data(as_text=True)
    assert "Uploaded by client" in tab and "“My new card”" in tab
    response = bulk(agent_client, cleo, "seen", ids)
    assert "Marked 1 client upload seen." in response.get_data(as_text=True)
    inbox = agent_client.get("/admin/document_inbox/").get_data(as_text=True)
    assert "Card from the client" not in inbox


def test_a_document_of_another_record_is_not_acted_on(app, agent_client, agent_user, cleo):
    with app.app_context():
        other = factories.record().id
    [theirs] = add_pdfs(app, other, agent_user.email, 1)
    response = bulk(agent_client, cleo, "share", [theirs])
    assert "Tick the documents first." in response.get_data(as_text=True)
    assert not all_documents(app)[0].shared


# -- categories and permissions ----------------------------------------------------------------


def test_a_category_in_use_cannot_be_deleted(app, admin_client, admin_user, cleo):
    with app.app_context():
        used = db.session.scalar(
            select(DocumentCategory.id).where(DocumentCategory.name == "Correspondence")
        )
        unused = db.session.scalar(
            select(DocumentCategory.id).where(DocumentCategory.name == "Applications")
        )
    [doc] = add_pdfs(app, cleo, admin_user.email, 1)
    with app.app_context():
        db.session.get(Document, doc).category_id = used
        db.session.commit()
    response = admin_client.submit(
        "/admin/document_category/delete/",
        {"id": str(used), "url": "/admin/document_category/"},
        page="/admin/document_category/",
        follow_redirects=True,
    )
    assert "Correspondence is used by 1 document; untick Active instead" in response.get_data(
        as_text=True
    )
    admin_client.submit(
        "/admin/document_category/delete/",
        {"id": str(unused), "url": "/admin/document_category/"},
        page="/admin/document_category/",
    )
    with app.app_context():
        names = set(db.session.scalars(select(DocumentCategory.name)))
    assert "Correspondence" in names and "Applications" not in names


def test_agents_work_with_documents_but_only_admins_keep_categories(
    app, agent_client, admin_client, cleo
):
    assert agent_client.get("/admin/document_category/").status_code == 403
    assert admin_client.get("/admin/document_category/").status_code == 200
    for url in ("/admin/document/", "/admin/document_inbox/", page_of(cleo)):
        assert agent_client.get(url).status_code == 200
    created = admin_client.submit(
        "/admin/document_category/new/",
        {"name": "Claims", "position": "9", "active": "y"},
        follow_redirects=True,
    )
    assert "Category created." in created.get_data(as_text=True)
    twin = admin_client.submit(
        "/admin/document_category/new/", {"name": "claims", "position": "1"}, follow_redirects=True
    )
    assert "There is already a category called" in twin.get_data(as_text=True)


def test_signed_out_people_reach_nothing(app, client, cleo):
    for url in (
        "/admin/document/",
        f"/admin/document/{cleo}/download/",
        f"/admin/document/{cleo}/history/",
    ):
        assert client.get(url).status_code == 302


def test_the_tab_costs_the_same_however_many_documents(
    app, agent_client, agent_user, cleo, count_queries
):
    with app.app_context():
        few = factories.record().id
    add_pdfs(app, few, agent_user.email, 1)
    add_pdfs(app, cleo, agent_user.email, 10)
    add_pdfs(app, cleo, agent_user.email, 3)
    counts = []
    for record_id in (few, cleo):
        with count_queries() as counter:
            assert agent_client.get(page_of(record_id)).status_code == 200
        counts.append(counter.count)
    assert counts[0] == counts[1], counts


def test_the_list_deletes_through_the_service_file_and_all(app, agent_client, agent_user, cleo):
    [doc] = add_pdfs(app, cleo, agent_user.email, 1)
    before = stored_files(app)
    response = agent_client.submit(
        "/admin/document/delete/",
        {"id": str(doc), "url": "/admin/document/"},
        page="/admin/document/",
        follow_redirects=True,
    )
    assert "Document deleted." in response.get_data(as_text=True)
    assert all_documents(app) == [] and len(stored_files(app)) == len(before) - 1


def test_the_request_limit_of_uploads_fits_the_files_the_service_takes():
    from app.errors import MAX_FILES_PER_REQUEST

    assert MAX_FILES_PER_REQUEST == documents.MAX_FILES
