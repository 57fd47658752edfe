"""Benchmark: sealing a 20-page signed PDF with two signers and the audit trail, per document,
next to producing the same PDF without the seal, in one run.

Builds a 20-page original once, then for each document: the audit trail, the stamped pages
(two signers: a drawn signature, a typed one, initials, dates, a text field and ticked boxes on
several pages) with the trail appended (``signed_pdf``), and, timed on top of it, the office's
seal. The office's key is generated into a scratch folder. The first document of the process
is timed apart: it reads the fonts, which later documents share.

    .venv/bin/python -m bench.signing            # BENCH_SIGNING_DOCS=20 by default
"""

from __future__ import annotations

import hashlib
import os
import sys
import tempfile
import time
from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from fpdf import FPDF  # noqa: E402
from PIL import Image, ImageDraw  # noqa: E402
from pypdf import PdfReader  # noqa: E402

from app.pdf import AuditSigner, Branding, Placement, audit_trail, signed_pdf  # noqa: E402
from app.pdf.sealing import _load_or_create, seal, verify  # noqa: E402

DOCS = int(os.environ.get("BENCH_SIGNING_DOCS", "20"))
PAGES = 20


def original() -> bytes:
    pdf = FPDF(format="A4")
    pdf.set_font("helvetica", size=10)
    for number in range(1, PAGES + 1):
        pdf.add_page()
        pdf.cell(0, 8, f"Commercial insurance application, page {number} of {PAGES}")
        pdf.ln(10)
        for line in range(40):
            pdf.cell(0, 5.5, f"Clause {number}.{line}: the insured declares the facts below.")
            pdf.ln(5.5)
    return bytes(pdf.output())


def drawn_signature() -> bytes:
    image = Image.new("RGBA", (600, 200), (0, 0, 0, 0))
    pen = ImageDraw.Draw(image)
    pen.line([(20, 150), (120, 40), (200, 160), (330, 60), (460, 150), (580, 50)], (20, 30, 90), 7)
    out = BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def placements(ink: bytes) -> list[Placement]:
    places: list[Placement] = []
    for page in (0, 4, 9, 14, 19):  # initials on several pages, both signers
        places.append(Placement(page, 0.70, 0.90, 0.10, 0.04, "initials", image=ink))
        places.append(Placement(page, 0.82, 0.90, 0.10, 0.04, "initials", typed="ZN"))
    for page, checked in ((2, "1"), (3, "1"), (7, ""), (11, "1")):
        places.append(Placement(page, 0.08, 0.40, 0.03, 0.02, "checkbox", value=checked))
    places += [
        Placement(5, 0.10, 0.50, 0.50, 0.03, "text", value="Harbor Point Bakery, 12 Quay St."),
        Placement(19, 0.10, 0.70, 0.35, 0.08, "signature", image=ink),
        Placement(19, 0.55, 0.70, 0.35, 0.08, "signature", typed="Zoë Núñez"),
        Placement(19, 0.10, 0.79, 0.25, 0.03, "date_signed", value="3 December 2026"),
        Placement(19, 0.55, 0.79, 0.25, 0.03, "date_signed", value="3 December 2026"),
    ]
    return places


def signers() -> list[AuditSigner]:
    when = datetime(2026, 12, 3, 14, 0, tzinfo=UTC)
    return [
        AuditSigner(
            name,
            email,
            "203.0.113.7",
            "Mozilla/5.0 (X11; Linux x86_64) Firefox/133.0",
            when,
            3,
            when,
            when,
            "Signed",
        )
        for name, email in (("José Núñez", "jose@example.com"), ("Zoë Núñez", "zoe@example.com"))
    ]


def produce(data: bytes, places: list[Placement]) -> bytes:
    audit = audit_trail(
        request_id=42,
        title="Commercial insurance application",
        original_sha256=hashlib.sha256(data).hexdigest(),
        signers=signers(),
        completed_at=datetime(2026, 12, 3, 14, 5, tzinfo=UTC),
        branding=Branding("Harbor Point Insurance"),
        timezone="America/New_York",
    )
    return signed_pdf(data, places, audit)


def main() -> None:
    data = original()
    places = placements(drawn_signature())
    started = time.perf_counter()
    first = produce(data, places)
    first_s = time.perf_counter() - started
    pages = len(PdfReader(BytesIO(first)).pages)

    with tempfile.TemporaryDirectory() as folder:
        key = _load_or_create(Path(folder) / "pdf-seal.pem", "Harbor Point Insurance")
        # The same documents, turn by turn, so a busy machine slows both alike.
        unsealed_s = sealed_s = 0.0
        sealed = b""
        for _ in range(DOCS):
            started = time.perf_counter()
            signed = produce(data, places)
            produced = time.perf_counter()
            sealed = seal(signed, key=key)
            done = time.perf_counter()
            unsealed_s += produced - started
            sealed_s += done - started
        assert verify(sealed, key=key).ok

    unsealed_ms, sealed_ms = unsealed_s / DOCS * 1000, sealed_s / DOCS * 1000
    print(
        f"{DOCS} signed documents of {pages} pages ({PAGES} + audit trail), "
        f"{len(places)} placements, two signers (first document, fonts read: {first_s:.2f} s)"
    )
    print(f"signed_pdf           {unsealed_ms:7.1f} ms/doc")
    print(f"signed_pdf + seal    {sealed_ms:7.1f} ms/doc")
    print(
        f"sealing costs {sealed_ms - unsealed_ms:.1f} ms/doc; "
        f"sealed takes {sealed_s / unsealed_s:.2f}x the time of unsealed"
    )


if __name__ == "__main__":
    main()
