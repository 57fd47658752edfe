"""Who a workflow is for: its conditions as one SQL expression on Record, and which
workflows a change concerns."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

from sqlalchemy import Select, and_, select
from sqlalchemy.orm import joinedload

from models import Product, Record, RecordKind, Workflow, db, record_tags

#: Ids per query: stays under SQLite's bound-parameter limit.
CHUNK = 2000


def condition(workflow: Workflow) -> Any:
    """The workflow's conditions as one SQL expression on Record (all must hold)."""
    kinds = [
        kind
        for kind, wanted in (
            (RecordKind.LEAD, workflow.for_leads),
            (RecordKind.CLIENT, workflow.for_clients),
        )
        if wanted
    ]
    clauses: list[Any] = [Record.kind.in_(kinds)]
    product: list[Any] = []
    if workflow.product_status is not None:
        product.append(Product.status == workflow.product_status)
    if workflow.coverage_type_id is not None:
        product.append(Product.coverage_type_id == workflow.coverage_type_id)
    if product:
        clauses.append(Record.products.any(and_(*product)))
    if workflow.tag_id is not None:
        clauses.append(
            select(record_tags.c.record_id)
            .where(record_tags.c.record_id == Record.id, record_tags.c.tag_id == workflow.tag_id)
            .exists()
        )
    return and_(*clauses)


def matching_ids(workflow: Workflow, record_ids: Sequence[int]) -> set[int]:
    found: set[int] = set()
    for start in range(0, len(record_ids), CHUNK):
        chunk = record_ids[start : start + CHUNK]
        found.update(
            db.session.scalars(select(Record.id).where(Record.id.in_(chunk), condition(workflow)))
        )
    return found


def matches(workflow: Workflow, record: Record) -> bool:
    return record.id in matching_ids(workflow, [record.id])


def matching_query(workflow: Workflow) -> Select[int]:
    return select(Record.id).where(condition(workflow))


def active_workflows() -> list[Workflow]:
    return list(
        db.session.scalars(
            select(Workflow)
            .where(Workflow.active.is_(True))
            .options(joinedload(Workflow.actions))
            .order_by(Workflow.id)
        ).unique()
    )


def concerned(
    workflow: Workflow,
    *,
    tag_ids: Collection[int] | None = None,
    products: bool = False,
    only: Collection[int] | None = None,
    journey_id: int | None = None,
) -> bool:
    """Whether a change can start or stop this workflow: a tag change concerns the workflows
    triggered by that tag, a product change those with product conditions, a journey
    completed those triggered by that journey; with no hint (a record created, its kind
    changed) every workflow is concerned."""
    if only is not None:
        return workflow.id in only
    if journey_id is not None:
        return workflow.journey_id == journey_id
    if tag_ids is None and not products:
        return True
    if tag_ids is not None and workflow.tag_id in tag_ids:
        return True
    return products and (
        workflow.product_status is not None or workflow.coverage_type_id is not None
    )
