"""Sign requests, the staff side: drafts, sending with personal links (checked at the SMTP
server), signers in order or all at once, cancelling, reminding, refusals that say what to fix,
and the document a request is signing kept from removal."""

from __future__ import annotations

import hashlib
import io
import re
from datetime import UTC, date, datetime, timedelta

import pytest
from pypdf import PdfReader, PdfWriter
from sqlalchemy import func, select

from app.services import documents
from app.services.actors import Actor
from app.services.errors import NotFound, ValidationError
from app.services.signing import pdf_files, saved_layouts
from app.services.signing import requests as sign_requests
from models import (
    Document,
    OutboxMessage,
    SignerStatus,
    SignRequest,
    SignRequestStatus,
    db,
)
from tests import factories, sign_factories
from tests.conftest import body_of, run_jobs
from tests.services.test_documents import entries

LINK = re.compile(r"http://portico\.test/portal/sign/link/([A-Za-z0-9_-]+)")
Choice = sign_requests.SignerChoice


@pytest.fixture
def staff(ctx):
    sign_factories.link_route()
    return factories.staff(email="sid.staff@example.com", first_name="Sid")


@pytest.fixture
def actor(staff):
    return Actor.staff(staff)


@pytest.fixture
def paula(staff):
    return factories.record(
        first_name="Paula",
        last_name="Primary",
        email="paula@example.com",
        assigned_agent_id=staff.id,
    )


@pytest.fixture
def today(ctx):
    return documents.office_today()


def start(record, actor, today, **more):
    values = {
        "actor": actor,
        "title": "Broker of record letter",
        "message": "Please sign where marked.",
        "signers": [Choice(None)],
        "in_order": True,
        "expires_on": today + timedelta(days=14),
        "remind_every_days": None,
    }
    values.update(more)
    if not {"upload", "document", "template"} & more.keys():
        values["upload"] = sign_factories.upload()
    return sign_requests.start(record, **values)


def outbox_count() -> int:
    return db.session.scalar(select(func.count()).select_from(OutboxMessage))


def link_token(mail) -> str:
    found = LINK.search(body_of(mail))
    assert found, body_of(mail)
    return found.group(1)


# -- drafts -------------------------------------------------------------------------------------


def test_a_new_request_is_a_draft_nobody_hears_of(actor, paula, today):
    request = start(paula, actor, today)
    db.session.commit()
    assert request.status == SignRequestStatus.DRAFT
    [signer] = request.signers
    assert (signer.name, signer.email, signer.status) == (
        "Paula Primary",
        "paula@example.com",
        SignerStatus.WAITING,
    )
    assert signer.token_hash is None and signer.notified_at is None
    assert outbox_count() == 0
    assert entries("staff.sign_request.sent") == []
    # The upload is a new, unshared document of the record, and its pages are known.
    document = request.document
    assert document.record_id == paula.id and not document.shared
    assert document.content_type == "application/pdf" and document.category_id is None
    assert len(request.pages) == 2 and request.pages[0][0] == pytest.approx(595.28, abs=0.1)
    assert request.original_sha256 == hashlib.sha256(sign_factories.pdf_bytes()).hexdigest()


def test_expiry_is_the_end_of_the_day_in_office_time(app, actor, paula, today, monkeypatch):
    monkeypatch.setitem(app.config, "PORTICO_TIMEZONE", "America/New_York")
    request = start(paula, actor, today, expires_on=date(2027, 1, 15))
    db.session.commit()
    assert request.expires_at == datetime(2027, 1, 16, 4, 59, 59, tzinfo=UTC)
    assert sign_requests.expires_on(request) == date(2027, 1, 15)


def test_a_draft_is_discarded_but_a_sent_request_is_cancelled(actor, paula, today):
    draft = start(paula, actor, today)
    document_id = draft.document_id
    sign_requests.discard(draft)
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(SignRequest)) == 0
    assert db.session.get(Document, document_id) is not None
    sent = sign_factories.sign_request(paula, actor=actor)
    with pytest.raises(ValidationError, match="Only a draft"):
        sign_requests.discard(sent)


# -- refusals that say what to fix --------------------------------------------------------------


def test_signers_are_refused_with_a_sentence(actor, paula, today):
    nobody = sign_factories.contact_person(paula, email="", first_name="Nina", last_name="Nomail")
    with pytest.raises(ValidationError, match="at least one signer") as error:
        start(paula, actor, today, signers=[])
    assert error.value.field == "signers"
    with pytest.raises(ValidationError, match="each signer once"):
        start(paula, actor, today, signers=[Choice(None), Choice(None)])
    with pytest.raises(ValidationError, match="Nina Nomail has no email address"):
        start(paula, actor, today, signers=[Choice(nobody.id)])
    stranger = sign_factories.contact_person(factories.record())
    with pytest.raises(ValidationError, match="this record's people"):
        start(paula, actor, today, signers=[Choice(stranger.id)])


