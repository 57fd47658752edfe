"""The end of a journey: the visitor finished the last step.

:func:`complete` runs in the transaction of that last step. It draws the sealed PDF of the
session (:mod:`app.pdf.journey`), keeps it as a document of the session's record, tells the
office (``flow.completed``), starts the workflows triggered by this journey and emails the
visitor (:func:`send_completion_email`). The sealed file goes to storage before its row is
flushed and is deleted again unless that transaction commits
(:func:`~app.storage.lifecycle.keep_if_committed`); the emails are outbox messages under fixed
keys, so a completion retried sends each once.
"""

from __future__ import annotations

import hashlib
from contextlib import suppress
from datetime import UTC, datetime
from io import BytesIO
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app, has_request_context, request
from flask_babel import gettext as _
from sqlalchemy import func, select, update

from app import pdf
from app.services import documents, events, outbox, templates
from app.services.errors import NotFound, ValidationError
from app.services.journeys import messages, progress, steps, teams
from app.services.signing import completion as signed_pdfs
from app.services.validation import format_phone
from app.services.workflows import runs
from app.storage import UploadRule, clean_filename, storage
from app.storage.lifecycle import keep_if_committed
from app.storage.rules import MB
from models import (
    Document,
    DocumentKind,
    DocumentSource,
    JourneySession,
    OutboxMessage,
    SessionStatus,
    StepKind,
    User,
    db,
    utcnow,
)

#: What the sealed PDF of a session is stored under.
JOURNEY_PDF = UploadRule("journey records", frozenset({"application/pdf"}), 200 * MB)
#: "Email me a copy" works this many times per session (a button pressed again and again
#: must not make the office a mail cannon).
MAX_COPIES = 3


def _ip(session: JourneySession) -> str | None:
    return request.remote_addr if has_request_context() else session.ip


def _moment(text: Any) -> datetime:
    moment = datetime.fromisoformat(str(text))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _signed(session: JourneySession) -> tuple[pdf.SignedPart, ...]:
    request_ = session.sign_request
    if request_ is None:
        return ()
    try:
        signed: str | None = hashlib.sha256(signed_pdfs.signed_pdf_bytes(request_)).hexdigest()
    except NotFound:  # not signed, or its file is gone: the record says so (a dash)
        signed = None
    return (pdf.SignedPart(request_.title, request_.original_sha256, signed),)


def _lines(session: JourneySession, step: dict[str, Any]) -> tuple[tuple[str, str], ...]:
    """A step's lines as the steps registry sums them up; an upload step's name each slot's
    file only: its fingerprint is in the PDF's list of files, on a line of its own."""
    if step["kind"] != StepKind.UPLOAD.value:
        return tuple(steps.get(step["kind"]).summary(session, step))
    kept = {u.slot_id: u.filename for u in session.uploads if u.step_index == step["index"]}
    return tuple(
        (str(slot["label"]), kept.get(slot["id"]) or _("Not uploaded"))
        for slot in step.get("fields") or ()
    )


def record_of(session: JourneySession, completed_at: datetime) -> pdf.JourneyRecord:
    """What the completion PDF says of ``session``, from the copy of the journey it went
    through (its steps, in order, as the steps registry sums each up)."""
    definition = session.definition or {}
    parts = tuple(
        pdf.StepPart(
            str(step.get("title") or ""),
            StepKind(step["kind"]).label,
            _lines(session, step),
        )
        for step in progress.steps_of(session)
    )
    files = tuple(
        pdf.FilePart(upload.label, upload.filename, upload.size, upload.sha256)
        for upload in session.uploads
    )
    trail = tuple(
        pdf.TrailLine(_moment(line["at"]), str(line.get("what") or ""), line.get("ip"))
        for line in session.trail or ()
    )
    return pdf.JourneyRecord(
        journey=str(definition.get("name") or session.journey.name),
        reference=f"#{session.id}",
        visitor_name=session.name,
        visitor_email=session.email,
        # No record at all: this PDF goes to the visitor, who proved an email address and
        # must learn nothing of what the office holds (not even that a record was there
        # before); the office finds the PDF on the record itself.
        record=None,
        started_at=session.started_at,
        verified_at=session.verified_at,
        completed_at=completed_at,
        steps=parts,
        signed=_signed(session),
        files=files,
        trail=trail,
    )


def build_pdf(session: JourneySession, completed_at: datetime) -> bytes:
    """The sealed completion PDF of ``session``: the record of the session, then the signed
    document's pages."""
    drawn = pdf.journey_pdf(
        record_of(session, completed_at),
        branding=pdf.office_branding(),
        timezone=str(current_app.config["PORTICO_TIMEZONE"]),
    )
    if session.sign_request is not None:
        # Its file gone, the record names the signed document by its fingerprint alone.
        with suppress(NotFound):
            drawn = pdf.with_pages_of(drawn, signed_pdfs.signed_pdf_bytes(session.sign_request))
    return pdf.seal(drawn)


def _store(session: JourneySession, data: bytes, completed_at: datetime) -> Document:
    stored = storage().put(BytesIO(data), JOURNEY_PDF, field=None)
    keep_if_committed(stored.key)
    day = completed_at.astimezone(ZoneInfo(current_app.config["PORTICO_TIMEZONE"])).date()
    name = (session.definition or {}).get("name") or session.journey.name
    title = documents.clean_title(
        _("%(journey)s (completed %(day)s)", journey=name, day=day.isoformat())
    )
    document = Document(
        record_id=session.record_id,
        kind=DocumentKind.FILE,
        title=title,
        storage_key=stored.key,
        filename=clean_filename(title, "pdf"),
        content_type=stored.content_type,
        size=stored.size,
        source=DocumentSource.STAFF,
    )
    db.session.add(document)
    return document


