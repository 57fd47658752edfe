"""Benchmark: the completion PDF of a journey, per session, in one run: the record of the
session drawn (four steps, ten answers, two files with their fingerprints, a trail of a dozen
lines), the signed document's pages put after it, and the office's seal on the whole, each
timed apart, next to the signed document alone (what the signature step already cost).

The signed document is a 20-page signed PDF made once (as ``bench.signing`` makes it). The
office's key is generated into a scratch folder. The first document of the process is timed
apart: it reads the fonts, which later documents share.

    .venv/bin/python -m bench.journeys            # BENCH_JOURNEY_DOCS=20 by default
"""

from __future__ import annotations

import hashlib
import os
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from io import BytesIO
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pypdf import PdfReader  # noqa: E402

from app.pdf import (  # noqa: E402
    Branding,
    FilePart,
    JourneyRecord,
    SignedPart,
    StepPart,
    TrailLine,
    journey_pdf,
    with_pages_of,
)
from app.pdf.sealing import _load_or_create, seal, verify  # noqa: E402
from bench.signing import drawn_signature, original, placements, produce  # noqa: E402

DOCS = int(os.environ.get("BENCH_JOURNEY_DOCS", "20"))
START = datetime(2026, 12, 3, 14, 0, tzinfo=UTC)


def session_record(signed: bytes, original_sha: str) -> JourneyRecord:
    answers = (
        ("Driver's full name", "José Núñez"),
        ("Date of birth", "1980-02-29"),
        ("Licence number", "NY-4471-2290"),
        ("Relationship to you", "Spouse or partner"),
        ("Anything we should know", "Drives to work twice a week; garaged at night."),
    )
    files = (
        FilePart("Front of driver's licence", "front.jpg", 2_413_207, "ab" * 32),
        FilePart("Back of driver's licence", "back.jpg", 1_906_551, "cd" * 32),
    )
    trail = tuple(
        TrailLine(START + timedelta(minutes=n), what, "203.0.113.7")
        for n, what in enumerate(
            (
                "Started: welcome form sent",
                "PIN sent",
                "PIN wrong",
                "PIN sent",
                "PIN verified",
                "Step 1 done: The driver",
                "File put in Front of driver's licence",
                "File put in Back of driver's licence",
                "Step 2 done: Driver's licence",
                "Signed: Driver declaration",
                "Step 3 done: Declaration",
                "Journey completed",
            )
        )
    )
    return JourneyRecord(
        journey="Update your driver list",
        reference="#1042",
        visitor_name="José Núñez",
        visitor_email="jose@example.com",
        record="#311",
        started_at=START,
        verified_at=START + timedelta(minutes=4),
        completed_at=START + timedelta(minutes=12),
        steps=(
            StepPart("The driver", "Form", answers),
            StepPart("Driver's licence", "Upload", tuple((f.slot, f.filename) for f in files)),
            StepPart("Declaration", "Signature", (("Driver declaration", "Signed"),)),
            StepPart("Check and send", "Review"),
        ),
        signed=(
            SignedPart("Driver declaration", original_sha, hashlib.sha256(signed).hexdigest()),
        ),
        files=files,
        trail=trail,
    )


def main() -> None:
    data = original()
    signed = produce(data, placements(drawn_signature()))
    record = session_record(signed, hashlib.sha256(data).hexdigest())
    branding = Branding("Harbor Point Insurance")
    started = time.perf_counter()
    journey_pdf(record, branding=branding, timezone="America/New_York")
    first_s = time.perf_counter() - started

    with tempfile.TemporaryDirectory() as folder:
        key = _load_or_create(Path(folder) / "pdf-seal.pem", "Harbor Point Insurance")
        signed = seal(signed, key=key)
        drawn_s = joined_s = sealed_s = 0.0
        done = b""
        for _ in range(DOCS):
            t0 = time.perf_counter()
            drawn = journey_pdf(record, branding=branding, timezone="America/New_York")
            t1 = time.perf_counter()
            joined = with_pages_of(drawn, signed)
            t2 = time.perf_counter()
            done = seal(joined, key=key)
            t3 = time.perf_counter()
            drawn_s, joined_s, sealed_s = drawn_s + t1 - t0, joined_s + t2 - t1, sealed_s + t3 - t2
        assert verify(done, key=key).ok

    pages = len(PdfReader(BytesIO(done)).pages)
    own = pages - len(PdfReader(BytesIO(signed)).pages)
    total_ms = (drawn_s + joined_s + sealed_s) / DOCS * 1000
    print(
        f"{DOCS} completion PDFs of {pages} pages ({own} of the session's record + the "
        f"{pages - own}-page signed document), {len(done) // 1024} KB "
        f"(first document, fonts read: {first_s:.2f} s)"
    )
    print(f"record of the session   {drawn_s / DOCS * 1000:7.1f} ms/session")
    print(f"signed pages put after  {joined_s / DOCS * 1000:7.1f} ms/session")
    print(f"office's seal           {sealed_s / DOCS * 1000:7.1f} ms/session")
    print(f"completion PDF in all   {total_ms:7.1f} ms/session")


if __name__ == "__main__":
    main()