def test_dates_and_reminders_are_checked(actor, paula, today):
    with pytest.raises(ValidationError, match="from today on") as error:
        start(paula, actor, today, expires_on=today - timedelta(days=1))
    assert error.value.field == "expires_on"
    with pytest.raises(ValidationError, match="within a year"):
        start(paula, actor, today, expires_on=today + timedelta(days=366))
    for days in (0, 31):
        with pytest.raises(ValidationError, match="1 to 30 days"):
            start(paula, actor, today, remind_every_days=days)
    assert start(paula, actor, today, expires_on=today, remind_every_days=30).id


def test_exactly_one_pdf_source(actor, paula, today):
    [existing] = documents.add_files(paula, [sign_factories.upload()], actor=actor)
    with pytest.raises(ValidationError, match="Choose one PDF") as error:
        start(paula, actor, today, upload=sign_factories.upload(), document=existing)
    assert error.value.field == "file"
    with pytest.raises(ValidationError, match="Choose one PDF"):
        start(paula, actor, today, upload=None)


@pytest.mark.parametrize(
    ("data", "says"),
    [
        (b"%PDF-1.7 this is not really a PDF", "PDF"),
        (b"Hello, plain text", "PDF"),
    ],
)
def test_a_broken_or_foreign_file_is_refused_at_upload(actor, paula, today, data, says):
    with pytest.raises(ValidationError, match=says) as error:
        start(paula, actor, today, upload=sign_factories.upload(data, "letter.pdf"))
    assert error.value.field == "file"
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Document)) == 0


def test_an_encrypted_pdf_is_refused_with_a_message(actor, paula, today):
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(sign_factories.pdf_bytes())))
    writer.encrypt("secret")
    buffer = io.BytesIO()
    writer.write(buffer)
    with pytest.raises(ValidationError, match="password") as error:
        start(paula, actor, today, upload=sign_factories.upload(buffer.getvalue()))
    assert error.value.field == "file"


def test_a_pdf_over_the_page_limit_is_refused(app, actor, paula, today, monkeypatch):
    monkeypatch.setitem(app.config, "PORTICO_SIGN_MAX_PAGES", 3)
    with pytest.raises(ValidationError, match="3") as error:
        start(paula, actor, today, upload=sign_factories.upload(sign_factories.pdf_bytes(4)))
    assert error.value.field == "file"
    assert start(paula, actor, today, upload=sign_factories.upload(sign_factories.pdf_bytes(3)))


def test_an_existing_document_must_be_a_pdf_of_the_record(actor, paula, today):
    [mine] = documents.add_files(paula, [sign_factories.upload()], actor=actor)
    request = start(paula, actor, today, document=mine)
    assert request.document_id == mine.id and len(request.pages) == 2
    other = factories.record()
    [theirs] = documents.add_files(other, [sign_factories.upload()], actor=actor)
    with pytest.raises(ValidationError, match="of this record"):
        start(paula, actor, today, document=theirs)
    picture = documents.add_link(paula, "https://carrier.example.com/form", "Form", actor=actor)
    with pytest.raises(ValidationError, match="Choose a PDF"):
        start(paula, actor, today, document=picture)


def test_sending_refuses_a_signer_without_a_signature_field(actor, paula, today):
    co = sign_factories.co_applicant(paula)
    request = start(paula, actor, today, signers=[Choice(None), Choice(co.id)])
    sign_requests.place_fields(
        request,
        [
            {
                "page": 0,
                "x": 0.1,
                "y": 0.8,
                "width": 0.3,
                "height": 0.05,
                "kind": "signature",
                "signer": 0,
            },
            {
                "page": 0,
                "x": 0.5,
                "y": 0.8,
                "width": 0.3,
                "height": 0.05,
                "kind": "date_signed",
                "signer": 1,
            },
        ],
    )
    with pytest.raises(ValidationError, match="Signer 2 has no signature field"):
        sign_requests.send(request, actor=actor)
    assert request.status == SignRequestStatus.DRAFT


# -- sending ------------------------------------------------------------------------------------


