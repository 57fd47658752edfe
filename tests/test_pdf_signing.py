"""E-signature's PDF layer (app/pdf/signing.py, app/pdf/audit.py) on real PDFs: made by fpdf2,
turned and offset by pypdf, read back by pypdf (text) and PDFium (pixels)."""

import hashlib
from datetime import UTC, datetime
from io import BytesIO

import pytest
from fpdf import FPDF
from PIL import Image, ImageChops
from pypdf import PdfReader, PdfWriter, Transformation

from app.pdf import (
    AuditSigner,
    PdfRefused,
    Placement,
    audit_trail,
    inspect,
    render_page,
    seal,
    sealing,
    signed_pdf,
    stamp,
    verify,
)

A4 = (595.28, 841.89)
WIDTH = 600  # pixels of the page images the tests look at


@pytest.fixture
def office(make_app, tmp_path):
    """An app with its own instance folder, so its seal key is made for this test."""
    sealing._cache.clear()
    application = make_app(PORTICO_INSTANCE_PATH=str(tmp_path / "instance"))
    with application.app_context():
        yield application
    sealing._cache.clear()


def original(pages: int = 2, *, landscape_last: bool = False) -> bytes:
    pdf = FPDF(unit="pt", format="A4")
    for number in range(1, pages + 1):
        turn = "L" if landscape_last and number == pages else "P"
        pdf.add_page(orientation=turn)
        pdf.set_font("helvetica", size=14)
        pdf.text(40, 60, f"Original page {number} of the application")
    return bytes(pdf.output())


def rewritten(data: bytes, change) -> bytes:
    writer = PdfWriter(clone_from=PdfReader(BytesIO(data)))
    for page in writer.pages:
        change(page)
    out = BytesIO()
    writer.write(out)
    return out.getvalue()


def turned(data: bytes, degrees: int = 90) -> bytes:
    return rewritten(data, lambda page: page.rotate(degrees))


def offset(data: bytes, dx: float = 150, dy: float = -300) -> bytes:
    """The same pages with their content and media box moved away from (0, 0)."""

    def move(page):
        page.add_transformation(Transformation().translate(dx, dy))
        width, height = float(page.mediabox.width), float(page.mediabox.height)
        page.mediabox.lower_left = (dx, dy)
        page.mediabox.upper_right = (dx + width, dy + height)

    return rewritten(data, move)


def signature_png(width: int = 300, height: int = 100) -> bytes:
    """A "drawn signature": opaque dark ink, 3:1."""
    out = BytesIO()
    Image.new("RGB", (width, height), (10, 20, 90)).save(out, format="PNG")
    return out.getvalue()


def text_of(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(BytesIO(data)).pages)


def words_of(data: bytes) -> str:
    """The text on one line, single-spaced (table cells wrap, paragraphs are justified)."""
    return " ".join(text_of(data).split())


def image(png: bytes) -> Image.Image:
    return Image.open(BytesIO(png)).convert("RGB")


def changed_box(before: bytes, after: bytes, index: int) -> tuple[int, int, int, int] | None:
    """Where the page image of ``after`` differs from ``before`` (pixels, left-top-right-bottom)."""
    old = image(render_page(before, index, width_px=WIDTH))
    new = image(render_page(after, index, width_px=WIDTH))
    assert old.size == new.size
    difference = ImageChops.difference(old, new).convert("L").point(lambda v: 255 if v > 40 else 0)
    return difference.getbbox()


def in_pixels(placement: Placement, size: tuple[int, int]) -> tuple[float, float, float, float]:
    width, height = size
    return (
        placement.x * width,
        placement.y * height,
        (placement.x + placement.width) * width,
        (placement.y + placement.height) * height,
    )


def assert_inside(found, box, slack: float = 2.0) -> None:
    assert found is not None, "nothing was drawn"
    left, top, right, bottom = found
    assert left >= box[0] - slack and top >= box[1] - slack, (found, box)
    assert right <= box[2] + slack and bottom <= box[3] + slack, (found, box)


# -- inspect ------------------------------------------------------------------------------------


def test_inspect_gives_pages_as_displayed_and_the_hash():
    data = original(3, landscape_last=True)
    info = inspect(data)
    assert info.sha256 == hashlib.sha256(data).hexdigest()
    assert [tuple(round(v, 2) for v in size) for size in info.pages] == [A4, A4, A4[::-1]]


