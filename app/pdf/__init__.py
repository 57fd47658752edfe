"""PDFs: documents drawn in the office's branding (:mod:`app.pdf.document`) and sealed with the
office's key (:mod:`app.pdf.sealing`), so a changed byte is caught by ``flask pdf verify``.

    doc = Document("Certificate of insurance", branding=office_branding())
    doc.paragraph("...").key_values([("Insured", "José Núñez")])
    sealed = seal(doc.output())
"""

from app.pdf.certificate import CertificateData, CoverageLine, Party, certificate_pdf
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
from app.pdf.sealing import OfficeKey, SealError, Verdict, office_key, seal, verify
from app.pdf.signing import (
    AuditSigner,
    PdfInfo,
    PdfRefused,
    Placement,
    audit_trail,
    inspect,
    render_page,
    signed_pdf,
    stamp,
)

__all__ = [
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
