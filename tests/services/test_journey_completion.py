"""The end of a journey: the sealed PDF of everything the visitor did (read back), kept on the
record, the completion email with the PDF at the SMTP server (the team's own template when it
has one), the copy the visitor asks for, the office's event and the workflows the journey
starts, and only those."""

from __future__ import annotations

import hashlib
import io
import time
from datetime import timedelta

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select, update

from app import pdf
from app.services import records, tagging, workflows
from app.services.errors import ValidationError
from app.services.journeys import completion, definitions, visitors
from app.services.signing import completion as signed_pdfs
from app.storage import DOCUMENTS, storage
from models import (
    ActionKind,
    ActionTarget,
    ActivityEntry,
    Channel,
    DelayUnit,
    Document,
    DocumentKind,
    Journey,
    JourneyField,
    JourneyMilestone,
    JourneySession,
    JourneyStep,
    JourneyUpload,
    MessageTemplate,
    OutboxMessage,
    RunStatus,
    SessionStatus,
    StepKind,
    Team,
    Workflow,
    WorkflowAction,
    WorkflowRun,
    db,
    utcnow,
)
from tests import factories
from tests.conftest import body_of, run_jobs
from tests.services.test_signing import client_record, sent_request, sign

IP = "198.51.100.23"
LICENCE = b"\x89PNG\r\n\x1a\n" + b"licence scan " * 50


# -- building journeys and sessions with the models (the contract's snapshot format) ----------


def journey(agent, *, slug: str = "renew", send_copy: bool = True, resume_days: int = 7):
    """A journey: a form (make, garaged), an upload (licence), a review."""
    item = Journey(
        name="Renew your policy",
        slug=slug,
        assigned_user_id=agent.id,
        send_copy=send_copy,
        resume_days=resume_days,
    )
    form = JourneyStep(kind=StepKind.FORM, title="Your car", position=0)
    form.fields = [
        JourneyField(label="Make", field_type="text", required=True, position=0),
        JourneyField(label="Garaged at night", field_type="yes_no", position=1),
    ]
    upload = JourneyStep(kind=StepKind.UPLOAD, title="Your licence", position=1)
    upload.fields = [JourneyField(label="Front of driver's licence", field_type="file")]
    review = JourneyStep(kind=StepKind.REVIEW, title="Check and send", position=2)
    item.steps = [form, upload, review]
    db.session.add(item)
    db.session.flush()
    return item


def session_on(item, record, *, email=None, name="Cleo Client", signed=None):
    """A verified session that did every step but the last (the review), with its answers,
    a file in the upload slot and (``signed``: a sign request) a signature step done."""
    definition = definitions.snapshot(item)
    if signed is not None:  # a signature step before the review
        definition["steps"].insert(
            2,
            {
                "index": 2,
                "id": None,
                "kind": "sign",
                "title": "Sign the renewal",
                "intro": "",
                "fields": [],
                "sign_template_id": None,
                "sign_template_name": signed.title,
            },
        )
        for index, step in enumerate(definition["steps"]):
            step["index"] = index
    form, upload = definition["steps"][0], definition["steps"][1]
    make, garaged = form["fields"]
    started = utcnow() - timedelta(minutes=20)
    session = JourneySession(
        journey=item,
        public_id=f"s{item.id}-{record.id}-{time.monotonic_ns()}"[:32],
        version=item.version,
        definition=definition,
        name=name,
        email=email or record.email,
        status=SessionStatus.IN_PROGRESS,
        step_index=len(definition["steps"]) - 1,
        answers={"0": {str(make["id"]): "Volvo V70 ✓", str(garaged["id"]): True}},
        record=record,
        sign_request=signed,
        started_at=started,
        verified_at=started + timedelta(minutes=2),
        last_seen_at=utcnow(),
        ip=IP,
        trail=[],
    )
    db.session.add(session)
    db.session.flush()
    visitors.log(session, "Welcome form sent", IP, started)
    visitors.log(session, "PIN sent", IP, started)
    visitors.log(session, "PIN verified", IP, started + timedelta(minutes=2))
    stored = storage().put(io.BytesIO(LICENCE), DOCUMENTS, field=None)
    document = Document(
        record_id=record.id,
        kind=DocumentKind.FILE,
        title="Front of driver's licence",
        storage_key=stored.key,
        filename="licence.png",
        content_type=stored.content_type,
        size=stored.size,
    )
    db.session.add(document)
    db.session.flush()
    db.session.add(
        JourneyUpload(
            session=session,
            step_index=1,
            slot_id=upload["fields"][0]["id"],
            label=upload["fields"][0]["label"],
            document_id=document.id,
            filename="licence.png",
            size=len(LICENCE),
            sha256=hashlib.sha256(LICENCE).hexdigest(),
        )
    )
    db.session.flush()
    db.session.refresh(session)
    return session


