"""An upload step's files: each kept as a document of the session's record through the
document rules (types sniffed, size limited; a refused file keeps nothing of its batch), with
its SHA-256 for the completion PDF. A file put in a slot that had one replaces it (the earlier
document stays on the record: staff may have seen it). :mod:`.visitors` re-exports
:func:`add_uploads` and says when the step is done (``uploads_done``).
"""

from __future__ import annotations

import hashlib
from typing import Any

from flask_babel import gettext as _

from app.services import document_access, documents
from app.services.errors import ValidationError
from app.services.journeys.progress import actor, check_open, log, step_def
from app.services.journeys.steps import questions, slot_name
from models import AccessAction, DocumentSource, JourneySession, JourneyUpload, StepKind, db

#: Files a session may send per slot of its upload steps, replacements included: a file put
#: in a filled slot replaces it in the session but stays on the record (staff may have seen
#: it), so without a cap one verified visitor could fill the office's storage slot by slot.
FILES_PER_SLOT = 5
#: How the trail says a file was kept (counted against :data:`FILES_PER_SLOT`).
UPLOADED = "File uploaded to "


def files_sent(session: JourneySession) -> int:
    """Files the session has sent so far, replaced ones included."""
    return sum(
        1 for entry in session.trail or () if str(entry.get("what", "")).startswith(UPLOADED)
    )


def files_allowed(session: JourneySession) -> int:
    """Files the session may send in all: :data:`FILES_PER_SLOT` per slot of its steps."""
    slots = sum(
        len(step.get("fields") or ())
        for step in (session.definition or {}).get("steps") or ()
        if step.get("kind") == StepKind.UPLOAD.value
    )
    return FILES_PER_SLOT * slots


class _Hashing:
    """A stream that hashes what is read from it (storage reads each file once, in order)."""

    def __init__(self, stream: Any) -> None:
        self.stream = stream
        self.digest = hashlib.sha256()

    def read(self, size: int = -1, /) -> bytes:
        chunk: bytes = self.stream.read(size)
        self.digest.update(chunk)
        return chunk


def _upload_step(session: JourneySession, index: int) -> dict[str, Any]:
    check_open(session)
    step = step_def(session, index)
    if step["kind"] != StepKind.UPLOAD.value:
        raise ValidationError(_("This step takes no files."))
    return step


def add_uploads(
    session: JourneySession,
    index: int,
    files: dict[int, documents.Upload],
    ip: str | None = None,
) -> list[JourneyUpload]:
    """Keep the visitor's files (``{slot id: upload}``) of upload step ``index`` as documents
    of the session's record. A refused file raises ValidationError naming its slot's field
    (``slot<id>``) and keeps none of them."""
    step = _upload_step(session, index)
    slots = {slot.id: slot for slot in questions(step)}
    unknown = [slot_id for slot_id in files if slot_id not in slots]
    if unknown:
        raise ValidationError(_("There is no such file slot."), field=slot_name(unknown[0]))
    if not files:
        return []
    if files_sent(session) + len(files) > files_allowed(session):
        raise ValidationError(
            _("You have sent as many files as this form takes. Ask the office to help."),
            field=slot_name(next(iter(files))),
        )
    record = session.record
    assert record is not None, "a verified session has its record"
    name = (session.definition or {}).get("name", "")
    kept: list[JourneyUpload] = []
    for slot_id, upload in files.items():
        # One call per file: the error names its slot, and each file gets its own hash.
        hashing = _Hashing(upload.stream)
        try:
            (document,) = documents.store_all(
                record,
                [documents.Upload(hashing, upload.filename)],  # type: ignore[arg-type]
                field=slot_name(slot_id),
                title=slots[slot_id].label,
            )
        except ValidationError as refused:
            raise ValidationError(refused.message, field=slot_name(slot_id)) from refused
        document.source = DocumentSource.CLIENT
        document.client_note = f"{name}: {slots[slot_id].label}"[:2000]
        db.session.flush()
        document_access.log(document, AccessAction.UPLOADED, actor(session))
        for earlier in [u for u in session.uploads if u.step_index == index]:
            if earlier.slot_id == slot_id:
                session.uploads.remove(earlier)
        upload_row = JourneyUpload(
            step_index=index,
            slot_id=slot_id,
            label=slots[slot_id].label[:200],
            document=document,
            filename=(document.filename or document.title)[:160],
            size=int(document.size or 0),
            sha256=hashing.digest.hexdigest(),
        )
        session.uploads.append(upload_row)
        kept.append(upload_row)
        log(session, f"{UPLOADED}{slots[slot_id].label}: {upload_row.filename}", ip)
    db.session.flush()
    return kept


def check_slots(session: JourneySession, index: int) -> None:
    """Before upload step ``index`` is done: ValidationError naming the first required
    slot's field while that slot has no file."""
    step = _upload_step(session, index)
    filled = {u.slot_id for u in session.uploads if u.step_index == index}
    for slot in questions(step):
        if slot.required and slot.id not in filled:
            raise ValidationError(
                _("Add a file for %(slot)s.", slot=slot.label), field=slot_name(slot.id)
            )
