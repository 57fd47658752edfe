"""Documents on a record: files checked by their bytes and kept all or nothing, website links,
what a client sees, opens and sends, and the access log with its receipt."""

from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.services import client_documents, document_access, document_sharing, documents
from app.services.actors import Actor
from app.services.errors import NotFound, ValidationError
from app.services.portal_accounts import enable_self_service
from app.services.portal_settings import get_settings
from app.storage import storage
from models import (
    AccessAction,
    ActivityEntry,
    Document,
    DocumentCategory,
    DocumentSource,
    OutboxMessage,
    RecordKind,
    Task,
    db,
)
from tests import factories

PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(32)
EXE = b"MZ\x90\x00\x03\x00\x00\x00" + bytes(120)


def upload(name: str | None, data: bytes = PDF) -> documents.Upload:
    return documents.Upload(io.BytesIO(data), name)


def stored_files(app) -> set[str]:
    """Every file in the folder storage (the fan-out folders may stay; files may not)."""
    root = Path(app.config["PORTICO_INSTANCE_PATH"]) / "uploads"
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}


def stored_bytes(document: Document) -> bytes:
    with storage().open(str(document.storage_key)) as handle:
        return handle.read()


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def entries(key: str) -> list[ActivityEntry]:
    return list(
        db.session.scalars(
            select(ActivityEntry).where(ActivityEntry.event_key == key).order_by(ActivityEntry.id)
        )
    )


def id_card_category() -> DocumentCategory:
    return db.session.scalar(select(DocumentCategory).where(DocumentCategory.is_id_card.is_(True)))


def portal_account(record, staff):
    """Enable self service as staff do; the account, committed."""
    account = enable_self_service(record, staff).account
    db.session.commit()
    return account


def shared_file(record, staff, **share) -> Document:
    """A file added and shared by ``staff``, committed."""
    actor = Actor.staff(staff)
    added = documents.add_files(record, [upload("policy.pdf")], actor=actor)
    document_sharing.share(added, actor=actor, today=documents.office_today(), **share)
    db.session.commit()
    return added[0]


@pytest.fixture
def staff(ctx):
    return factories.staff(email="sid.staff@example.com", first_name="Sid")


@pytest.fixture
def actor(staff):
    return Actor.staff(staff)


@pytest.fixture
def cleo(ctx, staff):
    return factories.record(
        first_name="Cleo", last_name="Client", email="cleo@example.com", assigned_agent_id=staff.id
    )


# -- adding files ------------------------------------------------------------------------------


def test_one_file_is_stored_with_its_sniffed_type_and_logged(app, cleo, actor):
    [document] = documents.add_files(cleo, [upload("Policy 2026.pdf")], actor=actor, title=" Mine ")
    db.session.commit()
    assert (document.title, document.filename) == ("Mine", "Policy 2026.pdf")
    assert (document.content_type, document.size) == ("application/pdf", len(PDF))
    assert document.source == DocumentSource.STAFF and document.shared is False
    assert stored_bytes(document) == PDF
    [entry] = document_access.history(document)
    assert (entry.action, entry.actor_kind, entry.user_id) == (
        AccessAction.UPLOADED,
        "staff",
        actor.user_id,
    )


def test_several_files_are_named_after_themselves(cleo, actor):
    added = documents.add_files(
        cleo, [upload("a.pdf"), upload("b.png", PNG)], actor=actor, title="ignored for many"
    )
    db.session.commit()
    assert [(d.title, d.filename, d.content_type) for d in added] == [
        ("a", "a.pdf", "application/pdf"),
        ("b", "b.png", "image/png"),
    ]


@pytest.mark.parametrize(
    ("given", "data", "kept"),
    [
        ("../../etc/passwd", PDF, "passwd.pdf"),
        ("..\\..\\windows\\win.ini", b"[fonts]\n", "win.ini.txt"),
        ("in\x00vo\x1bice\x07.pdf", PDF, "invoice.pdf"),
        # The right-to-left override would show "harmlessexe.pdf" as "harmlessfdp.exe".
        ("harmless\u202efdp.exe", PDF, "harmlessfdp.exe.pdf"),
        ("photo.pdf", PNG, "photo.pdf.png"),
        (None, PDF, "file.pdf"),
    ],
)
def test_names_are_cleaned_and_keep_the_sniffed_extension(cleo, actor, given, data, kept):
    [document] = documents.add_files(cleo, [upload(given, data)], actor=actor)
    db.session.commit()
    assert document.filename == kept
    assert "/" not in document.title and "\u202e" not in document.title


