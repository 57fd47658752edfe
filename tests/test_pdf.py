import logging
import os
import stat
from datetime import UTC, datetime, timedelta
from io import BytesIO

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID
from pypdf import PdfReader, PdfWriter
from pypdf.generic import (
    ArrayObject,
    DictionaryObject,
    NameObject,
    NumberObject,
    TextStringObject,
)

from app.pdf import (
    Branding,
    Document,
    SealError,
    office_branding,
    office_key,
    seal,
    sealing,
    verify,
)
from app.services.portal_settings import get_settings
from models import db

NAMES = ("José Núñez", "Zoë", "€")


@pytest.fixture(autouse=True)
def _fresh_keys():
    """Each test loads keys from disk, as a new process would."""
    sealing._cache.clear()
    yield
    sealing._cache.clear()


@pytest.fixture
def office(make_app, tmp_path):
    """An app with its own instance folder, so its seal key is made for this test."""
    application = make_app(PORTICO_INSTANCE_PATH=str(tmp_path / "instance"))
    with application.app_context():
        yield application


def text_of(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(BytesIO(data)).pages)


def sample(branding: Branding | None = None) -> bytes:
    doc = Document("Certificate of insurance", branding=branding or Branding("Zoë & Núñez Agency"))
    doc.heading("Insured").paragraph("Issued to José Núñez and Zoë; premium € 1,200.")
    doc.key_values([("Insured", "José Núñez"), ("Co-applicant", "Zoë"), ("Phone", None)])
    doc.table(
        ["Coverage", "Limit"],
        [["Liability", "€ 1,000,000"], ["Property", "€ 250,000"]],
        col_widths=(2, 1),
        align=("LEFT", "RIGHT"),
    )
    return doc.output()


def flip_in_signed_range(data: bytes) -> bytes:
    """Change one byte inside the first content stream (well inside the sealed bytes)."""
    at = data.index(b"stream\n") + len(b"stream\n") + 10
    changed = bytearray(data)
    changed[at] ^= 0x01
    return bytes(changed)


