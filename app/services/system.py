"""How the background work is doing: the queue as the health check and the System page show it.

Work is *late* when a scheduled action or an outbox message has been due for longer than
:data:`LATE_AFTER` without being done: the check answers 503 then, so a load balancer or a
monitor notices before a client does.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from app.queue import QUEUES, WORKER_DEAD_AFTER, as_text, get_queue
from app.redis import get_redis
from models import (
    ActionStatus,
    OutboxMessage,
    OutboxStatus,
    ScheduledAction,
    db,
    utcnow,
)

LATE_AFTER = timedelta(minutes=1)
#: The sweeper runs every second; silent this long, no worker is sweeping.
SWEEPER_SILENT_AFTER = timedelta(seconds=10)
SWEPT_AT = "portico:swept-at"  # written by jobs.worker.Ticker


@dataclass(frozen=True)
class WorkerInfo:
    name: str
    queues: str
    state: str
    last_heartbeat: datetime | None
    alive: bool


@dataclass(frozen=True)
class QueueStatus:
    now: datetime
    #: Due time of the oldest scheduled action not yet done, and of the oldest unsent message.
    oldest_due_action: datetime | None
    oldest_unsent_message: datetime | None
    actions_due: int
    messages_due: int
    messages_unknown: int
    workers: tuple[WorkerInfo, ...]
    last_sweep: datetime | None
    queued_jobs: dict[str, int]

    @property
    def action_lag(self) -> float:
        return _lag(self.now, self.oldest_due_action)

    @property
    def message_lag(self) -> float:
        return _lag(self.now, self.oldest_unsent_message)

    @property
    def workers_alive(self) -> int:
        return sum(1 for worker in self.workers if worker.alive)

    @property
    def scheduler_alive(self) -> bool:
        return self.last_sweep is not None and self.now - self.last_sweep < SWEEPER_SILENT_AFTER

    @property
    def late(self) -> bool:
        return max(self.action_lag, self.message_lag) > LATE_AFTER.total_seconds()

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": not self.late,
            "oldest_due_action": _iso(self.oldest_due_action),
            "oldest_due_action_late_seconds": round(self.action_lag, 1),
            "actions_due": self.actions_due,
            "oldest_unsent_message": _iso(self.oldest_unsent_message),
            "oldest_unsent_message_late_seconds": round(self.message_lag, 1),
            "messages_due": self.messages_due,
            "messages_of_unknown_outcome": self.messages_unknown,
            "workers_alive": self.workers_alive,
            "workers": [
                {**asdict(w), "last_heartbeat": _iso(w.last_heartbeat)} for w in self.workers
            ],
            "scheduler_alive": self.scheduler_alive,
            "last_sweep": _iso(self.last_sweep),
            "queued_jobs": self.queued_jobs,
        }


def _lag(now: datetime, since: datetime | None) -> float:
    return max(0.0, (now - since).total_seconds()) if since is not None else 0.0


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def queue_status(now: datetime | None = None) -> QueueStatus:
    """The queue now: what is due and not done, which workers beat, when the sweeper ran."""
    now = now or utcnow()
    action_due = (
        ScheduledAction.status.in_((ActionStatus.PENDING, ActionStatus.CLAIMED)),
        ScheduledAction.due_at <= now,
    )
    oldest_action, actions_due = db.session.execute(
        select(func.min(ScheduledAction.due_at), func.count()).where(*action_due)
    ).one()
    unsent = (
        OutboxMessage.status.in_((OutboxStatus.QUEUED, OutboxStatus.SENDING, OutboxStatus.UNKNOWN)),
        OutboxMessage.next_attempt_at <= now,
    )
    oldest_message, messages_due = db.session.execute(
        select(func.min(OutboxMessage.next_attempt_at), func.count()).where(*unsent)
    ).one()
    unknown = db.session.scalar(
        select(func.count()).where(OutboxMessage.status == OutboxStatus.UNKNOWN)
    )
    workers, last_sweep, queued = _redis_side(now)
    return QueueStatus(
        now=now,
        oldest_due_action=_utc(oldest_action),
        oldest_unsent_message=_utc(oldest_message),
        actions_due=int(actions_due or 0),
        messages_due=int(messages_due or 0),
        messages_unknown=int(unknown or 0),
        workers=workers,
        last_sweep=last_sweep,
        queued_jobs=queued,
    )


def _utc(moment: Any) -> datetime | None:
    """``min()`` comes back without the column's type on some databases."""
    if moment is None or isinstance(moment, datetime):
        return _aware(moment)
    return _aware(datetime.fromisoformat(str(moment)))


def _aware(moment: datetime | None) -> datetime | None:
    from datetime import UTC

    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


def _redis_side(now: datetime) -> tuple[tuple[WorkerInfo, ...], datetime | None, dict[str, int]]:
    from rq import Worker
    from rq.utils import utcparse

    connection = get_redis()
    workers = []
    for worker in Worker.all(connection=connection):
        beat = _aware(worker.last_heartbeat)
        dead = worker.death_date is not None
        alive = not dead and beat is not None and now - beat < WORKER_DEAD_AFTER
        workers.append(
            WorkerInfo(
                name=worker.name,
                queues=", ".join(worker.queue_names()),
                state=str(worker.get_state()),
                last_heartbeat=beat,
                alive=alive,
            )
        )
    swept = connection.get(SWEPT_AT)
    last_sweep = _aware(utcparse(as_text(swept))) if swept is not None else None
    queued = {name: get_queue(name, connection).count for name in QUEUES}
    return tuple(sorted(workers, key=lambda w: w.name)), last_sweep, queued
