"""The activity log: append-only, each entry chained to the previous one by its hash."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, Integer, String, event
from sqlalchemy.orm import Mapped, ORMExecuteState, Session, mapped_column, relationship

from models.base import UTCDateTime, db


class AppendOnlyError(RuntimeError):
    """Raised on any attempt to change or delete activity entries through the ORM."""


class ActivityEntry(db.Model):
    """One thing that happened. ``record_id`` and the actor ids are plain numbers with a text
    label beside them (no foreign keys), so history outlives the rows it speaks of."""

    __tablename__ = "activity_entries"
    __table_args__ = (
        Index("ix_activity_entries_record", "record_id", "id"),
        Index("ix_activity_entries_event", "event_key", "id"),
        Index("ix_activity_entries_occurred", "occurred_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    event_key: Mapped[str] = mapped_column(String(80), nullable=False)
    #: ``client``, ``staff`` or ``system``.
    actor_kind: Mapped[str] = mapped_column(String(16), nullable=False)
    actor_user_id: Mapped[int | None] = mapped_column(Integer, index=True)
    actor_account_id: Mapped[int | None] = mapped_column(Integer)
    actor_label: Mapped[str] = mapped_column(String(200), nullable=False)
    record_id: Mapped[int | None] = mapped_column(Integer)
    record_label: Mapped[str | None] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(String(500), nullable=False)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, nullable=False)
    ip: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(300))
    prev_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    hash: Mapped[str] = mapped_column(String(64), nullable=False)


class ActivityChainHead(db.Model):
    """A single row: the newest entry's hash. Writers lock it, so the chain never forks."""

    __tablename__ = "activity_chain_head"

    id: Mapped[int] = mapped_column(primary_key=True)
    last_entry_id: Mapped[int | None] = mapped_column(Integer)
    last_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    #: Set on append without a flush: the id is written once the entries are inserted, so a
    #: batch of appends costs one insert round and one update of this row.
    last_entry: Mapped[ActivityEntry | None] = relationship(
        primaryjoin="foreign(ActivityChainHead.last_entry_id) == ActivityEntry.id",
        post_update=True,
    )


@event.listens_for(ActivityEntry, "before_update")
def _no_update(mapper: Any, connection: Any, target: ActivityEntry) -> None:
    raise AppendOnlyError("activity entries cannot be changed")


@event.listens_for(ActivityEntry, "before_delete")
def _no_delete(mapper: Any, connection: Any, target: ActivityEntry) -> None:
    raise AppendOnlyError("activity entries cannot be deleted")


@event.listens_for(Session, "do_orm_execute")
def _no_bulk_changes(state: ORMExecuteState) -> None:
    if (state.is_update or state.is_delete) and any(
        mapper.class_ is ActivityEntry for mapper in state.all_mappers
    ):
        raise AppendOnlyError("activity entries cannot be changed or deleted")