def finish(session) -> Document:
    """The visitor sends the last step (the review): the session completes."""
    visitors.step_done(session, len(session.definition["steps"]) - 1, ip=IP)
    return session.completion_document


def journey_workflow(journey_id, name="After the renewal"):
    flow = Workflow(name=name, active=True, for_leads=True, for_clients=True)
    flow.journey_id = journey_id
    flow.actions = [
        WorkflowAction(
            position=0,
            delay_amount=2,
            delay_unit=DelayUnit.DAYS,
            kind=ActionKind.CREATE_TASK,
            target=ActionTarget.AGENT,
            task_title="Call {{ record.full_name }} about the renewal",
        )
    ]
    db.session.add(flow)
    db.session.flush()
    return flow


def text_of(data: bytes) -> str:
    return " ".join(
        " ".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages).split()
    )


def read(document: Document) -> bytes:
    with storage().open(document.storage_key) as handle:
        return handle.read()


def mail_to(mailbox, address: str, timeout: float = 10.0) -> list:
    deadline = time.monotonic() + timeout
    while not mailbox.to(address) and time.monotonic() < deadline:
        time.sleep(0.05)
    return mailbox.to(address)


@pytest.fixture
def signed_session(ctx):
    """A client whose visitor signed in the journey and now sends the review."""
    record = client_record("cleo@example.com")
    request, _tokens = sent_request(record, [None])
    sign(request.signers[0])
    db.session.flush()
    item = journey(record.assigned_agent)
    session = session_on(item, record, signed=request)
    db.session.commit()
    return session


# -- the PDF -----------------------------------------------------------------------------------


def test_the_pdf_holds_the_answers_the_signature_the_files_and_the_trail_and_is_sealed(
    signed_session,
):
    session = signed_session
    document = finish(session)
    db.session.commit()
    data = read(document)
    text = text_of(data)
    request = session.sign_request
    signed_sha = hashlib.sha256(signed_pdfs.signed_pdf_bytes(request)).hexdigest()
    for expected in (
        "Renew your policy",
        "Cleo Client",
        "cleo@example.com",
        f"#{session.id}",
        "Your car",
        "Make Volvo V70 ✓",
        "Garaged at night Yes",
        "Front of driver's licence licence.png",  # the upload step's line
        "File licence.png",  # the list of files, with the fingerprint
        hashlib.sha256(LICENCE).hexdigest(),
        "Sign the renewal",
        request.title,
        request.original_sha256,
        signed_sha,
        "PIN verified",
        "Journey completed",
        IP,
        "America/New_York",
    ):
        assert expected in text, expected
    assert pdf.verify(data).ok
    changed = bytearray(data)
    changed[len(changed) // 2] ^= 1
    assert not pdf.verify(bytes(changed)).ok


def test_the_completed_session_its_document_milestone_and_event(signed_session):
    session = signed_session
    document = finish(session)
    db.session.commit()
    assert session.status == SessionStatus.COMPLETED and session.completed_at is not None
    assert document.record_id == session.record_id and not document.shared
    assert document.title.startswith("Renew your policy (completed ")
    assert document.filename.endswith(".pdf") and document.content_type == "application/pdf"
    stages = set(
        db.session.scalars(
            select(JourneyMilestone.stage).where(JourneyMilestone.session_id == session.id)
        )
    )
    assert "completed" in stages
    [entry] = db.session.scalars(
        select(ActivityEntry).where(ActivityEntry.event_key == "flow.completed")
    ).all()
    assert entry.record_id == session.record_id and entry.actor_label == "Cleo Client"
    assert entry.details["flow"] == "Renew your policy"
    assert entry.details["session_id"] == session.id
    assert entry.details["journey_id"] == session.journey_id
    assert entry.details["assigned_user_id"] == session.definition["assigned_user_id"]
    # Completing again (a retried request) keeps the one PDF and sends nothing more.
    assert completion.complete(session) is document
    kept = db.session.scalars(
        select(Document.id).where(
            Document.record_id == session.record_id, Document.title.like("Renew your policy (%")
        )
    ).all()
    assert kept == [document.id]
    assert (
        db.session.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.template_key == "journey.completed")
        )
        == 1
    )