def make_certificate(common_name: str, *, issuer=None):
    """A key and certificate; self-signed, or issued by ``issuer`` (key, certificate)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    issuer_key, issuer_cert = issuer or (key, None)
    now = datetime.now(UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(issuer_cert.subject if issuer_cert else name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=issuer is None, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=issuer is None,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
    )
    return key, builder.sign(issuer_key, hashes.SHA256())


def test_document_prints_accented_names_and_the_euro_sign():
    data = sample()
    assert data.startswith(b"%PDF-")
    text = text_of(data)
    for name in NAMES:
        assert name in text
    assert "Zoë & Núñez Agency" in text  # masthead and footer
    assert "Page 1 of 1" in text
    assert "Liability" in text and "€ 1,000,000" in text


def test_fonts_read_once_serve_every_document_and_log_nothing(caplog):
    with caplog.at_level(logging.INFO):
        first = Document("Plain")
        first.paragraph("abc")
        first.output()
        second = Document("Accents")
        second.paragraph("José Núñez, Zoë, €")
        text = text_of(second.output())
    # the first document's subset (a, b, c) did not shrink the font the second one uses
    assert "José Núñez, Zoë, €" in text
    assert second.pdf.fonts["dejavu"].cw is first.pdf.fonts["dejavu"].cw  # parsed once
    assert not [r for r in caplog.records if r.name.startswith(("fontTools", "fpdf"))]


def test_long_table_runs_over_pages_with_numbered_footers():
    doc = Document("Schedule", branding=Branding("Harbor Point", "#aa3300"))
    doc.table(["#", "Name"], [[i, f"Zoë {i}"] for i in range(120)])
    reader = PdfReader(BytesIO(doc.output()))
    pages = len(reader.pages)
    assert pages >= 3
    last = reader.pages[-1].extract_text()
    assert f"Page {pages} of {pages}" in last and "Harbor Point" in last
    assert "Name" in last  # the heading row repeats on every page


def test_branding_comes_from_the_portal_settings(office):
    settings = get_settings()
    settings.portal_name = "Núñez Insurance"
    settings.brand_colour = "#aa3300"
    db.session.flush()
    branding = office_branding()
    assert (branding.office_name, branding.rgb, branding.logo) == (
        "Núñez Insurance",
        (0xAA, 0x33, 0x00),
        None,
    )
    assert "Núñez Insurance" in text_of(sample(branding))


def test_logo_is_drawn_when_set(office):
    from PIL import Image

    from app.services.portal_settings import store_logo

    image = BytesIO()
    Image.new("RGB", (120, 40), (26, 93, 150)).save(image, format="PNG")
    store_logo(get_settings(), image.getvalue())
    branding = office_branding()
    assert branding.logo is not None
    data = sample(branding)
    assert b"/Subtype /Image" in data
    assert b"/Subtype /Image" not in sample(Branding("No logo"))


def test_sealed_document_verifies_intact_and_trusted(office):
    sealed = seal(sample())
    verdict = verify(sealed)
    key = office_key()
    assert verdict.ok, verdict.message
    assert verdict.message == f"sealed by {key.subject}, intact"
    for name in NAMES:  # the seal does not hide the text
        assert name in text_of(sealed)

    from concurrent.futures import ThreadPoolExecutor

    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    signature = PdfFileReader(BytesIO(sealed)).embedded_signatures[0]
    # On a thread of its own: pyHanko starts an event loop, and the browser tests leave one
    # running in this thread.
    with ThreadPoolExecutor(max_workers=1) as pool:
        status = pool.submit(
            validate_pdf_signature, signature, ValidationContext(trust_roots=[key.certificate])
        ).result()
    assert (status.intact, status.valid, status.trusted) == (True, True, True)


def test_one_flipped_byte_fails_with_a_clear_message(office, caplog):
    sealed = seal(sample())
    with caplog.at_level(logging.DEBUG):
        verdict = verify(flip_in_signed_range(sealed))
    assert not verdict.ok
    assert verdict.message == "changed after sealing: the sealed bytes no longer match the seal"
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


def test_bytes_added_after_the_seal_are_caught(office):
    sealed = seal(sample())
    verdict = verify(sealed + b"\n% appended\n")
    assert not verdict.ok
    assert verdict.message.startswith("changed after sealing:") and "added after" in verdict.message


def test_unsealed_and_non_pdf_files_are_reported(office):
    assert verify(sample()).message == "not sealed: the file carries no signature"
    assert verify(b"hello").message == "not a PDF file"


def test_a_pdf_sealed_by_another_key_is_not_ours(office, tmp_path, caplog):
    stranger = sealing._load_or_create(tmp_path / "elsewhere" / "pdf-seal.pem", "Other Office")
    foreign = seal(sample(), key=stranger)
    assert verify(foreign, key=stranger).ok  # a good seal, just not this office's
    with caplog.at_level(logging.DEBUG):
        verdict = verify(foreign)
    assert not verdict.ok
    assert verdict.message == (
        "not signed by this office's key: sealed by Other Office document seal"
    )
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


def test_cli_verify_exits_0_when_intact_and_1_otherwise(office, tmp_path):
    good = tmp_path / "good.pdf"
    good.write_bytes(seal(sample()))
    changed = tmp_path / "changed.pdf"
    changed.write_bytes(flip_in_signed_range(good.read_bytes()))
    plain = tmp_path / "plain.pdf"
    plain.write_bytes(sample())
    runner = office.test_cli_runner()

    result = runner.invoke(args=["pdf", "verify", str(good)])
    assert result.exit_code == 0, result.output
    assert result.output == f"sealed by {office_key().subject}, intact\n"

    result = runner.invoke(args=["pdf", "verify", str(changed)])
    assert result.exit_code == 1
    assert result.output == "changed after sealing: the sealed bytes no longer match the seal\n"

    result = runner.invoke(args=["pdf", "verify", str(plain)])
    assert (result.exit_code, result.output) == (
        1,
        "not sealed: the file carries no signature\n",
    )

    result = runner.invoke(args=["pdf", "verify", str(tmp_path / "missing.pdf")])
    assert result.exit_code == 2 and "does not exist" in result.output


def test_key_is_generated_once_private_and_reused_by_another_app(make_app, tmp_path):
    folder = tmp_path / "instance"
    first = make_app(PORTICO_INSTANCE_PATH=str(folder))
    with first.app_context():
        get_settings().portal_name = "Harbor Point"
        certificate = office_key().certificate
        sealed = seal(sample())
    path = folder / sealing.KEY_FILE
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert certificate.subject.native["common_name"] == "Harbor Point document seal"
    stored = path.read_bytes()

    sealing._cache.clear()  # a second process starting on the same instance folder
    second = make_app(PORTICO_INSTANCE_PATH=str(folder))
    with second.app_context():
        assert office_key().certificate.dump() == certificate.dump()
        assert verify(sealed).ok
    assert path.read_bytes() == stored
    assert [p.name for p in folder.iterdir() if "pdf-seal" in p.name] == [sealing.KEY_FILE]


def test_pkcs12_from_the_environment_seals_when_set(make_app, tmp_path, monkeypatch):
    ca = make_certificate("Test CA")
    key, cert = make_certificate("Harbor Point Insurance LLC", issuer=ca)
    p12 = tmp_path / "office.p12"
    p12.write_bytes(
        pkcs12.serialize_key_and_certificates(
            b"office",
            key,
            cert,
            [ca[1]],
            serialization.BestAvailableEncryption(b"s3cret pass"),
        )
    )
    monkeypatch.setenv("PORTICO_PDF_SIGNING_P12", str(p12))
    monkeypatch.setenv("PORTICO_PDF_SIGNING_PASSWORD", "s3cret pass")
    from app import settings

    loaded = settings.load({"PORTICO_INSTANCE_PATH": str(tmp_path / "instance")})
    application = make_app(
        PORTICO_INSTANCE_PATH=str(tmp_path / "instance"),
        PORTICO_PDF_SIGNING_P12=loaded["PORTICO_PDF_SIGNING_P12"],
        PORTICO_PDF_SIGNING_PASSWORD=loaded["PORTICO_PDF_SIGNING_PASSWORD"],
    )
    with application.app_context():
        sealed = seal(sample())
        verdict = verify(sealed)
        assert verdict.ok, verdict.message
        assert verdict.message == "sealed by Harbor Point Insurance LLC, intact"
        assert not verify(flip_in_signed_range(sealed)).ok
    assert not (tmp_path / "instance" / sealing.KEY_FILE).exists()  # nothing generated


def test_pkcs12_with_a_wrong_password_says_what_to_fix(make_app, tmp_path):
    key, cert = make_certificate("Office")
    p12 = tmp_path / "office.p12"
    p12.write_bytes(
        pkcs12.serialize_key_and_certificates(
            b"office", key, cert, None, serialization.BestAvailableEncryption(b"right")
        )
    )
    application = make_app(PORTICO_PDF_SIGNING_P12=str(p12), PORTICO_PDF_SIGNING_PASSWORD="wrong")
    with application.app_context(), pytest.raises(SealError, match="PORTICO_PDF_SIGNING_PASSWORD"):
        seal(sample())
    result = application.test_cli_runner().invoke(args=["pdf", "verify", str(p12)])
    assert result.exit_code == 1 and "PORTICO_PDF_SIGNING_PASSWORD" in result.output


def test_a_cut_short_sealed_file_is_reported_changed(office):
    sealed = seal(sample())
    verdict = verify(sealed[: len(sealed) - 200])
    assert not verdict.ok
    assert verdict.message.startswith("changed after sealing")


def test_a_second_process_making_the_key_keeps_the_first_one(tmp_path):
    path = tmp_path / "instance" / sealing.KEY_FILE
    sealing._create(path, "First")
    first = path.read_bytes()
    sealing._create(path, "Second")  # lost the race: its key is thrown away
    assert path.read_bytes() == first
    assert [p.name for p in path.parent.iterdir()] == [sealing.KEY_FILE]


def test_a_missing_pkcs12_file_is_named(make_app, tmp_path):
    application = make_app(PORTICO_PDF_SIGNING_P12=str(tmp_path / "nowhere.p12"))
    with application.app_context(), pytest.raises(SealError, match=r"nowhere\.p12, which is not"):
        seal(sample())


def test_a_malformed_signature_field_is_damage_not_a_crash(office):
    # A signature field whose value is a number, not a signature dictionary.
    writer = PdfWriter()
    writer.add_blank_page(width=612, height=792)
    field = writer._add_object(
        DictionaryObject(
            {
                NameObject("/FT"): NameObject("/Sig"),
                NameObject("/T"): TextStringObject("x"),
                NameObject("/V"): NumberObject(5),
            }
        )
    )
    writer._root_object[NameObject("/AcroForm")] = DictionaryObject(
        {NameObject("/Fields"): ArrayObject([field])}
    )
    out = BytesIO()
    writer.write(out)
    verdict = verify(out.getvalue())
    assert not verdict.ok


def test_what_people_type_prints_as_typed_even_the_page_count_placeholder():
    doc = Document("Certificate", branding=Branding(office_name="Harbor Point Insurance"))
    doc.paragraph("Pay {nb} Co, Unit {nb}")
    text = text_of(doc.output())
    assert "Pay {nb} Co, Unit {nb}" in text and "Page 1 of 1" in text


def test_an_appended_part_names_its_own_pages():
    doc = Document("Audit trail", footer_label="Audit trail")
    text = text_of(doc.output())
    assert "Audit trail, page 1 of 1" in text and "Page 1 of 1" not in text
