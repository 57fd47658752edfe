"""The office's seal on its PDFs: a PAdES signature with the office's key, so any later change
to the bytes shows.

The key is the office's own, generated on first use into the instance folder (a self-signed
EC P-256 certificate, files readable by the owner only), or a real certificate from a PKCS#12
file named by ``PORTICO_PDF_SIGNING_P12`` (password in ``PORTICO_PDF_SIGNING_PASSWORD``).
:func:`verify` checks a file against that same certificate.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from io import BytesIO
from pathlib import Path
from threading import Lock
from typing import TypeVar

from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from flask import current_app
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import signers
from pyhanko.sign.fields import SigSeedSubFilter
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.registry import SimpleCertificateStore

#: The office's generated key and certificate, one PEM file in the instance folder.
KEY_FILE = "pdf-seal.pem"
FIELD_NAME = "OfficeSeal"
VALID_YEARS = 10


class SealError(Exception):
    """The office's signing key cannot be loaded; the message says what to fix."""


@dataclass(frozen=True)
class OfficeKey:
    signer: signers.SimpleSigner
    certificate: asn1_x509.Certificate

    @property
    def subject(self) -> str:
        return _subject(self.certificate)


@dataclass(frozen=True)
class Verdict:
    """What :func:`verify` found. ``ok`` only when sealed by this office's key and unchanged."""

    ok: bool
    message: str
    signed_by: str | None = None


def _subject(cert: asn1_x509.Certificate) -> str:
    name = cert.subject.native
    return str(name.get("common_name") or cert.subject.human_friendly)


# -- the key ------------------------------------------------------------------------------------

_cache: dict[tuple[str, ...], OfficeKey] = {}
_cache_lock = Lock()


def office_key() -> OfficeKey:
    """The office's key: from ``PORTICO_PDF_SIGNING_P12`` when set, else the generated one
    (made on first use). Loaded once per process."""
    config = current_app.config
    p12 = config.get("PORTICO_PDF_SIGNING_P12")
    if p12:
        path = Path(p12)
        key: tuple[str, ...] = ("p12", str(path.resolve()), str(_mtime(path)))
    else:
        path = Path(config["PORTICO_INSTANCE_PATH"]) / KEY_FILE
        key = ("own", str(path.resolve()))
    with _cache_lock:
        if key not in _cache:
            if p12:
                _cache[key] = _load_pkcs12(path, config.get("PORTICO_PDF_SIGNING_PASSWORD"))
            else:
                _cache[key] = _load_or_create(path, _office_name())
        return _cache[key]


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


def _office_name() -> str:
    try:
        from app.services.portal_settings import get_settings

        return get_settings().portal_name or "Portico"
    except Exception:  # no database yet (e.g. verify before the first migration)
        return "Portico"


def _load_pkcs12(path: Path, password: str | None) -> OfficeKey:
    if not path.is_file():
        raise SealError(f"PORTICO_PDF_SIGNING_P12 names {path}, which is not a readable file")
    try:
        signer = signers.SimpleSigner.load_pkcs12_data(
            path.read_bytes(),
            other_certs=(),
            passphrase=password.encode() if password else None,
        )
    except (ValueError, OSError):
        signer = None
    if signer is None or signer.signing_cert is None:
        raise SealError(
            f"{path} could not be opened as a PKCS#12 file with a key and certificate: check "
            "the file and PORTICO_PDF_SIGNING_PASSWORD"
        )
    return OfficeKey(signer=signer, certificate=signer.signing_cert)


def _load_or_create(path: Path, office_name: str) -> OfficeKey:
    if not path.exists():
        _create(path, office_name)
    pem = path.read_bytes()
    try:
        private = serialization.load_pem_private_key(pem, password=None)
        cert = x509.load_pem_x509_certificate(pem)
    except ValueError:
        raise SealError(
            f"{path} does not hold a private key and a certificate: restore it from a backup "
            "(PDFs sealed before cannot be verified without it)"
        ) from None
    certificate = asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))
    signing_key = asn1_keys.PrivateKeyInfo.load(
        private.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    signer = signers.SimpleSigner(
        signing_cert=certificate,
        signing_key=signing_key,
        cert_registry=SimpleCertificateStore.from_certs([certificate]),
    )
    return OfficeKey(signer=signer, certificate=certificate)


def _create(path: Path, office_name: str) -> None:
    """Write a new key and self-signed certificate, owner-only; if another process got there
    first, keep its file (both then seal with the same key)."""
    private = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, f"{office_name} document seal"[:64]),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, office_name[:64]),
        ]
    )
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(private.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=365 * VALID_YEARS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(private.public_key()), critical=False
        )
        .sign(private, hashes.SHA256())
    )
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ) + cert.public_bytes(serialization.Encoding.PEM)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(pem)
    try:
        os.link(tmp, path)  # fails if another process wrote its key first: keep that one
    except FileExistsError:
        pass
    finally:
        tmp.unlink()