def test_a_plain_csv_is_kept_as_text_named_csv(cleo, actor):
    [document] = documents.add_files(
        cleo, [upload("premiums.csv", b"plan,premium\nGold,120.50\n")], actor=actor
    )
    assert (document.content_type, document.filename) == ("text/plain", "premiums.csv")
    [renamed] = documents.add_files(cleo, [upload("notes.html", b"just words\n")], actor=actor)
    assert (renamed.content_type, renamed.filename) == ("text/plain", "notes.html.txt")


def test_an_exe_renamed_pdf_is_refused_naming_the_file(app, cleo, actor):
    before = stored_files(app)
    with pytest.raises(ValidationError) as refused:
        documents.add_files(cleo, [upload("invoice.pdf", EXE)], actor=actor)
    assert refused.value.field == "files"
    assert "invoice.pdf" in refused.value.message and ".exe" in refused.value.message
    db.session.commit()
    assert count(Document) == 0 and stored_files(app) == before


@pytest.mark.parametrize(
    "markup",
    [
        b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>",
        b"  <html><body>hi</body></html>",
        b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
        b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>',
        b"\xef\xbb\xbf<script>alert(1)</script>",
        b"<!-- a comment --><p>hello</p>",
        # Fragments a browser sniffing the bytes would also draw as a web page.
        b"<p onclick='alert(1)'>Click for your policy</p>",
        b"<a href='https://evil.example'>policy</a>",
        b"<div><img src=x onerror=alert(1)></div>",
        b"<TITLE>Policy</TITLE>",
    ],
)
def test_html_and_svg_are_refused_never_stored_as_text(app, cleo, actor, markup):
    before = stored_files(app)
    with pytest.raises(ValidationError, match="not accepted"):
        documents.add_files(cleo, [upload("policy.txt", markup)], actor=actor)
    assert count(Document) == 0 and stored_files(app) == before


def test_a_too_large_file_is_refused_with_the_limit(app, cleo, actor, monkeypatch):
    monkeypatch.setitem(app.config, "PORTICO_DOCUMENT_MAX_MB", 1)
    before = stored_files(app)
    big = PDF + bytes(1024 * 1024)
    with pytest.raises(ValidationError, match="larger than 1 MB") as refused:
        documents.add_files(cleo, [upload("scan.pdf", big)], actor=actor)
    assert "scan.pdf" in refused.value.message
    [kept] = documents.add_files(cleo, [upload("fits.pdf", PDF + bytes(1024 * 1000))], actor=actor)
    db.session.commit()
    assert stored_files(app) == before | {f"{kept.storage_key[:2]}/{kept.storage_key}"}


def test_a_batch_with_one_bad_file_keeps_nothing(app, cleo, actor):
    before = stored_files(app)
    batch = [upload("one.pdf"), upload("two.png", PNG), upload("three.pdf", EXE), upload("4.pdf")]
    with pytest.raises(ValidationError, match=r"^three\.pdf: "):
        documents.add_files(cleo, batch, actor=actor)
    # The request commits what a refusal leaves: there is nothing.
    db.session.commit()
    assert count(Document) == 0
    assert stored_files(app) == before


def test_too_many_or_no_files_are_refused(cleo, actor):
    with pytest.raises(ValidationError, match="Choose a file"):
        documents.add_files(cleo, [], actor=actor)
    many = [upload(f"{n}.pdf") for n in range(documents.MAX_FILES + 1)]
    with pytest.raises(ValidationError, match="at most 10 files"):
        documents.add_files(cleo, many, actor=actor)


def test_a_policy_of_another_record_is_refused(cleo, actor):
    other = factories.record()
    their_policy = factories.product(other)
    with pytest.raises(ValidationError, match="policy of this record"):
        documents.add_files(cleo, [upload("a.pdf")], actor=actor, product=their_policy)


# -- links -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "kept"),
    [
        ("https://www.humana.com/policy?id=7", "https://www.humana.com/policy?id=7"),
        ("  http://carrier.example/claims  ", "http://carrier.example/claims"),
        ("carrier.example/forms", "https://carrier.example/forms"),
        ("carrier.example:8443/forms", "https://carrier.example:8443/forms"),
    ],
)
def test_a_website_link_is_kept(cleo, actor, typed, kept):
    link = documents.add_link(cleo, typed, "", actor=actor)
    db.session.commit()
    assert (link.url, link.storage_key, link.is_file) == (kept, None, False)
    assert link.title == kept.split("/")[2].split(":")[0]


@pytest.mark.parametrize(
    "typed",
    [
        "javascript:alert(1)",
        "JavaScript://%0aalert(1)",
        "ftp://files.example/policy.pdf",
        "data:text/html,<script>alert(1)</script>",
        "mailto:claims@carrier.example",
        "https://carrier.example:http/",
        "https://carrier.example/my policy.pdf",
        "https://carrier.example/\tpolicy",
        "",
        None,
        "https://",
    ],
)
def test_a_bad_link_is_refused(cleo, actor, typed):
    with pytest.raises(ValidationError, match="website address") as refused:
        documents.add_link(cleo, typed, "Policy", actor=actor)
    assert refused.value.field == "url"
    assert count(Document) == 0


