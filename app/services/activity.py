"""The activity log: append an entry (chained by hash to the one before), read it, verify it.

Each entry stores the previous entry's hash and its own, computed over everything it says.
Changing, removing or reordering entries breaks the chain, and ``verify`` finds where. Writers
take a lock on the chain's head row, so concurrent writers line up instead of forking it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from types import SimpleNamespace
from typing import Any

from sqlalchemy import func, insert, select

from models import ActivityChainHead, ActivityEntry, db, utcnow

GENESIS = "0" * 64
_HEAD_KEY = "portico_activity_head"


def jsonable(value: Any) -> Any:
    """Details as plain JSON: dates and enums become strings, sets become sorted lists."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, set | frozenset):
        return sorted(jsonable(v) for v in value)
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if hasattr(value, "value"):
        return jsonable(value.value)
    return str(value)


def entry_hash(entry: ActivityEntry) -> str:
    payload = {
        "prev": entry.prev_hash,
        "at": entry.occurred_at.isoformat(),
        "event": entry.event_key,
        "actor": [entry.actor_kind, entry.actor_user_id, entry.actor_account_id, entry.actor_label],
        "record": [entry.record_id, entry.record_label],
        "summary": entry.summary,
        "details": entry.details,
        "ip": entry.ip,
        "ua": entry.user_agent,
    }
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _head() -> ActivityChainHead:
    """The chain's head, locked for the current transaction. The lock is taken once: later
    appends in the same transaction (a batch of workflow actions, say) reuse it, unless the
    savepoint that took it has ended."""
    held = db.session.info.get(_HEAD_KEY)
    if held is not None:
        head, transaction = held
        if transaction.is_active and head in db.session:
            return head
    head = db.session.scalar(
        select(ActivityChainHead)
        .where(ActivityChainHead.id == 1)
        .with_for_update()
        .execution_options(populate_existing=True)  # what the lock holder left, not a memory
    )
    if head is None:
        head = ActivityChainHead(id=1, last_hash=GENESIS)
        db.session.add(head)
        db.session.flush()
    session = db.session()
    transaction = session.get_nested_transaction() or session.get_transaction()
    db.session.info[_HEAD_KEY] = (head, transaction)
    return head


def append(
    *,
    event_key: str,
    actor_kind: str,
    actor_label: str,
    summary: str,
    details: dict[str, Any] | None = None,
    actor_user_id: int | None = None,
    actor_account_id: int | None = None,
    record_id: int | None = None,
    record_label: str | None = None,
    ip: str | None = None,
    user_agent: str | None = None,
    now: datetime | None = None,
) -> ActivityEntry:
    """Add one entry at the end of the chain (the caller flushes or commits)."""
    head = _head()
    entry = ActivityEntry(
        occurred_at=now or utcnow(),
        event_key=event_key,
        actor_kind=actor_kind,
        actor_user_id=actor_user_id,
        actor_account_id=actor_account_id,
        actor_label=actor_label[:200],
        record_id=record_id,
        record_label=(record_label or None) and record_label[:200],
        summary=summary[:500],
        details=jsonable(details or {}),
        ip=ip,
        user_agent=(user_agent or None) and user_agent[:300],
        prev_hash=head.last_hash,
        hash="",
    )
    entry.hash = entry_hash(entry)
    db.session.add(entry)
    head.last_entry = entry
    head.last_hash = entry.hash
    return entry


def append_many(entries: list[dict[str, Any]]) -> int:
    """Add many entries at the end of the chain in one insert (each a dict of append()'s
    arguments): for bulk changes that log one entry per record. Returns how many."""
    if not entries:
        return 0
    head = _head()
    db.session.flush()  # entries appended one by one before these come first
    previous = head.last_hash
    rows = []
    for item in entries:
        row = {
            "occurred_at": item.get("now") or utcnow(),
            "event_key": item["event_key"],
            "actor_kind": item["actor_kind"],
            "actor_user_id": item.get("actor_user_id"),
            "actor_account_id": item.get("actor_account_id"),
            "actor_label": item["actor_label"][:200],
            "record_id": item.get("record_id"),
            "record_label": (item.get("record_label") or None) and item["record_label"][:200],
            "summary": item["summary"][:500],
            "details": jsonable(item.get("details") or {}),
            "ip": item.get("ip"),
            "user_agent": (item.get("user_agent") or None) and item["user_agent"][:300],
            "prev_hash": previous,
        }
        row["hash"] = previous = entry_hash(SimpleNamespace(**row))  # type: ignore[arg-type]
        rows.append(row)
    db.session.execute(insert(ActivityEntry.__table__), rows)
    # The head is locked, so nobody else has appended since: the newest id is ours.
    head.last_entry_id = db.session.scalar(select(func.max(ActivityEntry.id)))
    head.last_hash = previous
    return len(rows)


@dataclass(frozen=True)
class ChainCheck:
    ok: bool
    checked: int
    bad_entry_id: int | None = None
    problem: str | None = None


def verify(batch: int = 5000) -> ChainCheck:
    """Walk the whole log in order and check every link and every hash."""
    previous = GENESIS
    checked = 0
    last_id = 0
    while True:
        rows = db.session.scalars(
            select(ActivityEntry)
            .where(ActivityEntry.id > last_id)
            .order_by(ActivityEntry.id)
            .limit(batch)
        ).all()
        if not rows:
            break
        for entry in rows:
            if entry.prev_hash != previous:
                return ChainCheck(
                    False,
                    checked,
                    entry.id,
                    "does not follow the entry before it (one was removed or changed)",
                )
            if entry_hash(entry) != entry.hash:
                return ChainCheck(False, checked, entry.id, "its content was changed")
            previous = entry.hash
            checked += 1
        last_id = rows[-1].id
        db.session.expunge_all()
    head = db.session.get(ActivityChainHead, 1)
    if head is not None and head.last_entry_id is not None and head.last_hash != previous:
        return ChainCheck(False, checked, head.last_entry_id, "the newest entries were removed")
    return ChainCheck(True, checked)


def for_record(record_id: int, limit: int = 200) -> list[ActivityEntry]:
    return list(
        db.session.scalars(
            select(ActivityEntry)
            .where(ActivityEntry.record_id == record_id)
            .order_by(ActivityEntry.id.desc())
            .limit(limit)
        )
    )
