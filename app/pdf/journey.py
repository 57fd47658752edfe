"""The record of a completed self-service journey: who went through it and when, each step's
answers, the signed document, the files uploaded (with their fingerprints) and the session's
audit trail (times, addresses, PIN verification), drawn as the office's other PDFs are
(:class:`app.pdf.Document`) and sealed by the caller.

    sealed = seal(journey_pdf(data, branding=office_branding(), timezone="Europe/Madrid"))

Every value is printed as text, exactly as typed; a character the documents' font cannot draw
(an emoji, say) is printed as its code point ("[U+1F600]") rather than as nothing, so the
record never reads as though the visitor left something out.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from pypdf import PdfReader, PdfWriter
from pypdf.generic import ArrayObject, NameObject

from app.pdf.audit import _when, _zone
from app.pdf.document import FAMILY, Branding, Document, unprintable


@dataclass(frozen=True)
class StepPart:
    """One step of the journey as done: its title and kind, and (label, value) lines."""

    title: str
    kind: str
    lines: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class SignedPart:
    """The document signed in the journey: the fingerprint of the original as sent for
    signing, and of the sealed signed PDF kept on the record (None when it is missing)."""

    title: str
    original_sha256: str
    signed_sha256: str | None


@dataclass(frozen=True)
class FilePart:
    """A file put in an upload slot."""

    slot: str
    filename: str
    size: int
    sha256: str


@dataclass(frozen=True)
class TrailLine:
    """One line of the session's audit trail. A naive time is read as UTC."""

    at: datetime
    what: str
    ip: str | None


@dataclass(frozen=True)
class JourneyRecord:
    """All the completion PDF says."""

    journey: str
    reference: str
    visitor_name: str
    visitor_email: str
    record: str | None
    started_at: datetime
    verified_at: datetime | None
    completed_at: datetime
    steps: tuple[StepPart, ...]
    signed: tuple[SignedPart, ...]
    files: tuple[FilePart, ...]
    trail: tuple[TrailLine, ...]


def printable(text: str) -> str:
    """``text`` with each character the documents' font cannot draw spelled as its code
    point."""
    missing = unprintable(text)
    for char in missing:
        text = text.replace(char, f"[U+{ord(char):04X}]")
    return text


def size_text(size: int) -> str:
    """ "532 bytes", "48.2 KB", "3.1 MB"."""
    if size < 1024:
        return f"{size} byte{'' if size == 1 else 's'}"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KB"
    return f"{size / (1024 * 1024):.1f} MB"


def _fingerprint(doc: Document, label: str, sha256: str | None) -> None:
    """A label, then the hash on a line of its own, small enough never to wrap (a wrapped
    hash is hard to compare and no longer reads back as one word)."""
    pdf = doc.pdf
    pdf.set_font(FAMILY, "B", 9.5)
    pdf.multi_cell(0, 5.5, label, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FAMILY, "", 8.5)
    pdf.multi_cell(0, 5, sha256 or "\u2013", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(1.5)
    pdf.set_font(FAMILY, "", 10.5)


def journey_pdf(
    data: JourneyRecord, *, branding: Branding | None = None, timezone: str = "UTC"
) -> bytes:
    """The completion PDF (unsealed; ``app.pdf.seal`` seals it): a first page saying who
    completed which journey and when, then the steps' answers, the signed document, the
    files and the audit trail. Times are shown in the IANA ``timezone`` with its name."""
    zone, zone_name = _zone(timezone)

    def when(moment: datetime | None) -> str | None:
        return _when(moment, zone, zone_name)

    completed = data.completed_at
    doc = Document(
        printable(data.journey),
        branding=branding,
        subject=f"Completed journey {data.reference}",
        created=completed if completed.tzinfo else completed.replace(tzinfo=UTC),
    )
    doc.paragraph(
        "This document records a self-service journey completed online: the answers "
        "given, the document signed, the files uploaded with their fingerprints (SHA-256) "
        "and the session's audit trail. The office's seal on this file shows any later "
        "change."
    )
    doc.key_values(
        [
            ("Journey", printable(data.journey)),
            ("Reference", data.reference),
            ("Name", printable(data.visitor_name)),
            ("Email", printable(data.visitor_email)),
            *([("Record", printable(data.record))] if data.record else []),
            ("Started", when(data.started_at)),
            ("Email verified (PIN)", when(data.verified_at)),
            ("Completed", when(data.completed_at)),
        ]
    )
    doc.pdf.add_page()
    doc.heading("Answers")
    for number, step in enumerate(data.steps, start=1):
        _step(doc, number, step)
    _signed(doc, data.signed)
    _files(doc, data.files)
    doc.heading("Audit trail")
    if data.trail:
        doc.table(
            ("Time", "What happened", "IP address"),
            [(when(line.at), printable(line.what), line.ip) for line in data.trail],
            col_widths=(3, 4, 2),
        )
    else:
        doc.paragraph("Nothing was recorded.")
    return doc.output()


def _step(doc: Document, number: int, step: StepPart) -> None:
    doc.heading(f"{number}. {printable(step.title)} ({step.kind})")
    if step.lines:
        doc.key_values([(printable(label), printable(value)) for label, value in step.lines])
    else:
        doc.paragraph("Nothing to answer in this step.")


def _signed(doc: Document, signed: Sequence[SignedPart]) -> None:
    if not signed:
        return
    doc.heading("Signed document")
    doc.paragraph("The signed document's pages follow this record.")
    for part in signed:
        doc.key_values([("Title", printable(part.title))])
        _fingerprint(doc, "SHA-256 of the document as sent for signing", part.original_sha256)
        _fingerprint(doc, "SHA-256 of the signed, sealed PDF", part.signed_sha256)


def _files(doc: Document, files: Sequence[FilePart]) -> None:
    if not files:
        return
    doc.heading("Files uploaded")
    for part in files:
        doc.key_values(
            [
                ("Slot", printable(part.slot)),
                ("File", printable(part.filename)),
                ("Size", size_text(part.size)),
            ]
        )
        _fingerprint(doc, "SHA-256", part.sha256)


def with_pages_of(drawn: bytes, signed: bytes) -> bytes:
    """``drawn`` with the pages of the signed PDF after its own, so the one sealed completion
    PDF holds the signed document itself. The signed PDF's own seal cannot come along (a
    page copied out of a signed file is no longer that file): its signature fields go, what
    the signer put stays (it is drawn in the pages), and its SHA-256 named on the pages
    before proves which signed file they are."""
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(drawn)))
    for page in PdfReader(io.BytesIO(signed)).pages:
        added = writer.add_page(page)
        annotations = added.get("/Annots")
        if annotations is None:
            continue
        kept = ArrayObject(
            a for a in annotations.get_object() if a.get_object().get("/FT") != "/Sig"
        )
        if kept:
            added[NameObject("/Annots")] = kept
        else:
            del added["/Annots"]
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()
