"""The PDF side of e-signature: laying the signatures and fields over the pages and appending
the audit trail (checking an upload and drawing its page images: :mod:`app.pdf.pages`).

Placements are fractions of the page as the browser sees its image (origin top-left, after the
page's /Rotate), so the same numbers serve the page image and the PDF. Each page that receives
something gets an overlay page drawn by fpdf2 in those displayed coordinates; pypdf lays it over
the original page through a matrix that undoes /Rotate and the crop box's offset, so the
original content stays as it was, only covered where something was placed.

    info = inspect(upload)                      # PdfRefused: a sentence for the uploader
    png = render_page(upload, 0)
    signed = signed_pdf(upload, placements, audit_trail(...))
    sealed = seal(signed)                       # app.pdf.seal
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from io import BytesIO

from fpdf import FPDF
from fpdf.fonts import TTFFont
from PIL import Image
from pypdf import PageObject, PdfReader, PdfWriter, Transformation

from app.pdf.audit import AuditSigner, audit_trail
from app.pdf.document import FAMILY, FONT_DIR, _add_fonts, add_parsed_font
from app.pdf.pages import PdfInfo, PdfRefused, _displayed, _quiet, inspect, render_page

__all__ = [
    "AuditSigner",
    "PdfInfo",
    "PdfRefused",
    "Placement",
    "audit_trail",
    "inspect",
    "render_page",
    "signed_pdf",
    "stamp",
]

SCRIPT_FAMILY = "DancingScript"
SCRIPT_FILE = "DancingScript.otf"
KINDS = ("signature", "initials", "date_signed", "text", "checkbox")
#: Ink of typed signatures (a dark blue, like a pen's) and of text values.
_INK = (22, 42, 110)
_TEXT = (33, 37, 41)


@dataclass(frozen=True)
class Placement:
    """Something to draw on a page: ``x``, ``y``, ``width`` and ``height`` are fractions of the
    page (0..1) with the origin top-left, as the browser sees the page image."""

    page: int
    x: float
    y: float
    width: float
    height: float
    #: "signature" | "initials" | "date_signed" | "text" | "checkbox"
    kind: str
    #: text, date text, or "1" (ticked) / "" for a checkbox
    value: str | None = None
    #: PNG of a drawn signature or initials
    image: bytes | None = None
    #: a typed signature or initials, drawn in the handwriting font
    typed: str | None = None


def _to_page(page: PageObject) -> Transformation:
    """The matrix from the overlay (drawn upright, origin at its bottom-left corner) to the
    page's own space: undo /Rotate (a clockwise turn) and move to the crop box's corner."""
    box = page.cropbox
    x0, y0 = float(box.left), float(box.bottom)
    width, height, rotation = _displayed(page)
    if rotation == 90:  # overlay (u, v) -> page (x0 + w - v, y0 + u), w the unturned width
        return Transformation((0, 1, -1, 0, x0 + height, y0))
    if rotation == 180:
        return Transformation((-1, 0, 0, -1, x0 + width, y0 + height))
    if rotation == 270:
        return Transformation((0, -1, 1, 0, x0, y0 + width))
    return Transformation((1, 0, 0, 1, x0, y0))


def _check(placement: Placement, pages: int) -> None:
    if placement.kind not in KINDS:
        raise ValueError(f"unknown placement kind {placement.kind!r}")
    if not 0 <= placement.page < pages:
        raise ValueError(f"placement on page {placement.page}: the PDF has {pages} pages")
    slack = 1e-6
    x, y, w, h = placement.x, placement.y, placement.width, placement.height
    if not (
        -slack <= x
        and -slack <= y
        and w > 0
        and h > 0
        and x + w <= 1 + slack
        and y + h <= 1 + slack
    ):
        raise ValueError(f"placement box {(x, y, w, h)} is not inside the page")
    if placement.kind in ("signature", "initials") and not (placement.image or placement.typed):
        raise ValueError(f"a {placement.kind} placement needs an image or typed text")
    if placement.kind == "checkbox" and (placement.value or "") not in ("", "1"):
        raise ValueError(f'a checkbox value is "1" or "", not {placement.value!r}')


@cache
def _script_font() -> tuple[TTFFont, bytes, frozenset[int]]:
    """The handwriting font's metrics, read once per process (as the DejaVu fonts are, in
    app/pdf/document.py), its bytes, and the characters it can draw."""
    path = FONT_DIR / SCRIPT_FILE
    template = TTFFont(FPDF(), path, SCRIPT_FAMILY.lower(), "")
    return template, path.read_bytes(), frozenset(template.ttfont.getBestCmap())


def _add_script_font(pdf: FPDF) -> None:
    template, raw, _chars = _script_font()
    add_parsed_font(pdf, template, raw)


class _Overlay:
    """One fpdf2 document holding an overlay page for each page that receives something."""

    def __init__(self) -> None:
        self.pdf = FPDF(unit="pt")
        self.pdf.set_auto_page_break(False)
        self.pdf.set_margins(0, 0, 0)
        _add_fonts(self.pdf)
        _add_script_font(self.pdf)

    def page(self, width: float, height: float, placements: Sequence[Placement]) -> None:
        self.pdf.add_page(format=(width, height))
        for placement in placements:
            box = (
                placement.x * width,
                placement.y * height,
                placement.width * width,
                placement.height * height,
            )
            if placement.kind in ("signature", "initials"):
                if placement.image:
                    self._image(placement.image, *box)
                else:
                    self._text(placement.typed or "", *box, script=True)
            elif placement.kind == "checkbox":
                if placement.value == "1":
                    self._tick(*box)
            elif placement.value:
                self._text(placement.value, *box, script=False)

    def _image(self, png: bytes, x: float, y: float, w: float, h: float) -> None:
        try:
            with Image.open(BytesIO(png)) as image:
                ratio = image.width / image.height
        except (OSError, ValueError, ZeroDivisionError) as exc:
            raise ValueError(f"the signature image cannot be read: {exc}") from None
        # As large as the box allows in the image's own proportions, centred in the box.
        draw_w, draw_h = (w, w / ratio) if w / ratio <= h else (h * ratio, h)
        self.pdf.image(
            BytesIO(png), x=x + (w - draw_w) / 2, y=y + (h - draw_h) / 2, w=draw_w, h=draw_h
        )

    def _text(self, text: str, x: float, y: float, w: float, h: float, *, script: bool) -> None:
        text = " ".join(text.split())  # fields hold one line
        if not text:
            return
        pdf = self.pdf
        # A name the handwriting font cannot spell (Cyrillic, Greek, ...) is set in DejaVu Sans,
        # so the signature is never a row of empty boxes.
        if script and all(ord(char) in _script_font()[2] for char in text):
            family, colour, fill = SCRIPT_FAMILY, _INK, 0.8
        else:
            family, colour, fill = FAMILY, (_INK if script else _TEXT), 0.62
        padding = min(2.0, w * 0.04)
        size = h * fill  # as tall as the box allows ...
        pdf.set_font(family, size=size)
        room = w - 2 * padding
        needed = pdf.get_string_width(text)
        if needed > room:  # ... unless the text is too long for it: then as wide
            pdf.set_font(family, size=size * room / needed * 0.99)
        # No clipping to the box: fpdf2 2.8 emits the font lazily, inside the clipping's
        # q/Q, and the next field of the same font and size would then be drawn without one.
        pdf.set_text_color(*colour)
        pdf.c_margin = padding
        pdf.set_xy(x, y)
        pdf.cell(w, h, text, align="C" if script else "L")

    def _tick(self, x: float, y: float, w: float, h: float) -> None:
        side = min(w, h)
        left, top = x + (w - side) / 2, y + (h - side) / 2
        points = [(0.18, 0.55), (0.42, 0.8), (0.84, 0.2)]
        self.pdf.set_draw_color(*_TEXT)
        self.pdf.set_line_width(max(side * 0.1, 0.5))
        self.pdf.polyline([(left + px * side, top + py * side) for px, py in points])

    def output(self) -> PdfReader:
        return PdfReader(BytesIO(bytes(self.pdf.output())))


def _stamped(data: bytes, placements: Sequence[Placement]) -> PdfWriter:
    with _quiet():
        writer = PdfWriter(clone_from=PdfReader(BytesIO(data), strict=False))
    for placement in placements:
        _check(placement, len(writer.pages))
    on_page: dict[int, list[Placement]] = {}
    for placement in placements:
        on_page.setdefault(placement.page, []).append(placement)
    if not on_page:
        return writer
    overlay = _Overlay()
    order = sorted(on_page)
    for index in order:
        width, height, _turn = _displayed(writer.pages[index])
        overlay.page(width, height, on_page[index])
    drawn = overlay.output()
    for number, index in enumerate(order):
        target = writer.pages[index]
        target.merge_transformed_page(drawn.pages[number], _to_page(target), over=True)
    return writer


def _bytes(writer: PdfWriter) -> bytes:
    out = BytesIO()
    writer.write(out)
    return out.getvalue()


def stamp(data: bytes, placements: Sequence[Placement]) -> bytes:
    """The PDF with each placement drawn at its place on its page: images scaled to fit their
    box in their own proportions, typed signatures in the handwriting font sized to fit, text
    in DejaVu Sans sized to fit, a ticked checkbox as a tick mark (unticked leaves nothing).
    ValueError for a placement off its page or missing what it draws."""
    return _bytes(_stamped(data, placements))


def signed_pdf(original: bytes, placements: Sequence[Placement], audit: bytes) -> bytes:
    """stamp(original, placements) with the audit pages appended (unsealed: the caller seals
    with app.pdf.seal)."""
    writer = _stamped(original, placements)
    writer.append(PdfReader(BytesIO(audit)))
    return _bytes(writer)


def append_pages(original: bytes, extra: bytes) -> bytes:
    """``original`` with the pages of ``extra`` after its own (a sign request's signature
    page after its document)."""
    return signed_pdf(original, (), extra)
