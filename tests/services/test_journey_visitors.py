"""A visitor's session through a journey, service by service: the welcome form and its PIN
(right, wrong, expired, out of tries), the record the email matches (or the lead it makes),
forms, uploads kept as documents with their hashes, the signature step, step order, a journey
edited halfway, the resume link, and a session id from another browser."""

from __future__ import annotations

import hashlib
import io
import re
from datetime import timedelta

import pytest
from flask import current_app
from pypdf import PdfReader
from sqlalchemy import select
from werkzeug.datastructures import MultiDict
from werkzeug.routing import Rule

from app import pdf
from app.services import documents
from app.services.errors import NotFound, ValidationError
from app.services.journeys import definitions, matching, steps, visitors
from app.services.signing import completion as signed_pdfs
from app.services.signing import disclosures, signing
from app.services.signing.signing_checks import SignatureInput
from app.storage import storage
from models import (
    ActivityEntry,
    Document,
    DocumentSource,
    JourneyField,
    JourneyMilestone,
    JourneySession,
    JourneyStep,
    JourneyUpload,
    LoginCode,
    OutboxMessage,
    RecordKind,
    SessionStatus,
    SignerStatus,
    SignRequestStatus,
    StepKind,
    db,
    utcnow,
)
from tests import factories, sign_factories
from tests.conftest import body_of, run_jobs
from tests.services.test_journey_definitions import journey
from tests.services.test_signing import png

IP, UA = "203.0.113.9", "Mozilla/5.0 (journey test)"
EMAIL = "vera.visitor@example.com"


# -- helpers ----------------------------------------------------------------------------------


def start(item, *, name="Vera Visitor", email=EMAIL, next_url=None) -> JourneySession:
    session = visitors.start(item, name=name, email=email, ip=IP, user_agent=UA, next_url=next_url)
    db.session.commit()
    return session


def pin_sent(to: str = EMAIL) -> str:
    message = db.session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.recipient == to, OutboxMessage.template_key == "journey.pin")
        .order_by(OutboxMessage.id.desc())
    ).first()
    assert message is not None, "no PIN email"
    return re.search(r"\b(\d{6})\b", message.body_text).group(1)


def wrong(code: str) -> str:
    return "000000" if code != "000000" else "111111"


def verify(session, code=None, **more) -> visitors.PinOutcome:
    outcome = visitors.verify_pin(
        session, code if code is not None else pin_sent(session.email), ip=IP, user_agent=UA, **more
    )
    db.session.commit()
    return outcome


def verified(item, **more) -> JourneySession:
    session = start(item, **more)
    assert verify(session).ok
    return session


def stages(session) -> list[str]:
    return sorted(
        db.session.scalars(
            select(JourneyMilestone.stage).where(JourneyMilestone.session_id == session.id)
        )
    )


def trail(session) -> list[str]:
    return [entry["what"] for entry in session.trail]


def answer_form(app, session, index=0, **data):
    step = session.definition["steps"][index]
    ids = [f["id"] for f in step["fields"]]
    values = {f"q{ids[0]}": "POL-123", f"q{ids[1]}": "2027-01-31", f"q{ids[2]}": "y"}
    values.update(data)
    with app.test_request_context(method="POST"):
        form_class = steps.get("form").form_class(step, session)
        form = form_class(formdata=MultiDict(values), meta={"csrf": False})
        assert form.validate(), form.errors
        visitors.save_form(session, index, form, ip=IP)
    db.session.commit()


def png_upload(name="licence.png", data: bytes | None = None) -> documents.Upload:
    return documents.Upload(io.BytesIO(data if data is not None else png()), name)


def slots(session, index=1) -> list[int]:
    return [f["id"] for f in session.definition["steps"][index]["fields"]]


def sign(signer) -> None:
    actor = signing.signer_actor(signer)
    signing.consent(
        signer,
        agreed=True,
        disclosure_version=disclosures.current().version,
        actor=actor,
        ip=IP,
        user_agent=UA,
    )
    signing.finish(
        signer,
        values={},
        signature=SignatureInput("typed", text="Vera Visitor"),
        actor=actor,
        ip=IP,
        user_agent=UA,
    )
    db.session.commit()


@pytest.fixture
def routes(ctx):
    """Until the visitor's pages are registered, rules for the links services build."""
    sign_factories.link_route()
    app = current_app._get_current_object()
    if "journeys.resume" not in {rule.endpoint for rule in app.url_map.iter_rules()}:
        app.url_map.add(Rule("/f/<slug>/resume/<token>", endpoint="journeys.resume"))


