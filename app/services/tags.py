"""Tags: the admin-managed list, and putting tags on records one by one or in bulk."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from sqlalchemy import Select, delete, insert, select

from app.services.validation import check_colour, check_unique_name
from models import Record, Tag, db, record_tags

if TYPE_CHECKING:
    from app.services.events import Actor

_CHUNK = 5000  # stays under SQLite's bound-parameter limit


def check_tag_name(name: str | None, *, exclude_tag_id: int | None = None) -> str:
    """A trimmed, unused tag name (compared without regard to case)."""
    return check_unique_name(name, Tag.name, what="tag", max_length=64, exclude_id=exclude_tag_id)


def create_tag(name: str, colour: str = "#6c757d", description: str | None = None) -> Tag:
    tag = Tag(name=check_tag_name(name), colour=check_colour(colour), description=description)
    db.session.add(tag)
    db.session.flush()
    return tag


def _ids(records: Iterable[int] | Select) -> list[int]:
    if isinstance(records, Select):
        return list(db.session.scalars(records))
    return sorted({int(record_id) for record_id in records})


def _chunks(ids: Sequence[int]) -> Iterable[Sequence[int]]:
    for start in range(0, len(ids), _CHUNK):
        yield ids[start : start + _CHUNK]


def add_tag(
    records: Iterable[int] | Select,
    tag: Tag,
    *,
    evaluate: bool = True,
    actor: Actor | None = None,
) -> list[int]:
    """Put ``tag`` on the records (ids, or a select of ids); returns the ids that gained it.
    Workflows that start or stop on the tag follow at once (``evaluate``). With an ``actor``
    (a staff member's change), each record that gained the tag logs it."""
    gained: list[int] = []
    for chunk in _chunks(_ids(records)):
        already = set(
            db.session.scalars(
                select(record_tags.c.record_id).where(
                    record_tags.c.tag_id == tag.id, record_tags.c.record_id.in_(chunk)
                )
            )
        )
        existing = set(db.session.scalars(select(Record.id).where(Record.id.in_(chunk))))
        new = [record_id for record_id in chunk if record_id in existing - already]
        if new:
            db.session.execute(
                insert(record_tags), [{"record_id": rid, "tag_id": tag.id} for rid in new]
            )
        gained.extend(new)
    _expire_tags(gained)
    _log(gained, tag, "added", actor)
    if evaluate and gained:
        _evaluate_workflows(gained, tag)
    return gained


def remove_tag(
    records: Iterable[int] | Select,
    tag: Tag,
    *,
    evaluate: bool = True,
    actor: Actor | None = None,
) -> list[int]:
    """Take ``tag`` off the records; returns the ids that lost it (logged as for add_tag)."""
    lost: list[int] = []
    for chunk in _chunks(_ids(records)):
        had = list(
            db.session.scalars(
                select(record_tags.c.record_id).where(
                    record_tags.c.tag_id == tag.id, record_tags.c.record_id.in_(chunk)
                )
            )
        )
        if had:
            db.session.execute(
                delete(record_tags).where(
                    record_tags.c.tag_id == tag.id, record_tags.c.record_id.in_(had)
                )
            )
        lost.extend(had)
    _expire_tags(lost)
    _log(lost, tag, "removed", actor)
    if evaluate and lost:
        _evaluate_workflows(lost, tag)
    return lost


def log_changes(
    record_id: int, *, added: Sequence[Tag], removed: Sequence[Tag], actor: Actor | None
) -> None:
    """Tags already put on or taken off one record (through its form): log each change."""
    for tag in added:
        _log([record_id], tag, "added", actor)
    for tag in removed:
        _log([record_id], tag, "removed", actor)


def _log(record_ids: list[int], tag: Tag, change: str, actor: Actor | None) -> None:
    if actor is None or not record_ids:
        return
    from app.services import events

    details = {"tag": tag.name, "change": change, "subject": f"{change} {tag.name}"}
    for chunk in _chunks(record_ids):
        events.emit_many(
            "staff.tags.changed",
            actor=actor,
            records=db.session.scalars(
                select(Record).where(Record.id.in_(chunk)).order_by(Record.id)
            ),
            details_for=lambda record: details,
        )


def _evaluate_workflows(record_ids: list[int], tag: Tag) -> None:
    from app.services import workflows  # workflows tag records too: imported when needed

    workflows.evaluate(record_ids, tag_ids={tag.id})


def _expire_tags(record_ids: list[int]) -> None:
    """Records already loaded in the session must not show stale tag lists."""
    wanted = set(record_ids)
    for obj in list(db.session.identity_map.values()):
        if isinstance(obj, Record) and obj.id in wanted:
            db.session.expire(obj, ["tags"])
