"""Documents the office hands out, drawn with fpdf2 in the office's branding.

A :class:`Document` is a small vocabulary the features share (title, headings, paragraphs, a
key-value table, a grid table) so every PDF Portico makes looks like the same office wrote it.
Text is set in DejaVu Sans, shipped in ``fonts/``: client names such as "José Núñez" or "Zoë"
and the "€" sign print on any machine.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from io import BytesIO
from pathlib import Path
from threading import Lock
from typing import Any

from fontTools import ttLib
from fpdf import FPDF
from fpdf.fonts import FontFace, SubsetMap, TTFFont
from PIL import Image

from app.services.portal_settings import get_settings, logo

log = logging.getLogger(__name__)
# fontTools reports every font subset (dozens of lines per PDF) at INFO: keep its warnings only.
logging.getLogger("fontTools").setLevel(logging.WARNING)

FONT_DIR = Path(__file__).resolve().parent / "fonts"
FAMILY = "DejaVu"
_FONT_FILES = {"": "DejaVuSans.ttf", "B": "DejaVuSans-Bold.ttf"}
DEFAULT_COLOUR = "#1a5d96"
_TEXT = (33, 37, 41)
_MUTED = (108, 117, 125)
_RULE = (190, 196, 202)


@dataclass(frozen=True)
class Branding:
    """What makes a PDF the office's: its name, its colour, its logo (PNG, JPEG, WebP or GIF
    bytes, or None)."""

    office_name: str = "Portico"
    colour: str = DEFAULT_COLOUR
    logo: bytes | None = None

    @property
    def rgb(self) -> tuple[int, int, int]:
        value = self.colour if _is_colour(self.colour) else DEFAULT_COLOUR
        return int(value[1:3], 16), int(value[3:5], 16), int(value[5:7], 16)


def _is_colour(value: str | None) -> bool:
    if not value or len(value) != 7 or value[0] != "#":
        return False
    try:
        int(value[1:], 16)
    except ValueError:
        return False
    return True


def office_branding() -> Branding:
    """The branding set in the portal settings (name, colour, logo); needs an app context."""
    settings = get_settings()
    found = logo(settings)
    return Branding(
        office_name=settings.portal_name or "Portico",
        colour=settings.brand_colour or DEFAULT_COLOUR,
        logo=found.data if found is not None else None,
    )


# -- fonts --------------------------------------------------------------------------------------
# fpdf2 reads a TrueType file's metrics on every add_font (about 0.1 s each for DejaVu Sans).
# The metrics never change, so they are read once per process and shared; what a document
# changes (the glyph subset, and the fontTools object it subsets in place when writing) is
# made fresh for each document.

_parsed: dict[str, tuple[TTFFont, bytes]] = {}
_parsed_lock = Lock()


def _template(style: str) -> tuple[TTFFont, bytes]:
    with _parsed_lock:
        if style not in _parsed:
            path = FONT_DIR / _FONT_FILES[style]
            font = TTFFont(FPDF(), path, f"{FAMILY.lower()}{style}", style)
            _parsed[style] = (font, path.read_bytes())
        return _parsed[style]


@cache
def _printable() -> frozenset[int]:
    return frozenset(_template("")[0].ttfont.getBestCmap())


def unprintable(text: str) -> str:
    """The characters of ``text`` the documents' font cannot draw (they would print as
    nothing), each once, in order; white space aside."""
    chars = _printable()
    missing = dict.fromkeys(c for c in text if not c.isspace() and ord(c) not in chars)
    return "".join(missing)


def add_parsed_font(pdf: FPDF, template: TTFFont, raw: bytes) -> None:
    """Give ``pdf`` a font read once per process (``template``, from its file's ``raw``
    bytes): the metrics are shared, what a document changes (its glyph subset and the
    fontTools object subset in place on output) is its own."""
    font = TTFFont.__new__(TTFFont)
    for slot in TTFFont.__slots__:
        if hasattr(template, slot):
            setattr(font, slot, getattr(template, slot))
    font.i = len(pdf.fonts) + 1
    font.ttfont = ttLib.TTFont(BytesIO(raw), recalcTimestamp=False, lazy=True)
    font.missing_glyphs = []
    font.biggest_size_pt = 0
    font._hbfont = None
    font.subset = SubsetMap(font)
    pdf.fonts[template.fontkey] = font


def _add_fonts(pdf: FPDF) -> None:
    for style in _FONT_FILES:
        add_parsed_font(pdf, *_template(style))


# -- the document -------------------------------------------------------------------------------


class _PDF(FPDF):
    """fpdf2 with the office's header band and a footer: office name, page n of N."""

    def __init__(self, document: Document) -> None:
        super().__init__(format="A4", unit="mm")
        self.document = document
        self.set_margins(18, 18, 18)
        self.set_auto_page_break(auto=True, margin=20)
        # The page count's placeholder is one nobody can type: with fpdf2's "{nb}", a holder
        # named "Pay {nb} Co" printed as "Pay 1 Co".
        self.pages_alias = f"{{nb{secrets.token_hex(8)}}}"
        self.alias_nb_pages(self.pages_alias)

    def header(self) -> None:
        brand = self.document.branding
        self.set_fill_color(*brand.rgb)
        self.rect(0, 0, self.w, 4, style="F")
        self.set_y(9)

    def footer(self) -> None:
        brand = self.document.branding
        self.set_y(-14)
        self.set_draw_color(*brand.rgb)
        self.line(self.l_margin, self.get_y(), self.w - self.r_margin, self.get_y())
        self.set_font(FAMILY, size=8)
        self.set_text_color(*_MUTED)
        width = (self.w - self.l_margin - self.r_margin) / 2
        self.cell(width, 8, _fitted(self, brand.office_name, width - 2))
        pages = f"page {self.page_no()} of {self.pages_alias}"
        label = self.document.footer_label
        self.cell(width, 8, f"{label}, {pages}" if label else pages.capitalize(), align="R")