# -- the client's side --------------------------------------------------------------------------


def test_a_client_sees_only_their_shared_current_documents(staff, actor, cleo):
    today = documents.office_today()
    mine = shared_file(cleo, staff)
    last_day = shared_file(cleo, staff, expires_on=today)
    expired = shared_file(cleo, staff)
    expired.share_expires_on = today - timedelta(days=1)
    unshared = documents.add_files(cleo, [upload("draft.pdf")], actor=actor)[0]
    other = factories.record(email="otto@example.com")
    theirs = shared_file(other, staff)
    lead = factories.record(email="lee@example.com")
    on_lead = shared_file(lead, staff)  # shared while a client, then made a lead
    lead.kind = RecordKind.LEAD
    db.session.commit()

    visible = set(db.session.scalars(client_documents.visible_to_client(cleo.id)))
    assert visible == {mine, last_day}
    account = portal_account(cleo, staff)
    for hidden in (expired, unshared, theirs, on_lead):
        with pytest.raises(NotFound):
            client_documents.for_client(account, hidden.id)
    with pytest.raises(NotFound):
        client_documents.for_client(account, 10**9)
    assert client_documents.for_client(account, last_day.id) == last_day
    assert set(client_documents.shared_with(account)) == {mine, last_day}
    assert set(db.session.scalars(client_documents.visible_to_client(lead.id))) == set()


def test_opening_logs_the_receipt_once_and_emits_an_event(app, staff, cleo):
    account = portal_account(cleo, staff)
    document = shared_file(cleo, staff)
    client_documents.opened_by_client(account, document.id, inline=True)
    db.session.commit()
    first = document.first_opened_at
    assert first is not None
    client_documents.opened_by_client(account, document.id)
    db.session.commit()
    assert document.first_opened_at == first
    actions = [e.action for e in document_access.history(document)]
    assert actions[:2] == [AccessAction.DOWNLOADED, AccessAction.VIEWED]
    [entry, _] = entries("portal.document.downloaded")
    assert entry.record_id == cleo.id and entry.actor_account_id == account.id
    assert entry.details["document_id"] == document.id
    assert entries("portal.id_card.downloaded") == []


def test_an_id_card_download_is_its_own_event(staff, cleo):
    account = portal_account(cleo, staff)
    card = shared_file(cleo, staff)
    card.category = id_card_category()
    card.product = factories.product(cleo, carrier="Harbor Mutual", plan_name="Auto Plus")
    db.session.commit()
    assert client_documents.id_cards(account) == [card]
    client_documents.opened_by_client(account, card.id)
    db.session.commit()
    (entry,) = entries("portal.id_card.downloaded")
    assert entry.details["product"] == str(card.product)
    assert entries("portal.document.downloaded") == []


def test_staff_opening_a_file_sets_no_receipt(app, staff, actor, cleo):
    document = shared_file(cleo, staff)
    with app.test_request_context():
        response = documents.staff_download(document, actor)
        assert response.headers["Content-Disposition"].startswith("attachment;")
        response.close()
    db.session.commit()
    assert document.first_opened_at is None
    assert document_access.history(document)[0].action == AccessAction.DOWNLOADED


def uploads_on(switch: bool) -> None:
    get_settings().module_uploads = switch
    db.session.commit()


def test_client_uploads_are_off_until_the_office_allows_them(app, staff, cleo):
    account = portal_account(cleo, staff)
    uploads_on(False)
    before = stored_files(app)
    with pytest.raises(NotFound):
        client_documents.client_upload(account, [upload("scan.pdf")], "here")
    assert count(Document) == 0 and stored_files(app) == before


def test_a_client_upload_lands_on_the_record_with_one_event(staff, cleo):
    account = portal_account(cleo, staff)
    uploads_on(True)
    tasks_before, mails_before = count(Task), count(OutboxMessage)
    sent = client_documents.client_upload(
        account,
        [upload("id front.png", PNG), upload("id back.png", PNG), upload("letter.pdf")],
        "  My new card  ",
    )
    db.session.commit()
    assert [d.filename for d in sent] == ["id front.png", "id back.png", "letter.pdf"]
    for document in sent:
        assert (document.source, document.shared, document.staff_seen_at) == (
            DocumentSource.CLIENT,
            False,
            None,
        )
        assert (document.uploaded_by_account_id, document.client_note) == (
            account.id,
            "My new card",
        )
        assert document_access.history(document)[0].actor_kind == "client"
    [event] = entries("portal.document.uploaded")
    assert event.details["documents"] == ["id front.png", "id back.png", "letter.pdf"]
    assert event.details["message"] == "My new card"
    assert set(client_documents.sent_by(account)) == set(sent)
    # The default rule: the agent is told by email and gets a task.
    [task] = db.session.scalars(select(Task).where(Task.record_id == cleo.id)).all()
    assert count(Task) == tasks_before + 1 and task.assignee_id == staff.id
    [mail] = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.event_key == "portal.document.uploaded")
    ).all()
    assert mail.recipient == staff.email and count(OutboxMessage) == mails_before + 1
    # Not visible to the client as shared, and staff mark them seen.
    assert client_documents.shared_with(account) == []
    assert documents.mark_seen(sent) == 3 and documents.mark_seen(sent) == 0


