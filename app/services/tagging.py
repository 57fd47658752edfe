"""Tags on records, as rows: put on, taken off, in chunks. Nothing follows from here (no log
entry, no workflow woken): :mod:`app.services.tags` is the staff-facing change that decides
what follows, and workflows put tags through this module when one of their actions fires."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import Select, delete, insert, select

from models import Record, Tag, db, record_tags

CHUNK = 5000  # stays under SQLite's bound-parameter limit


def record_ids(records: Iterable[int] | Select) -> list[int]:
    """Ids, or a select of ids, as a sorted list without repeats."""
    if isinstance(records, Select):
        return list(db.session.scalars(records))
    return sorted({int(record_id) for record_id in records})


def chunks(ids: Sequence[int]) -> Iterable[Sequence[int]]:
    for start in range(0, len(ids), CHUNK):
        yield ids[start : start + CHUNK]


def put(records: Iterable[int] | Select, tag: Tag) -> list[int]:
    """Put ``tag`` on the records; returns the ids that gained it (missing records are
    ignored)."""
    gained: list[int] = []
    for chunk in chunks(record_ids(records)):
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
    return gained


def take_off(records: Iterable[int] | Select, tag: Tag) -> list[int]:
    """Take ``tag`` off the records; returns the ids that lost it."""
    lost: list[int] = []
    for chunk in chunks(record_ids(records)):
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
    return lost


def _expire_tags(ids: list[int]) -> None:
    """Records already loaded in the session must not show stale tag lists."""
    wanted = set(ids)
    for obj in list(db.session.identity_map.values()):
        if isinstance(obj, Record) and obj.id in wanted:
            db.session.expire(obj, ["tags"])
