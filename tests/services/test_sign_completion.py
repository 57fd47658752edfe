"""A sign request everyone signed: the sealed signed PDF (signatures at their places, the audit
page, the seal), kept on the record and emailed to each signer; end to end with two signers
in order, at the SMTP server."""

from __future__ import annotations

import hashlib
import io
import time
from datetime import timedelta

import pypdfium2 as pdfium
import pytest
from pypdf import PdfReader
from sqlalchemy import select

from app import pdf
from app.services import documents
from app.services.actors import Actor
from app.services.errors import NotFound, ValidationError
from app.services.signing import access, completion, disclosures, requests, sending, signing
from app.storage import storage
from models import (
    Document,
    OutboxMessage,
    RecordKind,
    SignerStatus,
    SignFieldKind,
    SignRequestSigner,
    SignRequestStatus,
    db,
)
from tests import factories
from tests.conftest import body_of, run_jobs
from tests.services.test_documents import stored_files
from tests.services.test_signing import (
    IP,
    agree,
    client_record,
    co_applicant,
    entries,
    pdf_bytes,
    primary_account,
    sent_request,
    sign,
    typed,
)


def ink_in(data: bytes, page: int, box: tuple[float, float, float, float]) -> int:
    """Dark pixels inside ``box`` (fractions of the page, origin top-left) of the rendered
    page."""
    document = pdfium.PdfDocument(data)
    try:
        image = document[page].render(scale=100 / 72).to_pil().convert("L")
    finally:
        document.close()
    x, y, w, h = box
    crop = image.crop(
        (
            int(x * image.width),
            int(y * image.height),
            int((x + w) * image.width),
            int((y + h) * image.height),
        )
    )
    return sum(crop.histogram()[:128])


def text_of(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


@pytest.fixture
def signed_pair(ctx):
    """Both signers of an in-order request signed: the primary drew, the co-applicant typed."""
    record = client_record()
    primary_account(record)
    contact, _co = co_applicant(record)
    request, _ = sent_request(
        record, [None, contact], fields=[(1, SignFieldKind.TEXT, True, "Policy number")]
    )
    first, second = request.signers
    [number] = [f for f in request.fields if f.kind == SignFieldKind.TEXT]
    sign(first)
    sign(second, signature=typed("Carl Client"), values={number.id: "H123-45"})
    db.session.commit()
    return request


def test_the_signed_pdf_has_the_signatures_at_their_places_an_audit_page_and_a_seal(signed_pair):
    request = signed_pair
    first, second = request.signers
    assert request.status == SignRequestStatus.SIGNED and request.completed_at is not None
    data = completion.signed_pdf_bytes(request)
    original = completion.original_pdf_bytes(request)
    pages = len(PdfReader(io.BytesIO(original)).pages)
    assert len(PdfReader(io.BytesIO(data)).pages) > pages  # the audit trail follows
    # Each signature lies in its own box; the page around them stays blank.
    assert ink_in(data, 0, (0.1, 0.5, 0.4, 0.1)) > 50
    assert ink_in(data, 0, (0.1, 0.7, 0.4, 0.1)) > 50
    assert ink_in(data, 0, (0.6, 0.5, 0.35, 0.3)) == 0
    assert ink_in(original, 0, (0.1, 0.5, 0.4, 0.3)) == 0
    assert "H123-45" in text_of(data)
    audit = " ".join(
        " ".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages[pages:]).split()
    )
    version = str(disclosures.current().version)
    for expected in (
        first.name,
        first.email,
        second.name,
        second.email,
        request.original_sha256,
        hashlib.sha256(original).hexdigest(),
        f"#{request.id}",
        f"disclosure version {version}",
        IP,
    ):
        assert expected in audit, expected
    assert pdf.verify(data).ok
    changed = bytearray(data)
    middle = len(changed) // 2
    changed[middle] = (changed[middle] + 1) % 256
    assert not pdf.verify(bytes(changed)).ok


def test_the_signed_pdf_is_a_shared_document_of_the_client_and_the_event_is_logged(signed_pair):
    request = signed_pair
    document = request.signed_document
    assert document.record_id == request.record_id and document.shared
    assert document.title == "Broker of record letter (signed)"
    assert document.filename.endswith(".pdf") and document.content_type == "application/pdf"
    [entry] = entries("sign_request.completed")
    assert entry.record_id == request.record_id and entry.details["sign_request"] == request.id
    mails = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.template_key == "sign.completed")
    ).all()
    assert sorted(m.recipient for m in mails) == sorted(s.email for s in request.signers)
    assert {m.attachment_document_id for m in mails} == {document.id}