def test_a_client_upload_refuses_bad_files_and_long_notes(app, staff, cleo):
    account = portal_account(cleo, staff)
    uploads_on(True)
    before = stored_files(app)
    with pytest.raises(ValidationError, match=r"^bad\.pdf: "):
        client_documents.client_upload(account, [upload("ok.pdf"), upload("bad.pdf", EXE)], "")
    with pytest.raises(ValidationError, match="2,000"):
        client_documents.client_upload(account, [upload("ok.pdf")], "x" * 2001)
    db.session.commit()
    assert count(Document) == 0 and stored_files(app) == before
    assert entries("portal.document.uploaded") == []


def test_a_lead_cannot_upload(staff):
    lead = factories.record(kind=RecordKind.LEAD, email="lena@example.com")
    account = portal_account(lead, staff)
    uploads_on(True)
    with pytest.raises(NotFound):
        client_documents.client_upload(account, [upload("scan.pdf")], None)
    assert client_documents.sent_by(account) == []


# -- access history ------------------------------------------------------------------------------


def test_history_is_newest_first_with_the_address(app, staff, actor, cleo):
    account = portal_account(cleo, staff)
    document = shared_file(cleo, staff)
    with app.test_request_context(
        environ_base={"REMOTE_ADDR": "203.0.113.5", "HTTP_USER_AGENT": "Firefox/130"}
    ):
        client_documents.opened_by_client(account, document.id)
    db.session.commit()
    document_sharing.unshare([document], actor=actor)
    db.session.commit()
    history = document_access.history(document)
    assert [e.action for e in history] == [
        AccessAction.UNSHARED,
        AccessAction.DOWNLOADED,
        AccessAction.SHARED,
        AccessAction.UPLOADED,
    ]
    downloaded = history[1]
    assert (downloaded.ip, downloaded.user_agent, downloaded.account_id) == (
        "203.0.113.5",
        "Firefox/130",
        account.id,
    )
    assert downloaded.actor_label == account.person_name
    assert history[0].ip is None and history[0].user_id == staff.id


def test_only_pdfs_and_pictures_open_in_the_browser(app, cleo, actor):
    pdf, text = documents.add_files(
        cleo, [upload("a.pdf"), upload("b.csv", b"a,b\n1,2\n")], actor=actor
    )
    with app.test_request_context():
        for document, shown in ((pdf, "inline;"), (text, "attachment;")):
            response = documents.download(document, inline=True)
            response.close()
            assert response.headers["Content-Disposition"].startswith(shown)
            assert response.headers["X-Content-Type-Options"] == "nosniff"
    link = documents.add_link(cleo, "https://carrier.example", "Carrier", actor=actor)
    with pytest.raises(NotFound):
        documents.download(link)


def test_an_empty_file_is_refused_by_name(cleo, actor):
    with pytest.raises(ValidationError, match=r"^blank\.pdf: The file is empty"):
        documents.add_files(cleo, [upload("blank.pdf", b"")], actor=actor)


def test_editing_a_link_checks_the_new_address(cleo, actor):
    link = documents.add_link(cleo, "https://carrier.example", "Carrier", actor=actor)
    with pytest.raises(ValidationError, match="website address"):
        documents.edit(
            link, title="Carrier", category=None, product=None, url="javascript:alert(1)"
        )
    with pytest.raises(ValidationError, match="Enter a title"):
        documents.edit(link, title="  ", category=None, product=None)
    documents.edit(link, title="Claims", category=None, product=None, url="carrier.example/claims")
    assert (link.title, link.url) == ("Claims", "https://carrier.example/claims")


def test_titles_lose_invisible_characters_and_refuse_line_breaks(cleo, actor):
    (document,) = documents.add_files(
        cleo, [upload("a.pdf")], actor=actor, title="  Policy\u202e fdp.exe  2027 "
    )
    assert document.title == "Policy fdp.exe 2027"
    with pytest.raises(ValidationError) as refused:
        documents.edit(document, title="Two\nlines", category=None, product=None)
    assert refused.value.field == "title"