def _fitted(pdf: FPDF, text: str, width: float) -> str:
    """``text`` cut with an ellipsis to fit ``width`` (a long office name stays off the page
    count)."""
    if pdf.get_string_width(text) <= width:
        return text
    while text and pdf.get_string_width(text + "…") > width:
        text = text[:-1]
    return text.rstrip() + "…"


class Document:
    """A PDF being written: call the methods in reading order, then :meth:`output`.

    ``Document("Certificate of insurance", branding=office_branding())`` opens the first page
    with the office's logo, name and the title; the footer of every page repeats the office name
    and says "Page n of N".
    """

    def __init__(
        self,
        title: str,
        *,
        branding: Branding | None = None,
        subject: str = "",
        created: datetime | None = None,
        footer_label: str = "",
    ) -> None:
        self.title = title
        #: Names the pages of a part appended to another PDF ("Audit trail, page 1 of 2"), so
        #: their count is not read as the whole file's.
        self.footer_label = footer_label
        self.branding = branding or Branding()
        self.pdf = _PDF(self)
        _add_fonts(self.pdf)
        self.pdf.set_title(title)
        self.pdf.set_author(self.branding.office_name)
        self.pdf.set_creator("Portico")
        if subject:
            self.pdf.set_subject(subject)
        self.pdf.set_creation_date(created or datetime.now(UTC))
        self.pdf.add_page()
        self._masthead()

    # The first page: logo (if any) and office name, then the title in the brand colour.
    def _masthead(self) -> None:
        pdf, brand = self.pdf, self.branding
        top = pdf.get_y()
        text_x = pdf.l_margin
        if brand.logo is not None:
            try:
                # At most 14 mm high and 60 mm wide, in its own proportions.
                with Image.open(BytesIO(brand.logo)) as image:
                    ratio = image.width / image.height
                width, height = (ratio * 14, 14.0) if ratio * 14 <= 60 else (60.0, 60 / ratio)
                picture = BytesIO(brand.logo)
                info = pdf.image(picture, x=pdf.l_margin, y=top, w=width, h=height)
                text_x = pdf.l_margin + float(info.rendered_width) + 5
            except Exception as exc:  # an unreadable logo must not stop the document
                log.warning("logo left out of the PDF: %s", exc)
        pdf.set_xy(text_x, top + 3)
        pdf.set_font(FAMILY, "B", 11)
        pdf.set_text_color(*_TEXT)
        pdf.cell(0, 8, brand.office_name)
        pdf.set_xy(pdf.l_margin, top + 20)
        pdf.set_font(FAMILY, "B", 18)
        pdf.set_text_color(*brand.rgb)
        pdf.multi_cell(0, 9, self.title)
        pdf.ln(3)
        self._body()

    def _body(self) -> None:
        self.pdf.set_font(FAMILY, "", 10.5)
        self.pdf.set_text_color(*_TEXT)
        self.pdf.set_draw_color(*_RULE)
        self.pdf.set_line_width(0.2)

    def heading(self, text: str) -> Document:
        """A section heading in the brand colour."""
        pdf = self.pdf
        pdf.ln(3)
        pdf.set_font(FAMILY, "B", 13)
        pdf.set_text_color(*self.branding.rgb)
        pdf.multi_cell(0, 7, text)
        pdf.ln(1)
        self._body()
        return self

    def paragraph(self, text: str) -> Document:
        """A paragraph of plain text (wrapped; blank lines in it start new paragraphs)."""
        for part in text.split("\n\n"):
            self.pdf.multi_cell(0, 5.5, part.strip())
            self.pdf.ln(2.5)
        return self

    def key_values(self, rows: Iterable[tuple[str, Any]], *, label_width: float = 0.35) -> Document:
        """Label and value pairs, labels in bold on the left (None values print as a dash)."""
        pdf = self.pdf
        bold = FontFace(emphasis="BOLD")
        with pdf.table(
            col_widths=(label_width, 1 - label_width),
            first_row_as_headings=False,
            borders_layout="HORIZONTAL_LINES",
            line_height=6.5,
            padding=1.5,
        ) as table:
            for label, value in rows:
                row = table.row()
                row.cell(str(label), style=bold)
                row.cell(_text(value))
        pdf.ln(3)
        return self

    def table(
        self,
        headings: Sequence[str],
        rows: Iterable[Sequence[Any]],
        *,
        col_widths: Sequence[float] | None = None,
        align: Sequence[str] | None = None,
    ) -> Document:
        """A grid with a heading row in the brand colour, repeated on every page it spans.

        ``col_widths`` are relative (``(2, 1, 1)``); ``align`` per column: "L", "C" or "R".
        """
        pdf = self.pdf
        heading_style = FontFace(
            emphasis="BOLD", color=(255, 255, 255), fill_color=self.branding.rgb
        )
        with pdf.table(
            col_widths=tuple(col_widths) if col_widths else None,
            text_align=tuple(align) if align else "LEFT",
            headings_style=heading_style,
            repeat_headings=1,
            line_height=6.5,
            padding=1.5,
        ) as grid:
            head = grid.row()
            for title in headings:
                head.cell(str(title))
            for values in rows:
                row = grid.row()
                for value in values:
                    row.cell(_text(value))
        pdf.ln(3)
        return self

    def space(self, mm: float = 5) -> Document:
        self.pdf.ln(mm)
        return self

    def output(self) -> bytes:
        """The finished PDF (unsealed; :func:`app.pdf.seal` seals it)."""
        return bytes(self.pdf.output())


def _text(value: Any) -> str:
    if value is None or value == "":
        return "\u2013"  # an en dash: "nothing here"
    return str(value)
