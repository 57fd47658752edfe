"""Products and policies of records, and the admin-kept list of coverage types."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import inspect as sa_inspect
from sqlalchemy import select
from sqlalchemy.orm import InstanceState, joinedload

from app.services import events, workflows
from app.services.errors import ValidationError
from app.services.events import Actor
from app.services.validation import check_unique_name
from models import CoverageType, Product, Record, db


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
    if product.premium is not None and not Decimal(product.premium).is_finite():
        raise ValidationError("Enter the premium as an amount.", field="premium")
    if product.premium is not None and Decimal(product.premium) >= 10**10:
        raise ValidationError("Check the premium: it is too large.", field="premium")
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


def save(product: Product, *, created: bool, actor: Actor) -> None:
    """Check a product a staff member (``actor``) filled in and save it (flushed): the change
    is logged on its record, and workflows follow its record (and the one it was moved from,
    which it left). Call it with the form's changes still unsaved: what changed is read from
    the product's history. Raises :class:`ValidationError` before anything is written."""
    state: InstanceState[Product] = sa_inspect(product)
    moved_from: list[Record | None] = list(state.attrs.record.history.deleted or ())
    clean_product(product)
    changes = {} if created else pending_changes(product)
    db.session.flush()
    if created or changes:
        log_change(product, actor=actor, change="added" if created else "changed", changes=changes)
    left = [record.id for record in moved_from if record is not None]
    after_change(product.record_id, *left, product=product)


def remove(product: Product, *, actor: Actor) -> None:
    """Delete a product (logged on its record, by ``actor``); its record's workflows follow."""
    record_id = product.record_id
    log_change(product, actor=actor, change="removed")
    db.session.delete(product)
    db.session.flush()
    after_change(record_id, removed=True)


def after_change(*record_ids: int, product: Product | None = None, removed: bool = False) -> None:
    """Workflows follow a product that was added, changed, moved or removed (the records it
    belongs to, or belonged to). Given the ``product`` (or that it was ``removed``), only a
    workflow whose product conditions it now meets can start; any may stop."""
    states = None
    if removed:
        states = []
    elif product is not None:
        states = [(product.status, product.coverage_type_id)]
    workflows.evaluate(record_ids, products=True, product_states=states)


#: What a staff member sees changed on a product, in the activity log.
TRACKED = {
    "record": "Record",
    "carrier": "Carrier",
    "plan_name": "Plan",
    "coverage_type": "Coverage type",
    "status": "Status",
    "policy_number": "Policy number",
    "effective_date": "Effective date",
    "end_date": "End date",
    "premium": "Premium",
    "client_access": "Client can see it",
}


def _shown(value: Any) -> Any:
    if hasattr(value, "label"):  # enums are strings too: their label first
        return value.label
    if value is None or isinstance(value, bool | int | str):
        return value
    if hasattr(value, "display_name"):
        return value.display_name
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def pending_changes(product: Product) -> dict[str, list[Any]]:
    """The product's unsaved changes, field by field as [before, after] (call before flush)."""
    state: InstanceState[Product] = sa_inspect(product)
    changes = {}
    for name, label in TRACKED.items():
        history = state.attrs[name].history
        if history.has_changes():
            before = history.deleted[0] if history.deleted else None
            after = history.added[0] if history.added else None
            if _shown(before) != _shown(after):
                changes[label] = [_shown(before), _shown(after)]
    return changes


def log_change(
    product: Product,
    *,
    actor: Actor,
    change: str,
    changes: dict[str, list[Any]] | None = None,
    record_id: int | None = None,
) -> None:
    """A staff member added, changed or removed a product: an event on its record."""
    record = db.session.get(Record, record_id or product.record_id)
    events.emit(
        "staff.product.changed",
        actor=actor,
        record=record,
        details={
            "product": str(product),
            "change": change,
            "changes": changes or {},
            "subject": f"{change} {product}",
        },
    )


def visible_to_client(record: Record) -> list[Product]:
    """The record's products its client sees in the portal: those staff gave client access,
    newest first, each with its coverage type."""
    return list(
        db.session.scalars(
            select(Product)
            .where(Product.record_id == record.id, Product.client_access.is_(True))
            .options(joinedload(Product.coverage_type))
            .order_by(Product.effective_date.desc().nulls_last(), Product.id)
        )
    )
