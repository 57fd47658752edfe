"""Figures for the staff dashboard."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from app.services.tasks import open_tasks_for
from models import Product, ProductStatus, Record, RecordKind, Task, User, db, utcnow


def summary() -> dict[str, int]:
    """Counts by record kind and product status, and open tasks overdue office-wide."""
    kinds = dict(db.session.execute(select(Record.kind, func.count()).group_by(Record.kind)).all())
    statuses = dict(
        db.session.execute(select(Product.status, func.count()).group_by(Product.status)).all()
    )
    overdue = db.session.scalar(
        select(func.count()).select_from(Task).where(Task.done.is_(False), Task.due_at < utcnow())
    )
    return {
        "leads": kinds.get(RecordKind.LEAD, 0),
        "clients": kinds.get(RecordKind.CLIENT, 0),
        "quoted": statuses.get(ProductStatus.QUOTED, 0),
        "active": statuses.get(ProductStatus.ACTIVE, 0),
        "overdue_tasks": overdue or 0,
    }


def open_tasks(user: User, limit: int = 10) -> list[Task]:
    query = open_tasks_for(user).options(joinedload(Task.record)).limit(limit)
    return list(db.session.scalars(query))