# -- starting and the PIN ---------------------------------------------------------------------


def test_the_welcome_form_starts_a_session_and_emails_a_pin(app, ctx, mailbox):
    item = journey(("form", "review"), pin_minutes=15, pin_attempts=3)
    session = start(item, name="  Vera   Visitor ", email="Vera.Visitor@Example.com")
    assert session.status == SessionStatus.STARTED and session.step_index == 0
    assert (session.name, session.email) == ("Vera Visitor", EMAIL)
    assert len(session.public_id) >= 20 and session.version == item.version
    assert session.definition == definitions.snapshot(item)
    assert session.record_id is None  # nothing is looked up before the PIN
    assert trail(session) == ["Welcome form sent", "PIN sent by email"]
    assert session.trail[0]["ip"] == IP and stages(session) == ["started"]
    code_row = db.session.scalars(select(LoginCode).order_by(LoginCode.id.desc())).first()
    assert code_row.max_attempts == 3
    assert code_row.expires_at - code_row.created_at == timedelta(minutes=15)
    code = pin_sent()  # read before delivery: a sent PIN's text is not kept
    run_jobs(app)
    [mail] = mailbox.wait_for(1)
    assert EMAIL in str(mail["To"]) and item.name in str(mail["Subject"])
    assert code in body_of(mail) and "15 minutes" in body_of(mail)


def test_a_closed_or_empty_journey_or_bad_details_start_nothing(ctx):
    with pytest.raises(ValidationError):
        start(journey(("review",), active=False))
    with pytest.raises(ValidationError):
        start(journey(()))
    item = journey(("review",))
    for name, email, field in (("", EMAIL, "name"), ("Vera", "not-an-email", "email")):
        with pytest.raises(ValidationError) as refused:
            start(item, name=name, email=email)
        assert refused.value.field == field
    with pytest.raises(ValidationError) as refused:
        start(item, name="Vera\nBcc: x@example.com")
    assert refused.value.field == "name"
    assert db.session.scalar(select(JourneySession.id)) is None


def test_next_is_kept_only_on_an_allowed_host(ctx):
    item = journey(("review",), redirect_url=None)
    own = current_app.config["PORTICO_BASE_URL"].rstrip("/") + "/thanks"
    assert start(item, next_url=own).definition["redirect_url"] == own
    kept = start(item, next_url="https://evil.example/").definition["redirect_url"]
    assert kept is None


def test_the_right_pin_verifies_the_session_once(ctx):
    item = journey(("form", "review"))
    session = start(item)
    outcome = verify(session)
    assert outcome == visitors.PinOutcome(True, "ok")
    assert session.status == SessionStatus.IN_PROGRESS and session.verified_at is not None
    assert session.record is not None and session.record.email == EMAIL
    assert stages(session) == ["started", "verified"]
    assert trail(session)[-1] == "PIN verified"
    [entry] = db.session.scalars(
        select(ActivityEntry).where(ActivityEntry.event_key == "flow.started")
    ).all()
    assert entry.record_id == session.record_id and entry.actor_label == "Vera Visitor"
    assert verify(session, "123456").reason == "locked"  # the PIN worked once


def test_a_wrong_pin_says_so_until_the_tries_run_out(ctx):
    item = journey(("review",), pin_attempts=2)
    session = start(item)
    code = pin_sent()
    assert verify(session, wrong(code)) == visitors.PinOutcome(False, "wrong")
    assert verify(session, wrong(code)) == visitors.PinOutcome(False, "locked")
    assert verify(session, code) == visitors.PinOutcome(False, "locked")  # not even the right one
    assert session.status == SessionStatus.STARTED and session.record_id is None
    assert trail(session)[-3:] == [
        "PIN wrong",
        "PIN wrong; no tries left",
        "PIN refused: no tries left",
    ]
    with pytest.raises(ValidationError, match="start again"):
        visitors.send_pin(session)  # a new PIN would give as many tries again
    assert stages(session) == ["started"]


def test_an_expired_pin_is_refused_and_a_new_one_works(ctx):
    item = journey(("review",), pin_minutes=5)
    session = start(item)
    code = pin_sent()
    later = utcnow() + timedelta(minutes=5, seconds=1)
    assert verify(session, code, now=later) == visitors.PinOutcome(False, "expired")
    assert trail(session)[-1] == "PIN refused: expired"
    visitors.send_pin(session, IP)
    db.session.commit()
    assert verify(session, code).reason == "wrong"  # replaced by the new one
    visitors.send_pin(session, IP)
    db.session.commit()
    assert verify(session).ok


