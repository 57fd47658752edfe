"""Benchmark: pages per second for a 20-page office document, unsealed and sealed, in one run.

Builds the same document (masthead, paragraphs, a key-value table and a long grid) with the
office's key generated into a scratch folder, then prints pages/s for drawing only, for drawing
plus sealing, and for verifying, and what sealing costs. The first document of the
process is timed apart: it reads the fonts, which later documents share.

    .venv/bin/python -m bench.pdf            # BENCH_PDF_DOCS=10 by default
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.pdf import Branding, Document  # noqa: E402
from app.pdf.sealing import _load_or_create, seal, verify  # noqa: E402

DOCS = int(os.environ.get("BENCH_PDF_DOCS", "10"))
#: Grid rows that fill 20 A4 pages.
ROWS = 525


def build() -> bytes:
    doc = Document("Schedule of insurance", branding=Branding("Harbor Point Insurance", "#1a5d96"))
    doc.paragraph("Insured: José Núñez and Zoë Núñez. All amounts in € unless stated.")
    doc.key_values([("Policy", "HP-2026-0042"), ("Insured", "José Núñez"), ("Premium", "€ 1,200")])
    rows = [[i, f"Item {i} for Zoë", "Covered", f"€ {i * 100:,}"] for i in range(1, ROWS)]
    doc.table(["#", "Description", "Status", "Limit"], rows, col_widths=(1, 5, 2, 2))
    return doc.output()


def pages_of(data: bytes) -> int:
    from io import BytesIO

    from pypdf import PdfReader

    return len(PdfReader(BytesIO(data)).pages)


def main() -> None:
    started = time.perf_counter()
    first = build()
    first_s = time.perf_counter() - started
    pages = pages_of(first)

    with tempfile.TemporaryDirectory() as folder:
        key = _load_or_create(Path(folder) / "pdf-seal.pem", "Harbor Point Insurance")

        # Drawing and sealing are timed on the same documents, turn by turn, so a busy
        # machine slows both alike.
        unsealed_s = sealed_s = 0.0
        sealed = b""
        for _ in range(DOCS):
            started = time.perf_counter()
            data = build()
            drawn = time.perf_counter()
            sealed = seal(data, key=key)
            done = time.perf_counter()
            unsealed_s += drawn - started
            sealed_s += done - started

        started = time.perf_counter()
        for _ in range(DOCS):
            assert verify(sealed, key=key).ok
        verify_s = time.perf_counter() - started

    total = DOCS * pages
    print(f"{DOCS} documents of {pages} pages each (first document, fonts read: {first_s:.2f} s)")
    print(f"unsealed  {total / unsealed_s:8.1f} pages/s  ({unsealed_s / DOCS * 1000:6.1f} ms/doc)")
    print(f"sealed    {total / sealed_s:8.1f} pages/s  ({sealed_s / DOCS * 1000:6.1f} ms/doc)")
    print(f"verify    {total / verify_s:8.1f} pages/s  ({verify_s / DOCS * 1000:6.1f} ms/doc)")
    print(
        f"sealing costs {(sealed_s - unsealed_s) / DOCS * 1000:.1f} ms/doc; "
        f"sealed runs at {unsealed_s / sealed_s:.2f} of the unsealed rate"
    )


if __name__ == "__main__":
    main()
