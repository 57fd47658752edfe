"""Issuing a certificate to a holder: the next number, what the certificate says (kept as a
snapshot), the PDF (:func:`app.pdf.certificate.certificate_pdf`) sealed with the office's
key and kept as a document of the record.

The sealed file goes to storage before its row is flushed and is deleted again unless the
transaction commits (:func:`~app.storage.lifecycle.keep_if_committed`). The document is not
shared through *Documents*: clients reach it through the certificate pages.
"""

from __future__ import annotations

from decimal import Decimal
from io import BytesIO
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError

from app import pdf
from app.services import documents
from app.services.errors import NotFound
from app.services.templates import office_context
from app.storage import UploadRule, clean_filename, storage
from app.storage.lifecycle import keep_if_committed
from app.storage.rules import MB
from models import (
    Certificate,
    CertificateCounter,
    CertificateHolder,
    CertificateMaster,
    Document,
    DocumentKind,
    DocumentSource,
    PortalAccount,
    Record,
    db,
)

#: What a certificate PDF is stored under.
CERTIFICATE_PDF = UploadRule("certificates", frozenset({"application/pdf"}), 20 * MB)


def _bump(year: int) -> int | None:
    return db.session.execute(
        update(CertificateCounter)
        .where(CertificateCounter.year == year)
        .values(last=CertificateCounter.last + 1)
        .returning(CertificateCounter.last)
    ).scalar_one_or_none()


def _next_number(year: int) -> str:
    """``YYYY-NNNNNN``: the year's counter, one up. The counter's row stays locked until the
    issuing transaction ends, so certificates issued at the same moment take their numbers
    one after the other (none fails, none repeats); past 999,999 the number grows a digit."""
    taken = _bump(year)
    if taken is None:
        try:
            with db.session.begin_nested():
                db.session.add(CertificateCounter(year=year, last=0))
                db.session.flush()
        except IntegrityError:
            pass  # another certificate started the year's counter at the same moment
        taken = _bump(year)
    if taken is None:  # pragma: no cover - the row exists by now
        raise RuntimeError(f"no certificate counter for {year}")
    return f"{year}-{taken:06d}"


def _address_lines(record: Record) -> tuple[str, ...]:
    city = " ".join(part for part in (record.city, record.state, record.postal_code) if part)
    lines = (record.address_line1, record.address_line2, city)
    return tuple(line for line in lines if line and line.strip())


def certificate_data(
    master: CertificateMaster, holder: CertificateHolder, number: str
) -> pdf.CertificateData:
    """What the certificate says today: the producer (the office), the insured, the
    insurers A-F (one letter per carrier, in the order of the policies), each policy with
    its dates and limits, the description and the holder."""
    record = master.record
    office = office_context()
    letters: dict[str, str] = {}
    insurers: list[tuple[str, str]] = []
    coverages: list[pdf.CoverageLine] = []
    for policy in master.policies:
        carrier = " ".join(policy.carrier.split())
        if carrier.casefold() not in letters:
            letter = pdf.LETTERS[len(insurers)]
            letters[carrier.casefold()] = letter
            insurers.append((letter, carrier))
        coverages.append(
            pdf.CoverageLine(
                insurer=letters[carrier.casefold()],
                coverage_type=policy.coverage_type.name,
                policy_number=policy.policy_number or "",
                effective=policy.effective_date,
                expiry=policy.end_date,
                limits=tuple((limit.label, limit.amount) for limit in policy.limits),
            )
        )
    return pdf.CertificateData(
        number=number,
        issued_on=documents.office_today(),
        producer=pdf.Party(
            name=str(office["name"] or ""), phone=str(office["phone"]), email=str(office["email"])
        ),
        insured=pdf.Party(
            name=record.company_name or record.full_name, lines=_address_lines(record)
        ),
        insurers=tuple(insurers),
        coverages=tuple(coverages),
        description=master.description_of_operations,
        holder=pdf.Party(name=holder.name, lines=tuple(holder.address.splitlines())),
    )


def snapshot(data: pdf.CertificateData) -> dict[str, Any]:
    """The certificate's content as plain JSON (dates as ISO days, amounts as strings)."""

    def party(item: pdf.Party) -> dict[str, Any]:
        return {
            "name": item.name,
            "lines": list(item.lines),
            "phone": item.phone,
            "email": item.email,
        }

    def day(value: Any) -> str | None:
        return value.isoformat() if value else None

    return {
        "number": data.number,
        "issued_on": day(data.issued_on),
        "producer": party(data.producer),
        "insured": party(data.insured),
        "insurers": [list(pair) for pair in data.insurers],
        "coverages": [
            {
                "insurer": line.insurer,
                "coverage_type": line.coverage_type,
                "policy_number": line.policy_number,
                "effective": day(line.effective),
                "expiry": day(line.expiry),
                "limits": [[label, str(Decimal(amount))] for label, amount in line.limits],
            }
            for line in data.coverages
        ],
        "description": data.description,
        "holder": party(data.holder),
    }


def _reserve(
    master: CertificateMaster, holder: CertificateHolder, account: PortalAccount | None
) -> Certificate:
    """A certificate row under the next number of the office's year."""
    certificate = Certificate(
        number=_next_number(documents.office_today().year),
        master_id=master.id,
        holder_id=holder.id,
        snapshot={},
        issued_by_account_id=account.id if account is not None else None,
    )
    db.session.add(certificate)
    db.session.flush()
    return certificate


def _store(record: Record, number: str, holder_name: str, data: bytes) -> Document:
    stored = storage().put(BytesIO(data), CERTIFICATE_PDF, field=None)
    keep_if_committed(stored.key)
    title = documents.clean_title(
        _("Certificate %(number)s \u2013 %(holder)s", number=number, holder=holder_name)
    )
    document = Document(
        record_id=record.id,
        kind=DocumentKind.FILE,
        title=title,
        storage_key=stored.key,
        filename=clean_filename(_("Certificate %(number)s", number=number), "pdf"),
        content_type=stored.content_type,
        size=stored.size,
        source=DocumentSource.STAFF,
        shared=False,
    )
    db.session.add(document)
    return document


def issue(
    master: CertificateMaster,
    holder: CertificateHolder,
    *,
    account: PortalAccount | None = None,
) -> Certificate:
    """Issue ``holder`` a certificate of ``master`` (the caller checked the master may be
    used): numbered, printed, sealed and kept as a document of the record. ``account`` is
    the client who asked for it."""
    certificate = _reserve(master, holder, account)
    data = certificate_data(master, holder, certificate.number)
    sealed = pdf.seal(pdf.certificate_pdf(data, branding=pdf.office_branding()))
    document = _store(master.record, certificate.number, holder.name, sealed)
    db.session.flush()
    certificate.document_id = document.id
    certificate.document = document
    certificate.snapshot = snapshot(data)
    db.session.flush()
    db.session.expire(holder, ["certificates"])  # the backref reloads with this one in it
    return certificate


def pdf_bytes(certificate: Certificate) -> bytes:
    """The sealed certificate as stored."""
    document = certificate.document
    if document is None or document.kind != DocumentKind.FILE or not document.storage_key:
        raise NotFound(_("This certificate is not available."))
    with storage().open(document.storage_key) as handle:
        return handle.read()
