"""The audit trail appended to a signed document: who signed what, when, from where, and which
disclosure each signer consented to, drawn as the office's other PDFs are
(:class:`app.pdf.Document`)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from app.pdf.document import FAMILY, Branding, Document

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AuditSigner:
    """One signer's part in a sign request. Naive datetimes are read as UTC."""

    name: str
    email: str
    ip: str | None
    user_agent: str | None
    consented_at: datetime | None
    disclosure_version: int | None
    viewed_at: datetime | None
    signed_at: datetime | None
    #: "Signed", "Declined", ...
    status: str


def _zone(name: str) -> tuple[tzinfo, str]:
    try:
        return ZoneInfo(name), name
    except (ZoneInfoNotFoundError, ValueError):
        # The times stay true, only in UTC, and say so.
        log.warning("unknown time zone %r in an audit trail: times are shown in UTC", name)
        return UTC, "UTC"


def _when(moment: datetime | None, zone: tzinfo, zone_name: str) -> str | None:
    """ "2026-12-03 09:15:02 CET (Europe/Madrid)"; None (a dash) for no time."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    local = moment.astimezone(zone)
    abbreviation = local.tzname() or ""
    suffix = abbreviation if abbreviation == zone_name else f"{abbreviation} ({zone_name})"
    return f"{local:%Y-%m-%d %H:%M:%S} {suffix}".strip()


def audit_trail(
    *,
    request_id: int,
    title: str,
    original_sha256: str,
    signers: Sequence[AuditSigner],
    completed_at: datetime,
    branding: Branding | None = None,
    timezone: str = "UTC",
) -> bytes:
    """A one-or-more-page PDF "Audit trail": request id, document title, SHA-256 of the
    original, completion time, and per signer name, email, IP, user agent, consent time and
    disclosure version, view time and sign time. Times are shown in the IANA ``timezone`` with
    the zone's name (an unknown zone falls back to UTC, named as such)."""
    zone, zone_name = _zone(timezone)
    doc = Document(
        "Audit trail",
        branding=branding,
        subject=f"Sign request {request_id}: {title}",
        created=completed_at if completed_at.tzinfo else completed_at.replace(tzinfo=UTC),
        footer_label="Audit trail",
    )
    doc.paragraph(
        "This audit trail is part of the signed document it is attached to. The fingerprint "
        "below (SHA-256) was computed from the document as it was sent for signing, before "
        "any signature was added; the office's seal on this file shows any later change."
    )
    doc.key_values(
        [
            ("Sign request", f"#{request_id}"),
            ("Document", title),
            ("Signers", str(len(signers))),
            ("Completed", _when(completed_at, zone, zone_name)),
        ]
    )
    _fingerprint(doc, original_sha256)
    for signer in signers:
        consent = _when(signer.consented_at, zone, zone_name)
        if consent and signer.disclosure_version is not None:
            consent = f"{consent}, disclosure version {signer.disclosure_version}"
        elif signer.disclosure_version is not None:
            consent = f"not recorded (disclosure version {signer.disclosure_version})"
        doc.heading(signer.name)
        doc.key_values(
            [
                ("Email", signer.email),
                ("Status", signer.status),
                ("Consented", consent),
                ("Viewed", _when(signer.viewed_at, zone, zone_name)),
                ("Signed", _when(signer.signed_at, zone, zone_name)),
                ("IP address", signer.ip),
                ("Browser", signer.user_agent),
            ]
        )
    return doc.output()


def _fingerprint(doc: Document, sha256: str) -> None:
    """The hash on one line of its own, small enough that it never wraps (a wrapped hash is
    hard to compare, and no longer reads back as one word)."""
    pdf = doc.pdf
    pdf.set_font(FAMILY, "B", 10.5)
    pdf.multi_cell(0, 6, "SHA-256 of the original document", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FAMILY, "", 8.5)
    pdf.multi_cell(0, 5.5, sha256, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    pdf.set_font(FAMILY, "", 10.5)
