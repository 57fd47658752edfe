"""The completion PDF of a journey on its own: what it prints, as typed, in the office's time
zone; characters its font cannot draw spelled out; hashes on one line each."""

import io
from datetime import UTC, datetime

from pypdf import PdfReader

from app import pdf
from app.pdf.journey import printable, size_text

HASH = "0123456789abcdef" * 4


def data(**changes):
    values = {
        "journey": "Report a claim",
        "reference": "#7",
        "visitor_name": "Zoë Núñez",
        "visitor_email": "zoe@example.com",
        "record": None,
        "started_at": datetime(2026, 7, 1, 12, 0),
        "verified_at": None,
        "completed_at": datetime(2026, 7, 1, 12, 30, tzinfo=UTC),
        "steps": (
            pdf.StepPart("What happened", "Form", (("Details", "Hail {nb} on 漢字 street"),)),
            pdf.StepPart("Check", "Review"),
        ),
        "signed": (),
        "files": (pdf.FilePart("Photo", "hail.jpg", 2_500_000, HASH),),
        "trail": (),
    }
    values.update(changes)
    return pdf.JourneyRecord(**values)


def lines(document: bytes) -> list[str]:
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(document)).pages)
    return [line.strip() for line in text.splitlines()]


def test_what_the_pdf_prints():
    printed = lines(pdf.journey_pdf(data(), timezone="Europe/Madrid"))
    text = " ".join(printed)
    assert "Name Zoë Núñez" in text
    assert "Hail {nb} on [U+6F22][U+5B57] street" in text
    assert "Started 2026-07-01 14:00:00 CEST (Europe/Madrid)" in text  # naive: UTC
    assert "Email verified (PIN) \N{EN DASH}" in text and "Record" not in text
    assert HASH in printed  # a line of its own
    assert "Size 2.4 MB" in text
    assert "Nothing to answer in this step." in text and "Nothing was recorded." in text
    assert "Signed document" not in text


def test_helpers():
    assert printable("ok 🙂") == "ok [U+1F642]"
    assert [size_text(n) for n in (1, 532, 2048, 3 << 20)] == [
        "1 byte",
        "532 bytes",
        "2.0 KB",
        "3.0 MB",
    ]
