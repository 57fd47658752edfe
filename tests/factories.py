"""Small factory functions for tests. Each commits, as a request would, and returns the
object with its id. Call them inside an app context."""

from __future__ import annotations

import itertools
from datetime import datetime
from typing import Any

from sqlalchemy import select

from app.services import tags as tag_service
from app.services.users import create_staff_user
from models import (
    CoverageType,
    Product,
    ProductStatus,
    Record,
    RecordKind,
    Tag,
    Task,
    TaskKind,
    User,
    db,
)

PASSWORD = "correct horse battery"
_counter = itertools.count(1)


def saved(item: Any) -> Any:
    """Commit, then load the row's columns so the object stays readable after the app
    context ends (tests use ids and names outside it)."""
    db.session.commit()
    db.session.refresh(item)
    return item


def staff(role: str = "agent", email: str | None = None, **names: str) -> User:
    user = create_staff_user(
        email or f"staff{next(_counter)}@example.com",
        PASSWORD,
        role,
        names.get("first_name", "Sam"),
        names.get("last_name", "Staff"),
    )
    return saved(user)


def record(**values: Any) -> Record:
    n = next(_counter)
    values.setdefault("kind", RecordKind.CLIENT)
    values.setdefault("first_name", "Rita")
    values.setdefault("last_name", f"Record{n}")
    values.setdefault("email", f"rita{n}@example.com")
    tags = values.pop("tags", [])
    item = Record(**values)
    db.session.add(item)
    db.session.flush()
    for tag_obj in tags:
        tag_service.add_tag([item.id], tag_obj)
    return saved(item)


def coverage(name: str = "Medicare Advantage") -> CoverageType:
    found = db.session.scalar(select(CoverageType).where(CoverageType.name == name))
    if found is None:
        found = CoverageType(name=name)
        db.session.add(found)
    return saved(found)


def product(record_obj: Record, **values: Any) -> Product:
    values.setdefault("carrier", "Humana")
    values.setdefault("status", ProductStatus.QUOTED)
    if "coverage_type" not in values and "coverage_type_id" not in values:
        values["coverage_type"] = coverage()
    item = Product(record_id=record_obj.id, **values)
    db.session.add(item)
    return saved(item)


def tag(name: str | None = None, colour: str = "#336699") -> Tag:
    return saved(tag_service.create_tag(name or f"Tag {next(_counter)}", colour))


def task(
    title: str = "Call back",
    assignee: User | None = None,
    record_obj: Record | None = None,
    due_at: datetime | None = None,
    kind: TaskKind = TaskKind.TODO,
    done: bool = False,
) -> Task:
    item = Task(
        title=title,
        assignee_id=assignee.id if assignee else None,
        record_id=record_obj.id if record_obj else None,
        due_at=due_at,
        kind=kind,
        done=done,
    )
    db.session.add(item)
    return saved(item)
