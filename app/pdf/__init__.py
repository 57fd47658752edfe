"""PDFs: documents drawn in the office's branding (:mod:`app.pdf.document`) and sealed with the
office's key (:mod:`app.pdf.sealing`), so a changed byte is caught by ``flask pdf verify``.

    doc = pdf.Document("Certificate of insurance", branding=pdf.office_branding())
    doc.paragraph("...").key_values([("Insured", "José Núñez")])
    sealed = pdf.seal(doc.output())

Each name below is imported from its module the first time it is read (:mod:`app.lazy`): the
libraries behind them (fpdf and fontTools, pyHanko, pypdf, pypdfium2) cost a process about 60 MB
and most web workers never make a PDF. Write ``from app import pdf`` and ``pdf.seal(...)``;
``from app.pdf import seal`` would import them at once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from app import lazy

if TYPE_CHECKING:  # for type checkers and readers; at run time, _MODULES says the same
    from app.pdf.audit import AuditSigner, audit_trail
    from app.pdf.certificate import LETTERS, CertificateData, CoverageLine, Party, certificate_pdf
    from app.pdf.document import Branding, Document, office_branding, unprintable
    from app.pdf.journey import (
        FilePart,
        JourneyRecord,
        SignedPart,
        StepPart,
        TrailLine,
        journey_pdf,
        with_pages_of,
    )
    from app.pdf.pages import PdfInfo, PdfRefused, inspect, render_page
    from app.pdf.sealing import OfficeKey, SealError, Verdict, office_key, seal, verify
    from app.pdf.signing import Placement, append_pages, signed_pdf, stamp

#: Where each name lives, imported when the name is first read.
_MODULES = {
    "app.pdf.audit": ("AuditSigner", "audit_trail"),
    "app.pdf.certificate": (
        *("LETTERS", "CertificateData", "CoverageLine", "Party", "certificate_pdf"),
    ),
    "app.pdf.document": ("Branding", "Document", "office_branding", "unprintable"),
    "app.pdf.journey": (
        *("FilePart", "JourneyRecord", "SignedPart", "StepPart", "TrailLine"),
        *("journey_pdf", "with_pages_of"),
    ),
    "app.pdf.pages": ("PdfInfo", "PdfRefused", "inspect", "render_page"),
    "app.pdf.sealing": ("OfficeKey", "SealError", "Verdict", "office_key", "seal", "verify"),
    "app.pdf.signing": ("Placement", "append_pages", "signed_pdf", "stamp"),
}
_WHERE = {name: module for module, names in _MODULES.items() for name in names}

__all__ = [
    "LETTERS",
    "AuditSigner",
    "Branding",
    "CertificateData",
    "CoverageLine",
    "Document",
    "FilePart",
    "JourneyRecord",
    "OfficeKey",
    "Party",
    "PdfInfo",
    "PdfRefused",
    "Placement",
    "SealError",
    "SignedPart",
    "StepPart",
    "TrailLine",
    "Verdict",
    "append_pages",
    "audit_trail",
    "certificate_pdf",
    "inspect",
    "journey_pdf",
    "office_branding",
    "office_key",
    "render_page",
    "seal",
    "signed_pdf",
    "stamp",
    "unprintable",
    "verify",
    "with_pages_of",
]


def __getattr__(name: str) -> Any:
    return lazy.load(__name__, name, _WHERE)
