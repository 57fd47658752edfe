"""The certificate of liability insurance PDF (app/pdf/certificate.py): what it says, that it
stays on the page whatever it is given, and that the office's seal holds over it."""

from datetime import date
from decimal import Decimal
from io import BytesIO

import pypdfium2 as pdfium
import pytest
from pypdf import PdfReader

from app.pdf import (
    Branding,
    CertificateData,
    CoverageLine,
    Party,
    certificate_pdf,
    seal,
    sealing,
    verify,
)
from app.pdf.certificate import money, us_date

LIMITS = (
    ("Each occurrence", 1_000_000),
    ("Damage to rented premises", 300_000),
    ("Medical expense (any one person)", Decimal("10000")),
    ("Personal and advertising injury", 1_000_000),
    ("General aggregate", Decimal("2000000.00")),
)
CARRIERS = ("The Hartford", "Zürich Versicherung", "Chubb", "Liberty Mutual", "Travelers", "CNA")
KINDS = ("General liability", "Automobile", "Umbrella", "Workers comp", "Property", "Cyber")
LONG_WORD = "W" * 60


def make(policies: int = 6, **changes) -> CertificateData:
    data = CertificateData(
        number="2026-000042",
        issued_on=date(2026, 12, 3),
        producer=Party(
            "Harbor Point Insurance",
            ("12 Quay Street", "Portland, ME 04101"),
            phone="+1 207 555 0100",
            email="office@harborpoint.example",
        ),
        insured=Party("José Núñez Bakery LLC", ("Zoë Núñez, 45 Rue de l'Église", "Montréal QC")),
        insurers=tuple(zip("ABCDEF", CARRIERS, strict=True)),
        coverages=tuple(
            CoverageLine(
                "ABCDEF"[i % 6],
                KINDS[i % 6],
                f"POL-{i:04d}-HP",
                date(2026, 1, 1),
                date(2027, 1, 1),
                LIMITS,
            )
            for i in range(policies)
        ),
        description="Holder is an additional insured for the bakery's work at 45 Rue de l'Église.",
        holder=Party("Acme Général Contractors", ("1 Main Street", "Springfield € Zone")),
    )
    return CertificateData(**{**data.__dict__, **changes})


def pages(pdf: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(BytesIO(pdf)).pages]


def test_the_certificate_says_who_what_and_how_much():
    text = "\n".join(pages(certificate_pdf(make(), branding=Branding("Harbor Point Insurance"))))
    assert "Certificate of liability insurance" in text
    assert "2026-000042" in text and "12/03/2026" in text  # number and date issued
    for name in ("Harbor Point Insurance", "José Núñez Bakery LLC", "Acme Général Contractors"):
        assert name in text
    assert "Zoë Núñez, 45 Rue de l'Église" in text and "Springfield € Zone" in text
    for letter, carrier in zip("ABCDEF", CARRIERS, strict=True):
        assert f"{letter} {carrier}" in text  # each insurer by its letter
    for i in range(6):
        assert f"POL-{i:04d}-HP" in text
    assert "01/01/2026" in text and "01/01/2027" in text
    for amount in ("$1,000,000", "$300,000", "$10,000", "$2,000,000"):
        assert amount in text
    flat = " ".join(text.split())  # wrapped sentences read as one line
    assert "confers no rights upon the certificate holder" in flat
    assert "notice will be delivered in accordance with the policy provisions" in flat
    assert "Authorized representative: Harbor Point Insurance" in flat


def test_the_usual_certificate_is_one_page():
    assert len(pages(certificate_pdf(make(6)))) == 1


def test_many_policies_run_on_with_the_table_heading_repeated():
    texts = pages(certificate_pdf(make(20)))
    assert len(texts) >= 2
    for text in texts:
        if "POL-" in text:
            assert "Policy number" in text and "Limits" in text
    whole = "\n".join(texts)
    for i in range(20):
        assert whole.count(f"POL-{i:04d}-HP") == 1
    assert "Certificate holder" in texts[-1] and "Acme Général Contractors" in texts[-1]


def test_markup_is_printed_as_text():
    data = make(holder=Party("<script>alert(1)</script>", ("<b>1 Main</b> & Co",)))
    text = "\n".join(pages(certificate_pdf(data)))
    assert "<script>alert(1)</script>" in text
    assert "<b>1 Main</b> & Co" in text


