"""Products and policies of records, and the admin-kept list of coverage types."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from app.services.errors import ValidationError
from app.services.validation import check_unique_name
from models import CoverageType, Product, db


def clean_product(product: Product) -> Product:
    """Check a product before it is saved, or raise :class:`ValidationError`."""
    product.carrier = (product.carrier or "").strip()
    if not product.carrier:
        raise ValidationError("Enter the carrier.", field="carrier")
    product.plan_name = (product.plan_name or "").strip() or None
    product.policy_number = (product.policy_number or "").strip() or None
    if product.effective_date and product.end_date and product.end_date < product.effective_date:
        raise ValidationError(
            "The end date must be on or after the effective date.", field="end_date"
        )
    if product.premium is not None and Decimal(product.premium) < 0:
        raise ValidationError("A premium cannot be negative.", field="premium")
    return product


def check_coverage_type_name(name: str | None, *, exclude_id: int | None = None) -> str:
    return check_unique_name(
        name, CoverageType.name, what="coverage type", max_length=80, exclude_id=exclude_id
    )


def coverage_type_in_use(coverage_type: CoverageType) -> bool:
    return (
        db.session.scalar(
            select(Product.id).where(Product.coverage_type_id == coverage_type.id).limit(1)
        )
        is not None
    )


def after_change(*record_ids: int) -> None:
    """Workflows follow a product that was added, changed, moved or removed (the records it
    belongs to, or belonged to)."""
    from app.services import workflows

    workflows.evaluate(record_ids, products=True)