def test_completing_again_changes_nothing(signed_pair):
    request = signed_pair
    before = request.signed_document
    assert completion.complete(request) is before
    assert (
        db.session.scalar(
            select(db.func.count(Document.id)).where(Document.title.like("%(signed)"))
        )
        == 1
    )
    assert len(entries("sign_request.completed")) == 1


def test_a_leads_signed_pdf_is_kept_unshared(ctx):
    record = client_record(kind=RecordKind.LEAD)
    request, _ = sent_request(record, [None])
    sign(request.signers[0], signature=typed())
    assert request.status == SignRequestStatus.SIGNED and not request.signed_document.shared


def test_a_completion_rolled_back_leaves_no_file_and_the_retry_completes(app, ctx):
    record = client_record()
    request, _ = sent_request(record, [None])
    request_id, signer_id = request.id, request.signers[0].id
    before = stored_files(app)
    sign(request.signers[0])
    assert stored_files(app) - before  # put in storage while the transaction runs
    db.session.rollback()
    assert stored_files(app) == before
    signer = access.signer_for_account(primary_account(record), signer_id)
    assert (
        signer.status != SignerStatus.SIGNED and signer.request.status != SignRequestStatus.SIGNED
    )
    db.session.commit()
    sign(signer)
    db.session.commit()
    assert len(stored_files(app) - before) == 1
    assert signer.request.id == request_id and signer.request.status == SignRequestStatus.SIGNED


def test_an_original_whose_file_is_gone_is_refused_with_a_sentence(ctx):
    """The last signature cannot be drawn into a file that is gone: the signer reads why,
    rather than meeting a server error."""
    record = client_record()
    request, _ = sent_request(record, [None])
    storage().delete(str(request.document.storage_key))
    with pytest.raises(ValidationError, match="could not be completed"):
        sign(request.signers[0], signature=typed())


def test_no_signed_pdf_before_everyone_signed(ctx):
    record = client_record()
    contact, _co = co_applicant(record)
    request, _ = sent_request(record, [None, contact], in_order=False)
    sign(request.signers[0])
    assert completion.complete(request) is None
    with pytest.raises(NotFound):
        completion.signed_pdf_bytes(request)


# -- the staff Verify page ---------------------------------------------------------------------


def test_verify_upload_reads_a_sealed_pdf_and_refuses_other_files(signed_pair):
    data = completion.signed_pdf_bytes(signed_pair)
    assert completion.verify_upload(documents.Upload(io.BytesIO(data), "signed.pdf")).ok
    assert not completion.verify_upload(documents.Upload(io.BytesIO(pdf_bytes()), "x.pdf")).ok
    for refused, message in ((b"GIF89a...", "not a PDF"), (b"", "Choose a PDF")):
        with pytest.raises(ValidationError, match=message):
            completion.verify_upload(documents.Upload(io.BytesIO(refused), "x.pdf"))


def test_verify_upload_refuses_files_over_25_mb(ctx, monkeypatch):
    monkeypatch.setattr(completion, "MAX_VERIFY_BYTES", 1000)
    with pytest.raises(ValidationError, match="larger"):
        completion.verify_upload(documents.Upload(io.BytesIO(b"%PDF-" + b"0" * 1000), "x.pdf"))


# -- end to end ----------------------------------------------------------------------------------