def test_completion_email_at_the_smtp_server_with_the_pdf(app, signed_session, mailbox):
    session = signed_session
    document = finish(session)
    db.session.commit()
    run_jobs(app)
    mail_to(mailbox, f"<{session.email}>")
    mailbox.wait_for(4)  # the signed PDF's (to the signer and the agent) and ours
    [mail] = [m for m in mailbox.to(f"<{session.email}>") if "Renew" in str(m["Subject"])]
    assert str(mail["Subject"]) == "Thank you: Renew your policy is complete"
    assert "A copy is attached" in body_of(mail)
    [attachment] = list(mail.iter_attachments())
    assert attachment.get_filename().endswith(".pdf")
    assert attachment.get_content() == read(document)


def test_no_pdf_attached_when_the_journey_sends_no_copies(app, ctx, mailbox):
    record = client_record("nocopy@example.com")
    session = session_on(journey(record.assigned_agent, send_copy=False), record)
    finish(session)
    db.session.commit()
    [message] = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.template_key == "journey.completed")
    ).all()
    assert message.attachment_document_id is None
    assert "attached" not in message.body_text
    with pytest.raises(ValidationError, match="does not send copies"):
        completion.email_copy(session)


def test_the_team_of_the_journeys_user_brings_its_own_template(app, ctx, mailbox):
    record = client_record("team@example.com")
    agent = record.assigned_agent
    db.session.add(
        MessageTemplate(
            key="claims.done",
            channel=Channel.EMAIL,
            name="Claims team: journey done",
            subject="The claims team has your {{ journey_name }}",
            body="Dear {{ visitor_name }}, the claims team will call you.",
        )
    )
    agent.team = Team(name="Claims", completion_template_key="claims.done")
    session = session_on(journey(agent), record)
    finish(session)
    db.session.commit()
    run_jobs(app)
    [mail] = mail_to(mailbox, "<team@example.com>")
    assert str(mail["Subject"]) == "The claims team has your Renew your policy"
    assert "the claims team will call you" in body_of(mail)
    assert len(list(mail.iter_attachments())) == 1


def test_email_me_a_copy_at_most_three_times(app, ctx, mailbox):
    record = client_record("copies@example.com")
    session = session_on(journey(record.assigned_agent), record)
    with pytest.raises(ValidationError, match="not complete yet"):
        completion.email_copy(session)
    document = finish(session)
    for _ in range(3):
        message = completion.email_copy(session)
        assert message.attachment_document_id == document.id
    with pytest.raises(ValidationError, match="3 times"):
        completion.email_copy(session)
    assert [line["what"] for line in session.trail].count("Copy emailed") == 3
    db.session.commit()
    run_jobs(app)
    mailbox.wait_for(4)  # the completion email and three copies
    copies = [m for m in mailbox.to("<copies@example.com>") if "copy" in str(m["Subject"])]
    assert len(copies) == 3
    assert all(len(list(m.iter_attachments())) == 1 for m in copies)


# -- the workflow trigger -----------------------------------------------------------------------