def ink_outside_margin(pdf: bytes, side_mm: float = 12, foot_mm: float = 4) -> list[int]:
    """Pages with anything drawn in the outer margin: 12 mm left and right (the text column
    starts 18 mm in), 4 mm at the foot (under the footer); the brand band at the very top
    is the only ink allowed there."""
    found = []
    document = pdfium.PdfDocument(pdf)
    try:
        for number in range(len(document)):
            image = document[number].render(scale=2).to_pil().convert("L")
            width, height = image.size
            edge = int(side_mm / 210 * width)
            foot = int(foot_mm / 297 * height)
            band = int(5 / 297 * height)  # the 4 mm colour band across the top
            strips = [
                (0, band, edge, height),
                (width - edge, band, width, height),
                (0, height - foot, width, height),
            ]
            if any(image.crop(box).getextrema()[0] < 250 for box in strips):
                found.append(number)
    finally:
        document.close()
    return found


def test_long_addresses_and_description_stay_on_the_page():
    long_line = "Çàéèêëìíîïñòóôõöùúûüý Straße " * 3
    data = make(
        3,
        insured=Party(LONG_WORD, (LONG_WORD, long_line, LONG_WORD)),
        holder=Party(
            f"{LONG_WORD} {LONG_WORD}",
            (LONG_WORD, long_line, LONG_WORD, LONG_WORD, LONG_WORD),
            email="a" * 50 + "@example.com",
        ),
        description=f"Operations at {LONG_WORD}. " * 60,
        coverages=(
            CoverageLine(
                "A",
                LONG_WORD,
                LONG_WORD,
                None,
                None,
                ((LONG_WORD, Decimal("999999999999.99")), ("Each occurrence", 5)),
            ),
        ),
    )
    pdf = certificate_pdf(data, branding=Branding("Harbor Point Insurance"))
    texts = pages(pdf)
    assert len(texts) >= 2  # the description flowed on
    whole = "\n".join(texts).replace("\n", "")
    assert LONG_WORD in whole  # broken over lines, never cut off
    assert "$999,999,999,999.99" in whole
    assert ink_outside_margin(pdf) == []


def test_the_margin_check_sees_ink_that_overflows():
    """The check above would notice a line drawn past the margin."""
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.add_page()
    pdf.set_font("helvetica", size=10)
    pdf.set_xy(150, 100)
    pdf.cell(0, 6, LONG_WORD)  # runs off the right edge
    assert ink_outside_margin(bytes(pdf.output())) == [0]


def test_money_and_dates():
    assert money(1_000_000) == "$1,000,000"
    assert money(Decimal("2500.50")) == "$2,500.50"
    assert money(Decimal("2000000.00")) == "$2,000,000"
    assert us_date(date(2026, 7, 4)) == "07/04/2026"
    assert us_date(None) == "\u2013"


def test_a_policy_without_limits_or_dates_prints_dashes():
    data = make(1, coverages=(CoverageLine("B", "Inland marine", "IM-1", None, None, ()),))
    text = "\n".join(pages(certificate_pdf(data)))
    assert "IM-1" in text and "Inland marine" in text and "\u2013" in text


@pytest.fixture
def office(make_app, tmp_path):
    sealing._cache.clear()
    application = make_app(PORTICO_INSTANCE_PATH=str(tmp_path / "instance"))
    with application.app_context():
        yield application
    sealing._cache.clear()


def test_sealed_certificate_verifies_and_keeps_its_text(office):
    sealed = seal(certificate_pdf(make()))
    verdict = verify(sealed)
    assert verdict.ok, verdict.message
    text = "\n".join(pages(sealed))
    assert "Acme Général Contractors" in text and "POL-0005-HP" in text


@pytest.mark.parametrize("number", ["HART-GL-2026-0001", "CGL-0001234567-2026-NY-01"])
def test_a_policy_number_is_printed_on_one_line(number):
    """A usual number fits its column; a longer one is printed smaller rather than broken
    mid-way ("HART-GL-2026-0" over "001" reads as two numbers)."""
    line = CoverageLine("A", "General liability", number, date(2026, 1, 1), None, LIMITS)
    pdf = certificate_pdf(make(coverages=(line,)))
    assert number in pages(pdf)[0]  # broken, its text has a line break inside
    assert ink_outside_margin(pdf) == []
