"""The certificate of liability insurance a client hands to a landlord or a general contractor:
laid out in the spirit of the industry's usual form (producer and insured, the insurers A-F, the
coverages with their limits, the description of operations, the holder and the cancellation
wording), in our own words, drawn as the office's other PDFs are (:class:`app.pdf.Document`).

    data = CertificateData(number="2026-000042", issued_on=date.today(), ...)
    sealed = seal(certificate_pdf(data, branding=office_branding()))

Every value is printed as text, exactly as given: a holder named "<b>Ann</b>" reads so on paper.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from io import BytesIO

from fpdf.fonts import FontFace
from fpdf.util import Padding
from PIL import Image

from app.pdf.document import _MUTED, _RULE, _TEXT, FAMILY, Branding, Document

log = logging.getLogger(__name__)

TITLE = "Certificate of liability insurance"
DISCLAIMER = (
    "This certificate is issued as a matter of information only and confers no rights upon "
    "the certificate holder. It does not amend, extend or alter the coverage afforded by the "
    "policies below, and it is not a contract between the insurers affording coverage, the "
    "producer who issued it and the certificate holder. The policies listed were issued to the "
    "insured named below for the periods shown; the limits shown may have been reduced by paid "
    "claims, and the coverage is subject to all the terms, exclusions and conditions of those "
    "policies."
)
CANCELLATION = (
    "Should any of the above described policies be cancelled before the expiration date "
    "thereof, notice will be delivered in accordance with the policy provisions."
)
LETTERS = ("A", "B", "C", "D", "E", "F")

_SIZE = 7.5  # body text, points
_LINE = 3.3  # body line height, mm
_PAD = 1.0  # cell padding, mm
_BAND = 5.3  # a heading band, mm
#: Insr ltr, type, policy number, eff, exp, limit label, amount (relative). The policy
#: number's column takes a usual number ("HART-GL-2026-0001") on one line.
_COVERAGE_WIDTHS = (0.7, 2.1, 3.2, 2.0, 2.0, 4.6, 2.2)
#: A longer policy number is printed smaller, down to this size, before it wraps.
_MIN_NUMBER_SIZE = 5.5
_PLAIN = FontFace(family=FAMILY, emphasis="", size_pt=_SIZE, color=_TEXT)
_STRONG = FontFace(family=FAMILY, emphasis="BOLD", size_pt=_SIZE, color=_TEXT)


@dataclass(frozen=True)
class Party:
    """A name with its address lines (and, for the producer, a phone and an email)."""

    name: str
    lines: tuple[str, ...] = ()
    phone: str = ""
    email: str = ""

    def text(self) -> str:
        parts = [self.name, *self.lines]
        if self.phone:
            parts.append(f"Phone: {self.phone}")
        if self.email:
            parts.append(f"Email: {self.email}")
        return "\n".join(part for part in parts if part and part.strip())


@dataclass(frozen=True)
class CoverageLine:
    """One policy on the certificate; ``insurer`` is the letter (A-F) of its carrier in
    :attr:`CertificateData.insurers`, ``limits`` its coverage lines as (label, amount)."""

    insurer: str
    coverage_type: str
    policy_number: str
    effective: date | None
    expiry: date | None
    limits: tuple[tuple[str, Decimal | int], ...] = ()


@dataclass(frozen=True)
class CertificateData:
    """All a certificate says. ``insurers`` are (letter, carrier) pairs, A-F, six at most."""

    number: str
    issued_on: date
    producer: Party
    insured: Party
    insurers: tuple[tuple[str, str], ...]
    coverages: tuple[CoverageLine, ...]
    description: str
    holder: Party


def money(amount: Decimal | int) -> str:
    """ "$1,000,000"; cents only when there are some ("$2,500.50")."""
    value = Decimal(amount)
    if value == value.to_integral_value():
        return f"${value:,.0f}"
    return f"${value:,.2f}"


def us_date(day: date | None) -> str:
    """MM/DD/YYYY, the way these certificates date things; a dash for no date."""
    return day.strftime("%m/%d/%Y") if day else "\u2013"


class _Certificate(Document):
    """A :class:`Document` whose first page opens with the certificate's own masthead: the
    office (logo, name) on the left, the date issued and the number on the right."""

    def __init__(self, data: CertificateData, branding: Branding | None) -> None:
        self.data = data
        issued = datetime(data.issued_on.year, data.issued_on.month, data.issued_on.day, tzinfo=UTC)
        super().__init__(
            TITLE, branding=branding, subject=f"Certificate {data.number}", created=issued
        )

    def _masthead(self) -> None:
        pdf, brand, data = self.pdf, self.branding, self.data
        top = pdf.get_y()
        box_width, box_height = 58.0, 13.0
        text_x = pdf.l_margin
        if brand.logo is not None:
            try:  # at most 13 mm high and 45 mm wide, in its own proportions
                with Image.open(BytesIO(brand.logo)) as image:
                    ratio = image.width / image.height
                width, height = (ratio * 13, 13.0) if ratio * 13 <= 45 else (45.0, 45 / ratio)
                info = pdf.image(BytesIO(brand.logo), x=pdf.l_margin, y=top, w=width, h=height)
                text_x = pdf.l_margin + float(info.rendered_width) + 4
            except Exception as exc:  # an unreadable logo must not stop the certificate
                log.warning("logo left out of the certificate: %s", exc)
        text_width = pdf.w - pdf.r_margin - box_width - 4 - text_x
        pdf.set_xy(text_x, top)
        pdf.set_font(FAMILY, "B", 9.5)
        pdf.set_text_color(*_TEXT)
        pdf.multi_cell(text_width, 4.6, brand.office_name, new_x="LEFT", new_y="NEXT")
        pdf.set_font(FAMILY, "B", 14)
        pdf.set_text_color(*brand.rgb)
        pdf.multi_cell(text_width, 7, TITLE, new_x="LMARGIN", new_y="NEXT")
        left_bottom = pdf.get_y()

        # Date issued and number, top right, in a small box.
        box_x = pdf.w - pdf.r_margin - box_width
        pdf.set_draw_color(*_RULE)
        pdf.set_line_width(0.2)
        pdf.rect(box_x, top, box_width, box_height)
        for row, (label, value) in enumerate(
            (("Date issued", us_date(data.issued_on)), ("Certificate no.", data.number))
        ):
            pdf.set_xy(box_x + 2, top + 1.5 + row * 5)
            pdf.set_font(FAMILY, "B", 7)
            pdf.set_text_color(*_MUTED)
            pdf.cell(22, 5, label)
            pdf.set_font(FAMILY, "", 8.5)
            pdf.set_text_color(*_TEXT)
            pdf.cell(box_width - 26, 5, value, align="R")
        pdf.set_xy(pdf.l_margin, max(left_bottom, top + box_height) + 2)
        self._small()

    def _small(self) -> None:
        self.pdf.set_font(FAMILY, "", _SIZE)
        self.pdf.set_text_color(*_TEXT)
        self.pdf.set_draw_color(*_RULE)
        self.pdf.set_line_width(0.2)

    # -- sections ---------------------------------------------------------------------------

    def disclaimer(self) -> None:
        pdf = self.pdf
        pdf.set_font(FAMILY, "", 6.8)
        pdf.set_text_color(*_MUTED)
        pdf.multi_cell(0, 3.1, DISCLAIMER, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(1.5)
        self._small()

    def boxes(self, left: tuple[str, str], right: tuple[str, str]) -> None:
        """Two boxes side by side, each a label band over wrapped text."""
        self._grid([left[0], right[0]], [[left[1], right[1]]], widths=(1, 1))

    def insurers(self) -> None:
        """The carriers by letter, three to a row: A B C, then D E F."""
        carriers = dict(self.data.insurers)
        rows = []
        for first in (0, 3):
            row: list[str | tuple[str, FontFace]] = []
            for letter in LETTERS[first : first + 3]:
                row += [(letter, _STRONG), carriers.get(letter, "")]
            rows.append(row)
        self._grid(["Insurers affording coverage"], rows, widths=(0.45, 5.35) * 3, span=True)

    def coverages(self) -> None:
        """One row per policy; its limits as lines, labels left and amounts right-aligned."""
        rows: list[list[str | tuple[str, FontFace]]] = []
        label_width = self._column_width(_COVERAGE_WIDTHS, 5)
        amount_width = self._column_width(_COVERAGE_WIDTHS, 6)
        number_width = self._column_width(_COVERAGE_WIDTHS, 2)
        self.pdf.set_font(FAMILY, "", _SIZE)
        for line in self.data.coverages:
            labels, amounts = [], []
            # Each limit's label and amount start on the same line, however either wraps.
            for label, amount in line.limits:
                figure = money(amount)
                height = max(self._lines(label, label_width), self._lines(figure, amount_width))
                labels.append(label + "\n" * (height - self._lines(label, label_width)))
                amounts.append(figure + "\n" * (height - self._lines(figure, amount_width)))
            rows.append(
                [
                    (line.insurer, _STRONG),
                    line.coverage_type,
                    (line.policy_number, self._fitted(line.policy_number, number_width)),
                    us_date(line.effective),
                    us_date(line.expiry),
                    "\n".join(labels) or "\u2013",
                    ("\n".join(amounts), _PLAIN),
                ]
            )
        headings = [
            "Insr ltr",
            "Type of insurance",
            "Policy number",
            "Policy eff\n(MM/DD/YYYY)",
            "Policy exp\n(MM/DD/YYYY)",
            "Limits",
        ]
        self._grid(headings, rows, widths=_COVERAGE_WIDTHS, right=(6,), centre=(0,))

    def description(self) -> None:
        """A heading band, then the text flowing on (over pages, when it is long), ruled off."""
        pdf = self.pdf
        text = self.data.description.strip() or "\u2013"
        self._keep(_BAND + 3 * _LINE + 2 * _PAD)
        self._band("Description of operations / locations / vehicles")
        pdf.multi_cell(
            0, _LINE, text, align="L", padding=Padding.new(_PAD), new_x="LMARGIN", new_y="NEXT"
        )
        pdf.line(pdf.l_margin, pdf.get_y(), pdf.w - pdf.r_margin, pdf.get_y())
        pdf.ln(1.5)

    def _band(self, title: str) -> None:
        pdf = self.pdf
        pdf.set_font(FAMILY, "B", 6.3)
        pdf.set_fill_color(*self.branding.rgb)
        pdf.set_text_color(255, 255, 255)
        pdf.cell(0, _BAND, title, fill=True, new_x="LMARGIN", new_y="NEXT")
        pdf.set_fill_color(255, 255, 255)
        self._small()

    def _keep(self, height: float) -> None:
        """A new page unless ``height`` (mm) still fits on this one: a heading is not left
        alone at the foot of a page."""
        pdf = self.pdf
        if pdf.get_y() + height > pdf.page_break_trigger:
            pdf.add_page()

    def closing(self) -> None:
        holder = self.data.holder.text() or "\u2013"
        cancellation = (
            f"{CANCELLATION}\n\nAuthorized representative: {self.data.producer.name.strip()}"
        )
        self._grid(["Certificate holder", "Cancellation"], [[holder, cancellation]], widths=(1, 1))

    def _fitted(self, text: str, width: float) -> FontFace:
        """The body font, smaller when ``text`` would not fit ``width`` on one line: a policy
        number broken mid-way ("HART-GL-2026-0" over "001") reads as two numbers."""
        room = width - 2 * _PAD - 0.5
        needed = self.pdf.get_string_width(text)
        if needed <= room:
            return _PLAIN
        size = max(_MIN_NUMBER_SIZE, _SIZE * room / needed)
        return FontFace(family=FAMILY, emphasis="", size_pt=size, color=_TEXT)

    def _lines(self, text: str, width: float) -> int:
        """How many lines ``text`` takes in a table column ``width`` wide (current font), as
        the table wraps it (the cell's padding taken off the width)."""
        if "\n" not in text and self.pdf.get_string_width(text) < width - 2 * _PAD - 0.5:
            return 1  # the usual case, and much cheaper than a dry run of the wrapping
        lines = self.pdf.multi_cell(
            width, _LINE, text, dry_run=True, output="LINES", padding=Padding.new(_PAD)
        )
        return max(len(lines), 1) if isinstance(lines, list) else 1

    def _column_width(self, widths: Sequence[float], index: int) -> float:
        return self.pdf.epw * widths[index] / sum(widths)

    def _grid(
        self,
        headings: Sequence[str],
        rows: Sequence[Sequence[str | tuple[str, FontFace]]],
        *,
        widths: Sequence[float],
        span: bool = False,
        right: Sequence[int] = (),
        centre: Sequence[int] = (),
    ) -> None:
        """A table with a heading band in the brand colour (repeated on each page it runs
        onto); a short heading row spans the rest of the columns (``span``: the first heading
        spans them all)."""
        pdf = self.pdf
        pdf.set_font(FAMILY, "", _SIZE)
        if rows:  # the heading and the first row together
            first = max(
                self._lines(
                    value[0] if isinstance(value, tuple) else value,
                    self._column_width(widths, index),
                )
                for index, value in enumerate(rows[0])
            )
            self._keep(2 * _BAND + first * _LINE + 2 * _PAD)
        heading = FontFace(
            family=FAMILY, emphasis="BOLD", size_pt=6.3, color=(255, 255, 255),
            fill_color=self.branding.rgb,
        )  # fmt: skip
        with pdf.table(
            col_widths=tuple(widths),
            headings_style=heading,
            repeat_headings=1,
            line_height=_LINE,
            padding=_PAD,
            text_align="LEFT",
            v_align="TOP",
        ) as grid:
            head = grid.row()
            for index, title in enumerate(headings):
                last = index == len(headings) - 1
                head.cell(title, colspan=len(widths) - index if (span or last) else 1)
                if span:
                    break
            for values in rows:
                row = grid.row()
                for index, value in enumerate(values):
                    text, style = value if isinstance(value, tuple) else (value, _PLAIN)
                    align = "R" if index in right else "C" if index in centre else "L"
                    row.cell(text, style=style, align=align)
        pdf.ln(1.5)
        self._small()


def certificate_pdf(data: CertificateData, *, branding: Branding | None = None) -> bytes:
    """The certificate as an unsealed PDF (``app.pdf.seal`` seals it): one A4 page for the
    usual certificate; a long coverages table runs on, its heading repeated on each page."""
    doc = _Certificate(data, branding)
    doc.disclaimer()
    doc.boxes(("Producer", data.producer.text() or "\u2013"), ("Insured", data.insured.text()))
    doc.insurers()
    doc.coverages()
    doc.description()
    doc.closing()
    return doc.output()