def runs_for(flow, record):
    return db.session.scalars(
        select(WorkflowRun).where(
            WorkflowRun.workflow_id == flow.id, WorkflowRun.record_id == record.id
        )
    ).all()


def test_a_completion_starts_the_journeys_workflows_and_nothing_else_does(ctx):
    record = client_record("flow@example.com")
    item = journey(record.assigned_agent)
    other = journey(record.assigned_agent, slug="claims")
    ours, theirs = journey_workflow(item.id), journey_workflow(other.id, "After a claim")
    creation = Workflow(name="New record", active=True, on_record_created=True)
    db.session.add(creation)
    db.session.flush()

    # Creation, a tag, a saved record, "start for matching": none is a completion.
    fresh = factories.record(email="fresh@example.com")
    workflows.evaluate([fresh.id, record.id], created=True)
    tagging.put([record.id], factories.tag("Journey VIP"))
    records.save(record, created=False)
    workflows.start_for_matching(ours)
    assert not runs_for(ours, record) and not runs_for(ours, fresh)
    assert not runs_for(theirs, record)
    created_runs = len(runs_for(creation, record))

    session = session_on(item, record)
    finish(session)
    [run] = runs_for(ours, record)
    assert run.status == RunStatus.RUNNING and len(run.actions) == 1
    assert not runs_for(theirs, record) and len(runs_for(creation, record)) == created_runs

    # A later completion, once that run has ended, starts it again; one running is enough.
    again = session_on(item, record)
    finish(again)
    assert len(runs_for(ours, record)) == 1
    workflows.cancel_run(run, "done by hand")
    third = session_on(item, record)
    finish(third)
    assert len(runs_for(ours, record)) == 2


def test_journey_workflows_are_described_copied_and_checked(ctx):
    agent = factories.staff()
    item = journey(agent)
    flow = journey_workflow(item.id)
    assert workflows.describe_conditions(flow).endswith(
        "when they complete the journey Renew your policy"
    )
    assert workflows.copy_workflow(flow).journey_id == item.id
    flow.on_record_created = True
    with pytest.raises(ValidationError, match="not both"):
        workflows.check_workflow(flow)
    lone = Workflow(name="Only a journey", for_leads=True, for_clients=True, journey=item)
    workflows.check_workflow(lone)  # a journey is a trigger of its own


def test_a_session_completed_elsewhere_meanwhile_is_not_completed_again(ctx):
    record = client_record("twice@example.com")
    session = session_on(journey(record.assigned_agent), record)
    db.session.commit()
    # Another request sent the last step at the same moment and got there first.
    with db.engine.begin() as other:
        other.execute(
            update(JourneySession)
            .where(JourneySession.id == session.id)
            .values(status=SessionStatus.COMPLETED)
        )
    assert session.status == SessionStatus.IN_PROGRESS  # what this request read before
    with pytest.raises(ValidationError, match="cannot be completed"):
        completion.complete(session)
    assert db.session.scalars(select(Document).where(Document.title.like("Renew%"))).all() == []


def test_the_completion_email_reads_the_visitor_never_the_record_their_email_matched(
    app, ctx, mailbox
):
    """A team's template may name ``record.*``: it reads what the visitor gave, never what
    the office holds of the record their proven email matched."""
    record = client_record("held@example.com", company_name="Hidden Co")
    record.first_name, record.last_name = "Secret", "Holder"
    db.session.add(
        MessageTemplate(
            key="desk.done",
            channel=Channel.EMAIL,
            name="Desk: journey done",
            subject="Done",
            body="Dear {{ record.full_name }} {{ record.company_name }}, "
            "from {{ agent.full_name }}.",
        )
    )
    agent = record.assigned_agent
    agent.team = Team(name="Desk", completion_template_key="desk.done")
    session = session_on(journey(agent), record, name="Val Visitor")
    finish(session)
    db.session.commit()
    run_jobs(app)
    [mail] = mail_to(mailbox, "<held@example.com>")
    text = body_of(mail)
    assert "Dear Val Visitor" in text and agent.full_name in text
    assert "Secret" not in text and "Holder" not in text and "Hidden" not in text