def test_in_order_only_the_first_signer_is_emailed_with_a_working_link(app, mailbox, actor, paula):
    co = sign_factories.co_applicant(paula, email="cody@example.com")
    request = sign_factories.sign_request(paula, signers=[None, co], in_order=True, actor=actor)
    first, second = request.signers
    assert request.status == SignRequestStatus.SENT
    assert (first.status, second.status) == (SignerStatus.SENT, SignerStatus.WAITING)
    assert second.token_hash is None and second.notified_at is None
    run_jobs(app)
    [mail] = mailbox.wait_for(1)
    assert mailbox.wait_for(2, timeout=0.5) == [mail]
    assert "paula@example.com" in mail["To"] and "Broker of record letter" in mail["Subject"]
    body = body_of(mail)
    assert "Please sign where marked." in body and "Paula Primary" in body
    assert hashlib.sha256(link_token(mail).encode()).hexdigest() == first.token_hash
    [event] = entries("staff.sign_request.sent")
    assert event.record_id == paula.id and event.details["signers"] == [
        "Paula Primary",
        "Cody Coapplicant",
    ]


def test_the_next_signer_is_told_when_their_turn_comes(app, mailbox, actor, paula):
    co = sign_factories.co_applicant(paula, email="cody@example.com")
    request = sign_factories.sign_request(paula, signers=[None, co], actor=actor)
    run_jobs(app)
    mailbox.wait_for(1)
    mailbox.clear()
    first, second = request.signers
    first.status, first.token_hash = SignerStatus.SIGNED, None
    sign_requests.notify_next(request)
    db.session.commit()
    assert second.status == SignerStatus.SENT and second.notified_at is not None
    run_jobs(app)
    [mail] = mailbox.wait_for(1)
    assert "cody@example.com" in mail["To"]
    assert hashlib.sha256(link_token(mail).encode()).hexdigest() == second.token_hash
    sign_requests.notify_next(request)  # nobody waits any more: nothing happens
    assert outbox_count() == 2


def test_all_at_once_emails_everyone(app, mailbox, actor, paula):
    co = sign_factories.co_applicant(paula, email="cody@example.com")
    person = sign_factories.contact_person(paula, email="connie@example.com")
    request = sign_factories.sign_request(
        paula, signers=[None, co, person], in_order=False, actor=actor
    )
    assert {s.status for s in request.signers} == {SignerStatus.SENT}
    assert len({s.token_hash for s in request.signers}) == 3
    run_jobs(app)
    mails = mailbox.wait_for(3)
    assert sorted(str(m["To"]).split("<")[-1].rstrip(">") for m in mails) == [
        "cody@example.com",
        "connie@example.com",
        "paula@example.com",
    ]


def test_sending_twice_is_refused(actor, paula):
    request = sign_factories.sign_request(paula, actor=actor)
    with pytest.raises(ValidationError, match="sent already"):
        sign_requests.send(request, actor=actor)
    with pytest.raises(ValidationError, match="no longer change"):
        sign_requests.place_fields(request, [])


def test_a_draft_past_its_expiry_cannot_be_sent(actor, paula):
    request = sign_factories.sign_request(paula, actor=actor, send=False)
    request.expires_at = request.created_at - timedelta(minutes=1)
    with pytest.raises(ValidationError, match="expiry date has passed"):
        sign_requests.send(request, actor=actor)


# -- reminding and cancelling ------------------------------------------------------------------


def test_remind_now_sends_a_fresh_link_to_whose_turn_it_is(app, mailbox, actor, paula):
    co = sign_factories.co_applicant(paula, email="cody@example.com")
    request = sign_factories.sign_request(paula, signers=[None, co], actor=actor)
    old = request.signers[0].token_hash
    assert sign_requests.remind_now(request, actor=actor) == 1
    db.session.commit()
    first, second = request.signers
    assert first.token_hash != old and first.reminded_at is not None
    assert second.reminded_at is None
    run_jobs(app)
    mails = mailbox.wait_for(2)
    reminder = next(m for m in mails if "Reminder" in m["Subject"])
    assert "paula@example.com" in reminder["To"]
    assert hashlib.sha256(link_token(reminder).encode()).hexdigest() == first.token_hash
    assert not [m for m in mails if "cody@example.com" in m["To"]]


def test_cancelling_ends_every_link(actor, paula):
    co = sign_factories.co_applicant(paula)
    request = sign_factories.sign_request(paula, signers=[None, co], actor=actor)
    sign_requests.cancel(request, actor=actor)
    db.session.commit()
    assert request.status == SignRequestStatus.CANCELLED and request.cancelled_at is not None
    assert {s.status for s in request.signers} == {SignerStatus.CANCELLED}
    assert {s.token_hash for s in request.signers} == {None}
    assert [e.record_id for e in entries("staff.sign_request.cancelled")] == [paula.id]
    with pytest.raises(ValidationError, match="cancelled"):
        sign_requests.cancel(request, actor=actor)
    with pytest.raises(ValidationError, match="reminded"):
        sign_requests.remind_now(request, actor=actor)


# -- the document under a request ---------------------------------------------------------------


