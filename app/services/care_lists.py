"""Prescriptions and providers: lists clients keep in the portal and staff see on the record.

Both work the same way; each change emits the list's event with what was added, changed or
removed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from app.services import events
from app.services.errors import NotFound
from app.services.events import Actor
from models import Prescription, Provider, Record, db


@dataclass(frozen=True)
class CareList:
    key: str
    model: Any
    event_key: str
    title: str
    item: str
    #: Columns a client fills in, with their labels.
    columns: tuple[tuple[str, str], ...]


PRESCRIPTIONS = CareList(
    "prescriptions",
    Prescription,
    "portal.rx.updated",
    "Prescriptions",
    "prescription",
    (
        ("drug_name", "Drug"),
        ("strength", "Strength"),
        ("dosage", "Dosage"),
        ("frequency", "How often"),
        ("notes", "Notes"),
    ),
)
PROVIDERS = CareList(
    "providers",
    Provider,
    "portal.providers.updated",
    "Providers",
    "provider",
    (
        ("name", "Name"),
        ("specialty", "Specialty"),
        ("phone", "Phone"),
        ("address", "Address"),
        ("notes", "Notes"),
    ),
)
LISTS = {care.key: care for care in (PRESCRIPTIONS, PROVIDERS)}


def entries(care: CareList, record: Record) -> list[Any]:
    model = care.model
    return list(
        db.session.scalars(select(model).where(model.record_id == record.id).order_by(model.id))
    )


def get_entry(care: CareList, record: Record, entry_id: int) -> Any:
    """The record's entry, or NotFound (another record's entry is never found)."""
    entry = db.session.get(care.model, entry_id)
    if entry is None or entry.record_id != record.id:
        raise NotFound(f"There is no such {care.item}.")
    return entry


def _summary(care: CareList, entry: Any) -> str:
    return ", ".join(
        str(getattr(entry, name)) for name, _ in care.columns[1:-1] if getattr(entry, name)
    )


def _title(care: CareList, entry: Any) -> str:
    return str(getattr(entry, care.columns[0][0]))


def add(care: CareList, record: Record, data: dict[str, Any], actor: Actor) -> Any:
    entry = care.model(record_id=record.id)
    _fill(care, entry, data)
    db.session.add(entry)
    db.session.flush()
    events.emit(
        care.event_key,
        actor=actor,
        record=record,
        details={"changes": {_title(care, entry): [None, _summary(care, entry) or "added"]}},
    )
    return entry


def update(care: CareList, record: Record, entry: Any, data: dict[str, Any], actor: Actor) -> bool:
    before_title, before = _title(care, entry), _summary(care, entry)
    before_values = {name: getattr(entry, name) for name, _ in care.columns}
    _fill(care, entry, data)
    if before_values == {name: getattr(entry, name) for name, _ in care.columns}:
        return False
    label = (
        _title(care, entry)
        if _title(care, entry) == before_title
        else f"{before_title} → {_title(care, entry)}"
    )
    events.emit(
        care.event_key,
        actor=actor,
        record=record,
        details={"changes": {label: [before, _summary(care, entry)]}},
    )
    db.session.flush()
    return True


def remove(care: CareList, record: Record, entry: Any, actor: Actor) -> None:
    title, summary = _title(care, entry), _summary(care, entry)
    db.session.delete(entry)
    events.emit(
        care.event_key,
        actor=actor,
        record=record,
        details={"changes": {title: [summary or "listed", "removed"]}},
    )
    db.session.flush()


def _fill(care: CareList, entry: Any, data: dict[str, Any]) -> None:
    for name, _ in care.columns:
        if name in data:
            value = data[name]
            setattr(entry, name, value.strip() or None if isinstance(value, str) else value)