def test_inspect_turns_rotated_pages_and_ignores_a_media_box_offset():
    assert [tuple(round(v, 2) for v in s) for s in inspect(turned(original(1))).pages] == [A4[::-1]]
    assert [tuple(round(v, 2) for v in s) for s in inspect(turned(original(1), 180)).pages] == [A4]
    assert [tuple(round(v, 2) for v in s) for s in inspect(offset(original(1))).pages] == [A4]


def encrypted(user_password: str) -> bytes:
    writer = PdfWriter(clone_from=PdfReader(BytesIO(original(1))))
    writer.encrypt(user_password=user_password, owner_password="owner", algorithm="AES-128")
    out = BytesIO()
    writer.write(out)
    return out.getvalue()


def empty_pdf() -> bytes:
    out = BytesIO()
    PdfWriter().write(out)
    return out.getvalue()


@pytest.mark.parametrize(
    ("data", "says"),
    [
        (b"hello, this is a text file", "not a PDF"),
        (signature_png(), "not a PDF"),
        (b"", "not a PDF"),
        (original(2)[: len(original(2)) // 2], "damaged"),
        (original(2)[:400], "damaged"),
        (b"%PDF-1.7\n" + b"\x00garbage" * 200, "damaged"),
        (encrypted(""), "password-protected"),
        (encrypted("s3cret"), "password-protected"),
        (empty_pdf(), "no pages"),
    ],
    ids=["text", "png", "empty", "half", "header-only", "garbage", "empty-pw", "pw", "no-pages"],
)
def test_inspect_refuses_with_a_sentence(data, says):
    with pytest.raises(PdfRefused) as refused:
        inspect(data)
    message = str(refused.value)
    assert says in message
    assert message[0].isupper() and message.endswith(".")


def test_inspect_refuses_more_pages_than_allowed():
    data = original(3)
    assert len(inspect(data, max_pages=3).pages) == 3
    with pytest.raises(PdfRefused, match=r"^This PDF has 3 pages;.* at most 2 pages\.$"):
        inspect(data, max_pages=2)


# -- render_page --------------------------------------------------------------------------------


def test_render_page_is_a_png_of_the_asked_width():
    data = original(2, landscape_last=True)
    first = render_page(data, 0, width_px=300)
    assert first.startswith(b"\x89PNG\r\n\x1a\n")
    width, height = image(first).size
    assert width == 300 and abs(height - 300 * A4[1] / A4[0]) < 1.5
    assert image(render_page(data, 1)).width == 900  # the default
    landscape = image(render_page(data, 1, width_px=301))
    assert landscape.width == 301 and landscape.height < 301
    rotated = image(render_page(turned(original(1)), 0, width_px=500))
    assert rotated.width == 500 and rotated.height < 500


def test_render_page_raises_index_error_for_a_missing_page():
    data = original(2)
    for index in (2, 10, -1):
        with pytest.raises(IndexError):
            render_page(data, index)
    with pytest.raises(ValueError, match="width_px"):
        render_page(data, 0, width_px=0)


# -- stamp --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "make",
    [
        original,
        lambda: turned(original()),
        lambda: turned(original(), 270),
        lambda: offset(original()),
    ],
    ids=["upright", "rotate-90", "rotate-270", "media-box-offset"],
)
def test_a_drawn_signature_lands_in_its_box_and_nowhere_else(make):
    data = make()
    place = Placement(
        page=1, x=0.55, y=0.7, width=0.35, height=0.08, kind="signature", image=signature_png()
    )
    stamped = stamp(data, [place])
    size = image(render_page(stamped, 1, width_px=WIDTH)).size
    box = in_pixels(place, size)
    found = changed_box(data, stamped, 1)
    assert_inside(found, box)
    left, top, right, bottom = found  # type: ignore[misc]
    # fitted in its own proportions (3:1), as tall as the box, centred across it
    assert (right - left) / (bottom - top) == pytest.approx(3, rel=0.08)
    assert bottom - top == pytest.approx(box[3] - box[1], abs=3)
    assert (left + right) / 2 == pytest.approx((box[0] + box[2]) / 2, abs=3)
    assert changed_box(data, stamped, 0) is None  # the other page is untouched
    text = text_of(stamped)
    assert "Original page 1 of the application" in text
    assert "Original page 2 of the application" in text


def test_typed_signature_text_date_and_tick_appear_with_the_original():
    data = original(2)
    places = [
        Placement(0, 0.1, 0.5, 0.4, 0.06, "signature", typed="José Núñez"),
        Placement(0, 0.1, 0.6, 0.15, 0.05, "initials", typed="Zoë"),
        Placement(0, 0.55, 0.5, 0.35, 0.03, "text", value="Policy HP-42 for Zoë"),
        Placement(0, 0.55, 0.6, 0.3, 0.03, "date_signed", value="3 December 2026"),
        Placement(1, 0.1, 0.1, 0.04, 0.03, "checkbox", value="1"),
        Placement(1, 0.5, 0.1, 0.04, 0.03, "checkbox", value=""),
    ]
    stamped = stamp(data, places)
    reader = PdfReader(BytesIO(stamped))
    assert len(reader.pages) == 2
    first = reader.pages[0].extract_text()
    for words in (
        "Original page 1",
        "José Núñez",
        "Zoë",
        "Policy HP-42 for Zoë",
        "3 December 2026",
    ):
        assert words in first
    fonts = reader.pages[0]["/Resources"]["/Font"].values()
    assert any("DancingScript" in font.get_object()["/BaseFont"] for font in fonts)
    size = image(render_page(stamped, 0, width_px=WIDTH)).size
    changed = changed_box(data, stamped, 0)
    assert changed is not None
    # everything drawn on page 1 lies inside the union of its boxes
    union = (
        min(in_pixels(p, size)[0] for p in places[:4]),
        min(in_pixels(p, size)[1] for p in places[:4]),
        max(in_pixels(p, size)[2] for p in places[:4]),
        max(in_pixels(p, size)[3] for p in places[:4]),
    )
    assert_inside(changed, union)
    # the tick is drawn in its box; the unticked box leaves the page as it was
    assert_inside(changed_box(data, stamped, 1), in_pixels(places[4], size))
    assert stamp(data, [places[5]]) and changed_box(data, stamp(data, [places[5]]), 1) is None


def test_a_name_the_handwriting_font_cannot_spell_still_prints():
    stamped = stamp(
        original(1), [Placement(0, 0.1, 0.1, 0.5, 0.05, "signature", typed="Дмитрий Zoë")]
    )
    assert "Дмитрий Zoë" in text_of(stamped)


def test_text_too_long_for_its_box_is_shrunk_to_fit():
    data = original(1)
    place = Placement(0, 0.1, 0.3, 0.2, 0.03, "text", value="José Núñez, " * 8)
    stamped = stamp(data, [place])
    size = image(render_page(stamped, 0, width_px=WIDTH)).size
    assert_inside(changed_box(data, stamped, 0), in_pixels(place, size))


@pytest.mark.parametrize(
    "place",
    [
        Placement(2, 0.1, 0.1, 0.1, 0.1, "text", value="x"),
        Placement(0, 0.95, 0.1, 0.1, 0.1, "text", value="x"),
        Placement(0, 0.1, 0.1, 0.0, 0.1, "text", value="x"),
        Placement(0, 0.1, 0.1, 0.1, 0.1, "stamp", value="x"),
        Placement(0, 0.1, 0.1, 0.1, 0.1, "signature"),
        Placement(0, 0.1, 0.1, 0.1, 0.1, "checkbox", value="yes"),
        Placement(0, 0.1, 0.1, 0.1, 0.1, "signature", image=b"not a png"),
    ],
    ids=["no-page", "off-right", "no-width", "kind", "no-ink", "checkbox-value", "bad-image"],
)
def test_a_placement_that_cannot_be_drawn_is_a_value_error(place):
    with pytest.raises(ValueError):
        stamp(original(2), [place])


# -- audit trail and the signed, sealed file ----------------------------------------------------

SIGNERS = [
    AuditSigner(
        name="José Núñez",
        email="jose@example.com",
        ip="203.0.113.7",
        user_agent="Mozilla/5.0 (X11; Linux x86_64) Firefox/133.0",
        consented_at=datetime(2026, 12, 3, 14, 0, 5, tzinfo=UTC),
        disclosure_version=3,
        viewed_at=datetime(2026, 12, 3, 14, 0, 1),  # naive: UTC
        signed_at=datetime(2026, 12, 3, 14, 2, 30, tzinfo=UTC),
        status="Signed",
    ),
    AuditSigner(
        name="Zoë",
        email="zoe@example.com",
        ip="2001:db8::1",
        user_agent=None,
        consented_at=None,
        disclosure_version=None,
        viewed_at=None,
        signed_at=None,
        status="Declined",
    ),
]


def audit_for(data: bytes, timezone: str = "America/New_York") -> bytes:
    return audit_trail(
        request_id=42,
        title="Application for José Núñez",
        original_sha256=hashlib.sha256(data).hexdigest(),
        signers=SIGNERS,
        completed_at=datetime(2026, 12, 3, 14, 5, tzinfo=UTC),
        timezone=timezone,
    )


def test_audit_trail_names_every_signer_and_the_hash_in_the_office_zone():
    data = original(1)
    text = words_of(audit_for(data))
    for words in (
        "Audit trail",
        "#42",
        "Application for José Núñez",
        hashlib.sha256(data).hexdigest(),
        "José Núñez",
        "jose@example.com",
        "203.0.113.7",
        "Firefox/133.0",
        "Zoë",
        "zoe@example.com",
        "2001:db8::1",
        "Declined",
        "2026-12-03 09:00:05 EST (America/New_York), disclosure version 3",
        "2026-12-03 09:00:01 EST (America/New_York)",  # viewed, given naive
        "2026-12-03 09:02:30 EST",
        "2026-12-03 09:05:00 EST",  # completed
    ):
        assert words in text
    assert "2026-12-03 14:05:00 UTC" in words_of(audit_for(data, "UTC"))
    assert "2026-12-03 14:05:00 UTC" in words_of(audit_for(data, "Not/AZone"))


def test_signed_pdf_sealed_verifies_and_a_flipped_byte_does_not(office):
    data = original(2)
    places = [
        Placement(0, 0.1, 0.7, 0.35, 0.08, "signature", image=signature_png()),
        Placement(1, 0.1, 0.7, 0.35, 0.06, "signature", typed="Zoë"),
    ]
    audit = audit_for(data)
    signed = signed_pdf(data, places, audit)
    reader = PdfReader(BytesIO(signed))
    assert len(reader.pages) == 2 + len(PdfReader(BytesIO(audit)).pages)
    assert "Original page 1" in reader.pages[0].extract_text()
    assert "Zoë" in reader.pages[1].extract_text()
    trail = " ".join(" ".join(page.extract_text() for page in reader.pages[2:]).split())
    for words in ("José Núñez", "jose@example.com", "Zoë", "zoe@example.com"):
        assert words in trail
    assert hashlib.sha256(data).hexdigest() in trail and "disclosure version 3" in trail

    sealed = seal(signed)
    verdict = verify(sealed)
    assert verdict.ok, verdict.message
    assert "José Núñez" in text_of(sealed)
    changed = bytearray(sealed)
    changed[len(sealed) // 2] ^= 0x01
    assert not verify(bytes(changed)).ok


def strip(width: float, height: float) -> bytes:
    """One page of the given size in points (a shape no paper has, for the size checks)."""
    writer = PdfWriter()
    writer.add_blank_page(width=width, height=height)
    out = BytesIO()
    writer.write(out)
    return out.getvalue()


@pytest.mark.parametrize(
    "size",
    [(60, 14_400), (3, 792), (612, 20), (20_000, 20_000)],
    ids=["tall", "thin", "flat", "huge"],
)
def test_inspect_refuses_pages_no_paper_has(size):
    # A 60 x 14,400 pt strip drawn 1,000 px wide would be a bitmap of gigabytes.
    with pytest.raises(PdfRefused, match="unusual size"):
        inspect(strip(*size))
    assert inspect(strip(612, 792)).pages == [(612, 792)]


def test_render_page_never_draws_taller_than_its_cap():
    # A page stored before the size checks (say, in a saved layout) still draws within bounds.
    png = image(render_page(strip(60, 14_400), 0, width_px=1000))
    assert png.height <= 4000 and png.width < 1000