# -- the record the email matches ---------------------------------------------------------------


def test_a_client_is_matched_before_a_newer_lead_with_the_same_email(ctx):
    client = factories.record(kind=RecordKind.CLIENT, email="VERA.visitor@example.com")
    factories.record(kind=RecordKind.LEAD, email=EMAIL)
    session = verified(journey(("review",)))
    assert session.record_id == client.id


def test_an_existing_lead_is_matched(ctx):
    lead = factories.record(kind=RecordKind.LEAD, email=EMAIL)
    assert verified(journey(("review",))).record_id == lead.id


def test_an_unknown_email_makes_a_lead_for_the_journeys_user(ctx):
    agent = factories.staff()
    item = journey(("review",), assigned=agent, name="Report a claim")
    session = verified(item, name="Vera van der Visitor")
    lead = session.record
    assert lead.kind == RecordKind.LEAD and lead.assigned_agent_id == agent.id
    assert (lead.first_name, lead.last_name, lead.email) == ("Vera", "van der Visitor", EMAIL)
    assert lead.source == "Journey: Report a claim"
    assert lead.email_opt_in is False and lead.sms_opt_in is False
    assert matching.split_name("Cher") == ("Cher", matching.NO_LAST_NAME)


# -- steps ----------------------------------------------------------------------------------


def test_a_form_step_keeps_the_answers_and_opens_the_next_step(app, ctx):
    session = verified(journey(("form", "review")))
    answer_form(app, session)
    ids = [f["id"] for f in session.definition["steps"][0]["fields"]]
    assert session.answers == {
        "0": {str(ids[0]): "POL-123", str(ids[1]): "2027-01-31", str(ids[2]): True}
    }
    assert session.step_index == 1 and "step:0" in stages(session)
    assert trail(session)[-1] == "Step 1 done: Form step"
    form_step = session.definition["steps"][0]
    initial = steps.get("form").initial(form_step, session)
    assert str(initial[f"q{ids[1]}"]) == "2027-01-31"
    summary = dict(steps.get("form").summary(session, form_step))
    assert summary["Policy number"] == "POL-123" and summary["Any claims?"] == "Yes"
    assert summary["Payment"] == "—"


def test_steps_are_taken_in_order_and_an_earlier_one_can_be_changed(app, ctx):
    session = verified(journey(("form", "form", "review")))
    with pytest.raises(NotFound):
        answer_form(app, session, index=1)  # step 2 before step 1
    answer_form(app, session, index=0)
    answer_form(app, session, index=1)
    assert session.step_index == 2
    answer_form(app, session, index=0, **{f"q{slots(session, 0)[0]}": "POL-456"})
    assert session.step_index == 2  # changing step 1 again keeps them where they were
    with pytest.raises(NotFound):
        visitors.step_done(session, 7)


def test_no_step_before_the_pin(app, ctx):
    session = start(journey(("form", "review")))
    with pytest.raises(NotFound):
        answer_form(app, session)


def test_uploads_are_kept_as_documents_of_the_record_with_their_hashes(ctx):
    session = verified(journey(("form", "upload", "review")))
    session.step_index = 1  # the form is another test's
    db.session.commit()
    data = sign_factories.pdf_bytes(1)
    required, optional = slots(session)
    [row] = visitors.add_uploads(
        session, 1, {required: documents.Upload(io.BytesIO(data), "licence.pdf")}, ip=IP
    )
    db.session.commit()
    assert row.sha256 == hashlib.sha256(data).hexdigest() and row.size == len(data)
    assert (row.slot_id, row.label, row.filename) == (
        required,
        "Front of driver's licence",
        "licence.pdf",
    )
    document = row.document
    assert document.record_id == session.record_id and document.source == DocumentSource.CLIENT
    assert document.shared is False and document.title == "Front of driver's licence"
    assert session.step_index == 1  # not done until the visitor says so
    visitors.uploads_done(session, 1, ip=IP)
    db.session.commit()
    assert session.step_index == 2 and "step:1" in stages(session)
    summary = steps.get("upload").summary(session, session.definition["steps"][1])
    assert summary[0] == ("Front of driver's licence", f"licence.pdf (SHA-256 {row.sha256})")
    assert summary[1][0] == "Proof of address"
    assert optional not in {u.slot_id for u in session.uploads}