def complete(session: JourneySession) -> Document:
    """The visitor finished the last step: the session is COMPLETED, its sealed PDF becomes a
    document of the record (not shared: the visitor has it by email), the funnel and the
    office hear (``flow.completed``), the workflows started by this journey start for the
    record, and the visitor gets the completion email. A session completed already keeps
    its one PDF."""
    if session.status == SessionStatus.COMPLETED and session.completion_document is not None:
        return session.completion_document
    record = session.record
    now = utcnow()
    # Claimed with one UPDATE: a last step sent twice at once completes the session once
    # (the second waits for the first on PostgreSQL, then finds it completed).
    claimed = db.session.execute(
        update(JourneySession)
        .where(
            JourneySession.id == session.id,
            JourneySession.status == SessionStatus.IN_PROGRESS,
            JourneySession.record_id.is_not(None),
        )
        .values(status=SessionStatus.COMPLETED, completed_at=now)
        .execution_options(synchronize_session=False)
    )
    if record is None or claimed.rowcount != 1:  # type: ignore[attr-defined]
        db.session.refresh(session)
        if session.status == SessionStatus.COMPLETED and session.completion_document is not None:
            return session.completion_document
        raise ValidationError(_("This journey cannot be completed."))
    session.status = SessionStatus.COMPLETED
    session.completed_at = now
    progress.log(session, "Journey completed", _ip(session), at=now)
    document = _store(session, build_pdf(session, now), now)
    session.completion_document = document
    db.session.flush()
    progress.milestone(session, "completed", at=now)
    definition = session.definition or {}
    name = str(definition.get("name") or session.journey.name)
    events.emit(
        "flow.completed",
        actor=progress.actor(session),
        record=record,
        details={
            "flow": name,
            "subject": name,
            "journey_id": session.journey_id,
            "session_id": session.id,
            "assigned_user_id": definition.get("assigned_user_id"),
        },
    )
    runs.evaluate([record.id], journey_id=session.journey_id)
    send_completion_email(session)
    return document


def _context(session: JourneySession, attached: bool) -> dict[str, Any]:
    """The email's values. ``record`` holds what the visitor gave (their name and the email
    they proved), never what the office holds of the record their email matched: a team's
    template could otherwise show that record to whoever proved the address."""
    context = templates.base_context(None)
    first, _space, last = session.name.partition(" ")
    context["record"] = {
        "first_name": first,
        "last_name": last,
        "full_name": session.name,
        "display_name": session.name,
        "email": session.email,
        "company_name": "",
    }
    # The agent is the journey's staff member (who handles it), not the record's.
    user_id = (session.definition or {}).get("assigned_user_id")
    staff = db.session.get(User, user_id) if user_id else None
    if staff is not None:
        context["agent"] = {
            "full_name": staff.full_name,
            "first_name": staff.first_name,
            "email": staff.email,
            "phone": format_phone(staff.phone),
        }
    return {
        **context,
        "journey_name": (session.definition or {}).get("name") or session.journey.name,
        "visitor_name": session.name,
        "attached": attached,
    }


def send_completion_email(session: JourneySession) -> OutboxMessage:
    """The visitor's completion email: the template of the journey's staff user's team (the
    default one otherwise), the PDF attached when the journey sends copies. Sent once per
    session."""
    definition = session.definition or {}
    user_id = definition.get("assigned_user_id")
    user = db.session.get(User, user_id) if user_id else None
    attached = bool(definition.get("send_copy")) and session.completion_document_id is not None
    return outbox.send_template(
        teams.completion_template_key(user),
        _context(session, attached),
        key=f"journey-completed:{session.id}",
        to=session.email,
        to_name=session.name,
        reply_to=templates.reply_address(session.record),
        record_id=session.record_id,
        attachment_document_id=session.completion_document_id if attached else None,
    )


def copies_sent(session: JourneySession) -> int:
    """How many times the visitor asked for a copy by email."""
    return int(
        db.session.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.idempotency_key.like(f"journey-copy:{session.id}:%"))
        )
        or 0
    )


def email_copy(session: JourneySession) -> OutboxMessage:
    """The ending page's "Email me a copy": the sealed PDF to the visitor's (verified)
    address, at most :data:`MAX_COPIES` times, only when the journey sends copies."""
    if session.status != SessionStatus.COMPLETED or session.completion_document_id is None:
        raise ValidationError(_("This journey is not complete yet."))
    if not (session.definition or {}).get("send_copy"):
        raise ValidationError(_("This journey does not send copies."))
    sent = copies_sent(session)
    if sent >= MAX_COPIES:
        raise ValidationError(
            _("We have emailed you a copy %(count)s times: please look in your inbox.", count=sent)
        )
    message = outbox.send_template(
        messages.COPY,
        _context(session, True),
        key=f"journey-copy:{session.id}:{sent + 1}",
        to=session.email,
        to_name=session.name,
        reply_to=templates.reply_address(session.record),
        record_id=session.record_id,
        attachment_document_id=session.completion_document_id,
    )
    session.copy_sent_at = utcnow()
    progress.log(session, "Copy emailed", _ip(session))
    db.session.flush()
    return message
