"""Reading a PDF sent for signing: the checks an upload must pass (:func:`inspect`) and the
page images a person places fields on and signs over (:func:`render_page`, drawn by PDFium).

Page sizes are as displayed: the crop box, turned by the page's /Rotate.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from io import BytesIO
from threading import Lock

import pypdfium2 as pdfium
from flask_babel import gettext as _
from PIL import Image
from pypdf import PageObject, PdfReader
from pypdf.errors import PyPdfError

#: Widest page image render_page draws: past this a request only costs memory.
MAX_WIDTH_PX = 4000

# PDFium is not thread-safe: one call into it at a time in this process.
_pdfium_lock = Lock()


class PdfRefused(ValueError):
    """A PDF we cannot take for signing; str(exc) is a sentence for the person who uploaded it
    (e.g. "This PDF is password-protected: remove the password and upload it again.")."""


@dataclass(frozen=True)
class PdfInfo:
    #: (width, height) of each page in PDF points, as displayed (after /Rotate).
    pages: list[tuple[float, float]]
    #: hex SHA-256 of the bytes.
    sha256: str


@contextmanager
def _quiet() -> Iterator[None]:
    """pypdf logs what it repairs in a damaged file ("EOF marker not found") at WARNING; the
    refusal says what matters, so its logger is held back while it reads an upload."""
    logger = logging.getLogger("pypdf")
    level = logger.level
    logger.setLevel(logging.ERROR + 10)
    try:
        yield
    finally:
        logger.setLevel(level)


def _displayed(page: PageObject) -> tuple[float, float, int]:
    """Width and height of the page as shown (its crop box, turned by /Rotate), and the turn."""
    box = page.cropbox
    width, height = abs(float(box.width)), abs(float(box.height))
    rotation = int(page.rotation) % 360
    if rotation % 90:
        rotation = 0  # not a multiple of 90: viewers ignore it, so do we
    return (height, width, rotation) if rotation in (90, 270) else (width, height, rotation)


#: Pages for signing are paper-like: each side between half an inch and 200 inches (the
#: largest a PDF page can be), and no side more than ten times the other.
MIN_SIDE_PT = 36.0
MAX_SIDE_PT = 14_400.0
MAX_ASPECT = 10.0
#: No page image taller than this, whatever the page's shape (the width shrinks to fit).
MAX_HEIGHT_PX = 4000


def _sensible(width: float, height: float) -> bool:
    small, large = min(width, height), max(width, height)
    return small >= MIN_SIDE_PT and large <= MAX_SIDE_PT and large <= small * MAX_ASPECT


def inspect(data: bytes, *, max_pages: int = 100) -> PdfInfo:
    """Check a PDF for signing: refuse (PdfRefused) a file that is not a PDF, is encrypted
    (even with an empty user password), is broken/unreadable, has no pages, or has more than
    max_pages pages."""
    if b"%PDF-" not in data[:1024]:
        raise PdfRefused(_("This file is not a PDF: upload the document as a PDF file."))
    broken = _("This PDF is damaged and cannot be read: save or export it again and upload it.")
    try:
        with _quiet():
            reader = PdfReader(BytesIO(data), strict=False)
            if reader.is_encrypted:
                raise PdfRefused(
                    _("This PDF is password-protected: remove the password and upload it again.")
                )
            count = len(reader.pages)
            if count > max_pages:
                raise PdfRefused(
                    _(
                        "This PDF has %(count)d pages; documents for signing can have at most "
                        "%(most)d pages.",
                        count=count,
                        most=max_pages,
                    )
                )
            pages = [_displayed(page)[:2] for page in reader.pages]
            for page in reader.pages:
                page.get_contents()  # a content stream that does not decode is damage too
    except PdfRefused:
        raise
    except (PyPdfError, ValueError, KeyError, IndexError, TypeError, AttributeError):
        raise PdfRefused(broken) from None
    if not pages:
        raise PdfRefused(_("This PDF has no pages: upload a document with at least one page."))
    if any(width <= 0 or height <= 0 for width, height in pages):
        raise PdfRefused(broken)
    if any(not _sensible(width, height) for width, height in pages):
        # A strip 60 pt wide and 14,400 pt tall would draw as a bitmap of gigabytes.
        raise PdfRefused(
            _(
                "A page of this PDF has an unusual size (very small, very large or very "
                "narrow): documents for signing need ordinary pages, such as Letter or A4."
            )
        )
    # The page images come from PDFium: a file it cannot open could be placed but never shown.
    try:
        with _pdfium_lock:
            document = pdfium.PdfDocument(data)
            try:
                shown = len(document)
            finally:
                document.close()
    except pdfium.PdfiumError:
        raise PdfRefused(broken) from None
    if shown != len(pages):
        raise PdfRefused(broken)
    return PdfInfo(pages=pages, sha256=hashlib.sha256(data).hexdigest())


def render_page(data: bytes, index: int, *, width_px: int = 900) -> bytes:
    """PNG of page ``index`` (0-based) scaled to width_px pixels wide (pypdfium2). IndexError
    for a page that does not exist."""
    if not 1 <= width_px <= MAX_WIDTH_PX:
        raise ValueError(f"width_px must be 1..{MAX_WIDTH_PX}, not {width_px}")
    with _pdfium_lock:
        document = pdfium.PdfDocument(data)
        try:
            if not 0 <= index < len(document):
                raise IndexError(f"page {index} does not exist: the PDF has {len(document)}")
            page = document[index]
            try:
                # as displayed: /Rotate is applied; a page stored before the size checks
                # (a saved layout, an old document) still never draws taller than the cap
                scale = min(width_px / page.get_width(), MAX_HEIGHT_PX / page.get_height())
                width_px = max(1, round(page.get_width() * scale))
                image = page.render(scale=scale, may_draw_forms=True).to_pil()
            finally:
                page.close()
        finally:
            document.close()
    if image.width != width_px:  # the scale rounded a pixel off
        height = max(1, round(image.height * width_px / image.width))
        image = image.resize((width_px, height), Image.Resampling.LANCZOS)
    out = BytesIO()
    image.convert("RGB").save(out, format="PNG", optimize=False)
    return out.getvalue()


# -- stamping -----------------------------------------------------------------------------------