def test_the_document_under_a_draft_or_open_request_cannot_be_removed(actor, paula):
    draft = sign_factories.sign_request(paula, actor=actor, send=False)
    with pytest.raises(ValidationError, match="out for signature"):
        documents.remove(draft.document)
    sign_requests.send(draft, actor=actor)
    with pytest.raises(ValidationError, match="cancel its sign request first"):
        documents.remove(draft.document)
    sign_requests.cancel(draft, actor=actor)
    documents.remove(draft.document)
    db.session.commit()
    assert draft.document_id is None


# -- the signature page -------------------------------------------------------------------------


def test_a_signature_page_is_added_in_one_click(actor, paula, today):
    co = sign_factories.co_applicant(paula)
    request = start(paula, actor, today, signers=[Choice(None), Choice(co.id)])
    sign_requests.place_fields(
        request,
        [
            {
                "page": 0,
                "x": 0.1,
                "y": 0.1,
                "width": 0.2,
                "height": 0.04,
                "kind": "text",
                "signer": 0,
                "label": "Policy number",
            }
        ],
    )
    before = request.document
    sign_requests.add_signature_page(request)
    db.session.commit()
    assert len(request.pages) == 3 and request.document_id != before.id
    assert db.session.get(Document, before.id) is not None
    data = pdf_files.original_bytes(request)
    assert len(PdfReader(io.BytesIO(data)).pages) == 3
    assert request.original_sha256 == hashlib.sha256(data).hexdigest()
    on_page = [(f.kind.value, f.signer.position) for f in request.fields if f.page == 2]
    assert sorted(on_page) == [
        ("date_signed", 0),
        ("date_signed", 1),
        ("signature", 0),
        ("signature", 1),
    ]
    assert [f.label for f in request.fields if f.page == 0] == ["Policy number"]
    for field in request.fields:
        assert field.x >= 0 and field.x + field.width <= 1 and field.y + field.height <= 1
    sign_requests.send(request, actor=actor)
    assert request.status == SignRequestStatus.SENT


# -- saved layouts and the workflow action ------------------------------------------------------


def test_a_saved_layout_sends_in_one_step(app, mailbox, actor, paula):
    co = sign_factories.co_applicant(paula, email="cody@example.com")
    first = sign_factories.sign_request(paula, signers=[None, co], actor=actor, send=False)
    sign_requests.send(first, actor=actor, save_as_template="Broker of record letter")
    db.session.commit()
    [template] = saved_layouts.all_layouts()
    assert template.signer_roles == ["primary", "co_applicant"]
    other = factories.record(first_name="Olga", email="olga@example.com")
    with pytest.raises(ValidationError, match="has no co-applicant"):
        sign_requests.send_from_template(template, other, actor=actor)
    sign_factories.co_applicant(other, email="oscar@example.com", first_name="Oscar")
    request = sign_requests.send_from_template(template, other, actor=actor)
    db.session.commit()
    assert request.status == SignRequestStatus.SENT and request.template_id == template.id
    assert request.document.record_id == other.id
    assert [s.email for s in request.signers] == ["olga@example.com", "oscar@example.com"]
    assert sorted((f.kind.value, f.signer.email) for f in request.fields) == sorted(
        (f.kind.value, {0: "olga@example.com", 1: "oscar@example.com"}[f.signer.position])
        for f in first.fields
    )
    assert sign_requests.expires_on(request) == documents.office_today() + timedelta(
        days=template.expires_in_days
    )


def test_a_signer_without_email_stops_the_workflow_with_a_sentence(actor, paula):
    request = sign_factories.sign_request(paula, actor=actor, send=False)
    template = saved_layouts.save_from_request(request, "Disclosure", actor=actor)
    nomail = factories.record(first_name="Ned", last_name="Nomail", email=None)
    with pytest.raises(ValidationError, match="Ned Nomail has no email address"):
        sign_requests.send_from_template(template, nomail, actor=actor)


# -- reading ------------------------------------------------------------------------------------


def test_eligible_signers_name_who_can_sign(actor, paula):
    person = sign_factories.contact_person(paula, email="", first_name="Nina")
    co = sign_factories.co_applicant(paula, email="cody@example.com")
    people = sign_requests.eligible_signers(paula)
    assert people == [
        (Choice(None), "Paula Primary", "paula@example.com"),
        (Choice(co.id), "Cody Coapplicant", "cody@example.com"),
        (Choice(person.id), person.full_name, None),
    ]


def test_staff_read_requests_newest_first_and_unknown_ids_are_not_found(actor, paula):
    first = sign_factories.sign_request(paula, actor=actor)
    second = sign_factories.sign_request(paula, actor=actor, send=False)
    assert [r.id for r in sign_requests.for_record(paula)] == [second.id, first.id]
    assert sign_requests.get_for_staff(first.id) is first
    with pytest.raises(NotFound):
        sign_requests.get_for_staff(first.id + 100)
