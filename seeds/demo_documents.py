"""Demo documents: for a few clients with an active policy, its declarations page and an ID
card as PDFs in the office's branding, shared with the client, so the Documents tab, the
client's Documents page and the ID cards on the portal's home show something on a first run."""

from __future__ import annotations

import io

from sqlalchemy import exists, select
from sqlalchemy.orm import joinedload

from app.pdf import Document as PdfDocument
from app.pdf import office_branding
from app.services import document_sharing, documents
from app.services.actors import Actor
from models import (
    Document,
    DocumentCategory,
    Product,
    ProductStatus,
    Record,
    RecordKind,
    User,
    db,
)

#: How many clients get demo documents.
CLIENTS = 5


def _declarations(product: Product, record: Record) -> bytes:
    pdf = PdfDocument(
        f"{product.coverage_type.name}: policy declarations", branding=office_branding()
    )
    pdf.key_values(
        [
            ("Named insured", record.full_name),
            ("Carrier", product.carrier),
            ("Plan", product.plan_name or "—"),
            ("Policy number", product.policy_number or "—"),
            ("Effective", product.effective_date.isoformat() if product.effective_date else "—"),
            ("Annual premium", f"${product.premium:,.2f}" if product.premium is not None else "—"),
        ]
    )
    pdf.paragraph("Demo document: the terms of the policy are those of the carrier's contract.")
    return pdf.output()


def _id_card(product: Product, record: Record) -> bytes:
    pdf = PdfDocument(f"{product.coverage_type.name} ID card", branding=office_branding())
    pdf.key_values(
        [
            ("Member", record.full_name),
            ("Carrier", product.carrier),
            ("Policy number", product.policy_number or "—"),
        ]
    )
    return pdf.output()


def seed_demo_documents(staff: User) -> int:
    """Add the demo documents to up to :data:`CLIENTS` clients that have none; returns how many
    documents were added."""
    categories = {
        category.name: category for category in db.session.scalars(select(DocumentCategory))
    }
    policy_category = categories.get("Policy documents")
    card_category = next((c for c in categories.values() if c.is_id_card), None)
    products = db.session.scalars(
        select(Product)
        .join(Record, Record.id == Product.record_id)
        .where(
            Record.kind == RecordKind.CLIENT,
            Product.status == ProductStatus.ACTIVE,
            ~exists().where(Document.record_id == Record.id),
        )
        .options(joinedload(Product.coverage_type), joinedload(Product.record))
        .order_by(Record.id, Product.id)
    ).unique()
    actor = Actor.staff(staff)
    added, seen = 0, set()
    today = documents.office_today()
    for product in products:
        record = product.record
        if record.id in seen:
            continue
        seen.add(record.id)
        kept = documents.add_files(
            record,
            [documents.Upload(io.BytesIO(_declarations(product, record)), "Declarations.pdf")],
            actor=actor,
            title=f"{product.coverage_type.name} declarations",
            category=policy_category,
            product=product,
        )
        kept += documents.add_files(
            record,
            [documents.Upload(io.BytesIO(_id_card(product, record)), "ID card.pdf")],
            actor=actor,
            title=f"{product.coverage_type.name} ID card",
            category=card_category,
            product=product,
        )
        document_sharing.share(kept, actor=actor, today=today)
        added += len(kept)
        if len(seen) >= CLIENTS:
            break
    return added