def test_two_signers_in_order_end_to_end_with_the_emails_at_the_smtp_server(app, ctx, mailbox):
    agent = factories.staff(email="ada.agent@example.com", first_name="Ada")
    record = factories.record(
        first_name="Cleo", last_name="Client", email="cleo@example.com", assigned_agent_id=agent.id
    )
    primary = primary_account(record)
    contact, co = co_applicant(record)
    db.session.commit()
    run_jobs(app)
    mailbox.clear()

    actor = Actor.staff(agent)
    request = requests.start(
        record,
        actor=actor,
        title="Broker of record letter",
        message="Please sign both of you.",
        signers=[requests.SignerChoice(None), requests.SignerChoice(contact.id)],
        in_order=True,
        expires_on=documents.office_today() + timedelta(days=14),
        remind_every_days=None,
        upload=documents.Upload(io.BytesIO(pdf_bytes()), "bor.pdf"),
    )
    requests.place_fields(
        request,
        [
            {
                "page": 0,
                "x": 0.1,
                "y": 0.6,
                "width": 0.4,
                "height": 0.1,
                "kind": "signature",
                "signer": 0,
            },
            {
                "page": 0,
                "x": 0.55,
                "y": 0.6,
                "width": 0.3,
                "height": 0.05,
                "kind": "date_signed",
                "signer": 0,
            },
            {
                "page": 0,
                "x": 0.1,
                "y": 0.8,
                "width": 0.4,
                "height": 0.1,
                "kind": "signature",
                "signer": 1,
            },
        ],
    )
    sending.send(request, actor=actor)
    db.session.commit()
    run_jobs(app)

    # Only the primary applicant hears first.
    [invite] = mail_to(mailbox, "cleo@example.com")
    assert not mailbox.to(contact.email)
    link = next(w for w in body_of(invite).split() if "/sign/link/" in w)
    first = access.signer_by_token(link.rstrip("/").rsplit("/", 1)[-1])
    assert first is not None and first == access.signer_for_account(primary, first.id)
    sign(first)
    db.session.commit()
    run_jobs(app)
    [second_invite] = mail_to(mailbox, contact.email)
    token = next(w for w in body_of(second_invite).split() if "/sign/link/" in w).rsplit("/", 1)[-1]
    second = access.signer_by_token(token)
    assert second is not None and second == access.signer_for_account(co, second.id)
    with pytest.raises(NotFound):  # cross-signer: the co-applicant cannot act for the primary
        access.signer_for_account(co, first.id)
    sign(second, signature=typed("Carl Client"))
    db.session.commit()
    assert request.status == SignRequestStatus.SIGNED
    mailbox.clear()
    run_jobs(app)

    completed = [
        m
        for signer in request.signers
        for m in mail_to(mailbox, signer.email)
        if "Signed:" in str(m["Subject"])
    ]
    assert sorted(str(m["To"]) for m in completed) == sorted(
        f"{s.name} <{s.email}>" for s in request.signers
    )
    sealed = completion.signed_pdf_bytes(request)
    for mail in completed:
        [attached] = list(mail.iter_attachments())
        assert attached.get_content_type() == "application/pdf"
        assert attached.get_content() == sealed
    assert pdf.verify(sealed).ok
    [day] = [f for f in request.fields if f.kind == SignFieldKind.DATE_SIGNED]
    assert day.value and day.value in text_of(sealed)
    assert ink_in(sealed, 0, (0.1, 0.6, 0.4, 0.1)) > 50  # drawn
    assert ink_in(sealed, 0, (0.1, 0.8, 0.4, 0.1)) > 50  # typed
    assert first.status == second.status == SignerStatus.SIGNED
    assert with_storage_key(request.signed_document)


def mail_to(mailbox, address: str, timeout: float = 10.0) -> list:
    """The messages to ``address`` at the SMTP server, once there is one (others, such as
    the agent's notices, may arrive in any order)."""
    deadline = time.monotonic() + timeout
    while not mailbox.to(address) and time.monotonic() < deadline:
        time.sleep(0.05)
    return mailbox.to(address)


def with_storage_key(document: Document) -> bool:
    with storage().open(str(document.storage_key)) as handle:
        return handle.read(5) == b"%PDF-"


def test_the_signer_actor_and_ip_are_in_the_signed_event(signed_pair):
    request = signed_pair
    events = entries("portal.sign_request.signed")
    assert len(events) == 2
    assert {e.actor_label for e in events} == {s.name for s in request.signers}
    assert all(signing.signer_actor(s).account_id for s in request.signers)


def test_two_last_signers_finishing_at_once_complete_the_request_once(app, ctx):
    """All at once, both sign in the same instant: the request's row lock takes them one
    after the other, so the second sees the first's signature and completes, once."""
    import threading

    record = client_record()
    contact, _co = co_applicant(record)
    request, _ = sent_request(record, [None, contact], in_order=False)
    for signer in request.signers:
        agree(signer)
    db.session.commit()
    request_id, ids = request.id, [signer.id for signer in request.signers]
    start, failures = threading.Barrier(2), []

    def finish(signer_id: int) -> None:
        with app.app_context():
            try:
                signer = db.session.get(SignRequestSigner, signer_id)
                assert signer is not None and len(signer.request.signers) == 2
                start.wait()
                sign(signer)
                db.session.commit()
            except Exception as error:  # reported below, with the other thread's outcome
                failures.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=finish, args=(signer_id,)) for signer_id in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert failures == []
    db.session.expire_all()
    request = db.session.get(type(request), request_id)
    assert request.status == SignRequestStatus.SIGNED and request.signed_document is not None
    assert len(entries("sign_request.completed")) == 1
    assert len(entries("portal.sign_request.signed")) == 2