# -- sealing and checking -----------------------------------------------------------------------


_T = TypeVar("_T")


def _off_the_event_loop(call: Callable[[], _T]) -> _T:
    """pyHanko's blocking calls start an event loop of their own (``asyncio.run``), which
    refuses to run inside one already running in this thread (an async server's, or
    Playwright's in the browser tests): there, run the call on a thread of its own."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return call()
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(call).result()


def seal(data: bytes, *, key: OfficeKey | None = None) -> bytes:
    """``data`` (a PDF) sealed with the office's key (needs an app context unless ``key``)."""
    key = key or office_key()
    out = BytesIO()
    meta = signers.PdfSignatureMetadata(
        field_name=FIELD_NAME,
        subfilter=SigSeedSubFilter.PADES,
        md_algorithm="sha256",
        reason="Issued by the office; any change after this seal shows",
        name=key.subject,
    )
    with _quiet():
        _off_the_event_loop(
            lambda: signers.sign_pdf(
                IncrementalPdfFileWriter(BytesIO(data)), meta, signer=key.signer, output=out
            )
        )
    return out.getvalue()


def verify(data: bytes, *, key: OfficeKey | None = None) -> Verdict:
    """Check that ``data`` was sealed by this office's key and not changed since."""
    key = key or office_key()
    ours = key.certificate
    if not data.startswith(b"%PDF-"):
        return Verdict(False, "not a PDF file")
    try:
        with _quiet():
            signatures = PdfFileReader(BytesIO(data), strict=False).embedded_signatures
    # pyHanko raises whatever a malformed object leads it to (AttributeError on a signature
    # field whose /V is a number): any failure to read is damage, never a 500.
    except Exception as exc:
        if b"/ByteRange" in data:
            return Verdict(False, f"changed after sealing: it no longer reads as a PDF ({exc})")
        return Verdict(False, f"damaged: it does not read as a PDF ({exc})")
    if not signatures:
        return Verdict(False, "not sealed: the file carries no signature")
    signature = signatures[-1]
    signer_cert = signature.signer_cert
    signed_by = _subject(signer_cert) if signer_cert is not None else None
    if signer_cert is None or signer_cert.dump() != ours.dump():
        return Verdict(
            False,
            f"not signed by this office's key: sealed by {signed_by or 'an unknown signer'}",
            signed_by,
        )
    try:
        with _quiet():
            status = _off_the_event_loop(
                lambda: validate_pdf_signature(
                    signature, ValidationContext(trust_roots=[ours], allow_fetching=False)
                )
            )
    except Exception as exc:
        return Verdict(
            False, f"changed after sealing: the seal cannot be checked ({exc})", signed_by
        )
    if not status.intact:
        return Verdict(
            False, "changed after sealing: the sealed bytes no longer match the seal", signed_by
        )
    if not status.valid:
        return Verdict(False, "the seal's signature is not valid", signed_by)
    if status.coverage != SignatureCoverageLevel.ENTIRE_FILE:
        start, length = int(signature.byte_range[2]), int(signature.byte_range[3])
        added = len(data) - (start + length)
        return Verdict(
            False,
            f"changed after sealing: {max(added, 1)} bytes were added after the seal",
            signed_by,
        )
    if not status.trusted:
        # Our certificate, yet it does not validate (its key usage, for one).
        return Verdict(
            False,
            f"sealed by {signed_by}, but its certificate does not validate ({status.summary()})",
            signed_by,
        )
    return Verdict(True, f"sealed by {signed_by}, intact", signed_by)


@contextmanager
def _quiet() -> Iterator[None]:
    """pyHanko logs validation detail (tracebacks included) at WARNING and ERROR; the verdict
    says what matters, so its loggers are held back while it works."""
    loggers = [logging.getLogger(name) for name in ("pyhanko", "pyhanko_certvalidator")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)