def test_a_slot_filled_again_keeps_the_newer_file(ctx):
    session = verified(journey(("upload", "review")))
    slot = slots(session, 0)[0]
    first = visitors.add_uploads(session, 0, {slot: png_upload("old.png")})[0].document_id
    db.session.commit()
    visitors.add_uploads(session, 0, {slot: png_upload("new.png")})
    db.session.commit()
    [kept] = db.session.scalars(
        select(JourneyUpload).where(JourneyUpload.session_id == session.id)
    ).all()
    assert kept.filename == "new.png"
    assert db.session.get(Document, first) is not None  # the earlier document stays


def test_a_required_slot_must_be_filled_and_a_refused_file_names_its_slot(ctx):
    session = verified(journey(("upload", "review")))
    required, optional = slots(session, 0)
    visitors.add_uploads(session, 0, {optional: png_upload()})
    with pytest.raises(ValidationError) as refused:
        visitors.uploads_done(session, 0)
    assert refused.value.field == f"slot{required}"
    with pytest.raises(ValidationError) as refused:
        visitors.add_uploads(session, 0, {required: png_upload("page.html", b"<html><script>")})
    assert refused.value.field == f"slot{required}"
    with pytest.raises(ValidationError):
        visitors.add_uploads(session, 0, {123456: png_upload()})
    db.session.rollback()
    form_class = steps.get("upload").form_class(session.definition["steps"][0], session)
    assert set(form_class.slots and [s.id for s in form_class.slots]) == {required, optional}


def test_the_signature_step_sends_the_visitor_a_request_without_an_email(routes):
    session = verified(journey(("sign", "review")))
    before = db.session.scalar(select(OutboxMessage.id).order_by(OutboxMessage.id.desc()))
    signer = visitors.sign_request_for(session, 0, ip=IP)
    db.session.commit()
    request = session.sign_request
    assert request.status == SignRequestStatus.SENT and request.record_id == session.record_id
    assert signer.status == SignerStatus.SENT and signer.token_hash
    assert signer.email == EMAIL and request.next_reminder_at is None
    assert visitors.sign_request_for(session, 0).id == signer.id  # made once
    newer = db.session.scalars(select(OutboxMessage).where(OutboxMessage.id > (before or 0)))
    assert [m.template_key for m in newer] == []
    with pytest.raises(ValidationError):
        visitors.sign_done(session, 0)
    sign(signer)
    visitors.sign_done(session, 0, ip=IP)
    db.session.commit()
    assert session.step_index == 1 and trail(session)[-2] == f"Signed: {request.title}"
    # The visitor hears once, when the journey completes, with everything: not also here.
    newer = db.session.scalars(select(OutboxMessage).where(OutboxMessage.id > (before or 0)))
    assert "sign.completed" not in [m.template_key for m in newer]
    assert request.signed_document is not None
    [(title, said)] = steps.get("sign").summary(session, session.definition["steps"][0])
    assert title == request.title and said.startswith("Signed")


# -- a journey edited halfway -----------------------------------------------------------------


def test_a_journey_edited_while_a_session_is_open_leaves_the_session_as_it_started(app, ctx):
    item = journey(("form", "review"))
    session = verified(item)
    copy = dict(session.definition)
    form_step = item.steps[0]
    form_step.fields[0].label = "Your policy number"
    definitions.clean_field(form_step.fields[0])
    form_step.fields[1].archived = True
    added = JourneyStep(journey=item, position=9, kind=StepKind.REVIEW, title="New review")
    db.session.add(added)
    definitions.clean_step(added)
    new_field = JourneyField(step=form_step, label="New question", field_type="text", required=True)
    db.session.add(new_field)
    definitions.clean_field(new_field)
    db.session.commit()
    assert item.version > session.version
    db.session.refresh(session)
    assert session.definition == copy
    answer_form(app, session)  # the new required question is not asked
    assert session.step_index == 1
    later = start(item, email="later@example.com")
    assert len(later.definition["steps"]) == 3


# -- coming back ------------------------------------------------------------------------------


def test_a_resume_link_brings_the_visitor_back_after_a_fresh_pin(routes):
    item = journey(("form", "review"), resume_days=3)
    session = verified(item)
    link = visitors.resume_link(session)
    db.session.commit()
    token = link.rsplit("/", 1)[1]
    assert link.startswith(current_app.config["PORTICO_BASE_URL"].rstrip("/"))
    assert f"/f/{item.slug}/resume/" in link and token not in (session.resume_token_hash or "")
    assert session.resume_until - utcnow() > timedelta(days=2, hours=23)
    session.status = SessionStatus.ABANDONED
    session.abandoned_at = utcnow()
    db.session.commit()
    assert visitors.from_resume_token(item, token, ip=IP).id == session.id
    visitors.send_pin(session)
    db.session.commit()
    assert verify(session).ok
    assert session.status == SessionStatus.IN_PROGRESS and session.abandoned_at is None
    assert trail(session)[-3:] == [
        "Resumed by the emailed link",
        "PIN sent by email",
        "PIN verified (resumed)",
    ]
    assert stages(session) == ["started", "verified"]


def test_a_resume_link_that_is_wrong_late_or_done_finds_nothing(routes):
    item = journey(("review",), resume_days=1)
    session = verified(item)
    token = visitors.resume_link(session).rsplit("/", 1)[1]
    db.session.commit()
    for bad in ("", "x" * 300, token + "x"):
        with pytest.raises(NotFound):
            visitors.from_resume_token(item, bad)
    with pytest.raises(NotFound):
        visitors.from_resume_token(journey(("review",)), token)  # another journey's
    with pytest.raises(NotFound):
        visitors.from_resume_token(item, token, now=utcnow() + timedelta(days=1, seconds=1))
    newer = visitors.resume_link(session).rsplit("/", 1)[1]
    with pytest.raises(NotFound):
        visitors.from_resume_token(item, token)  # the newer link replaced it
    session.status = SessionStatus.COMPLETED
    with pytest.raises(NotFound):
        visitors.from_resume_token(item, newer)
    never = journey(("review",), resume_days=0)
    with pytest.raises(ValidationError):
        visitors.resume_link(verified(never, email="other@example.com"))


# -- whose session --------------------------------------------------------------------------


def test_a_session_opens_only_for_the_browser_that_holds_it(ctx):
    item = journey(("review",))
    mine = start(item)
    theirs = start(item, email="someone.else@example.com")
    assert visitors.for_browser(item, mine.public_id, {mine.public_id}).id == mine.id
    with pytest.raises(NotFound):
        visitors.for_browser(item, theirs.public_id, {mine.public_id})
    with pytest.raises(NotFound):
        visitors.for_browser(item, mine.public_id, set())
    with pytest.raises(NotFound):
        visitors.for_browser(journey(("review",)), mine.public_id, {mine.public_id})


# -- the whole way through ------------------------------------------------------------------


def test_the_last_step_completes_the_session(app, routes):
    session = verified(journey(("form", "upload", "sign", "review")))
    answer_form(app, session)
    visitors.add_uploads(session, 1, {slots(session)[0]: png_upload()})
    visitors.uploads_done(session, 1)
    db.session.commit()
    sign(visitors.sign_request_for(session, 2))
    visitors.sign_done(session, 2)
    db.session.commit()
    assert session.status == SessionStatus.IN_PROGRESS
    visitors.step_done(session, 3, ip=IP)
    db.session.commit()
    assert session.status == SessionStatus.COMPLETED and session.step_index == 4
    assert session.completion_document is not None
    assert {"step:0", "step:1", "step:2", "step:3", "completed"} <= set(stages(session))
    # One sealed PDF holds the record of the session and, after it, the signed pages.
    with storage().open(session.completion_document.storage_key) as handle:
        data = handle.read()
    signed = signed_pdfs.signed_pdf_bytes(session.sign_request)
    pages = PdfReader(io.BytesIO(data)).pages
    signed_pages = PdfReader(io.BytesIO(signed)).pages
    assert len(pages) > len(signed_pages)
    assert pages[-1].extract_text() == signed_pages[-1].extract_text()
    assert pdf.verify(data).ok
    with pytest.raises(NotFound):
        visitors.step_done(session, 3)


def test_a_visit_is_noted_at_most_once_a_minute(ctx):
    session = start(journey(("review",)))
    seen = session.last_seen_at
    visitors.touch(session, "198.51.100.1", now=seen + timedelta(seconds=30))
    assert session.last_seen_at == seen and session.ip == IP
    visitors.touch(session, "198.51.100.1", now=seen + timedelta(minutes=2))
    assert session.last_seen_at == seen + timedelta(minutes=2) and session.ip == "198.51.100.1"
