"""Firing due actions. Rows are the truth: the sweeper asks :func:`has_due` and enqueues the
batch job, which claims due rows (:func:`claim_due`, a committed status change: a row is
claimed once, whatever Redis does) and carries them out (:func:`execute_batch`) in the same
transaction that marks them done. A worker killed mid-batch leaves claimed rows whose effects
never committed: :func:`release_stale_claims` and :func:`hand_back` make them due again."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select, update
from sqlalchemy.exc import InterfaceError, OperationalError, PendingRollbackError

from app.queue import WorkerJudge
from app.services.workflows.actions import REGISTRY, perform
from app.services.workflows.batch import Batch, confirm_claims
from app.services.workflows.matching import matches
from app.services.workflows.runs import SWITCHED_OFF, cancel_run, log_fired, sentence, settle
from app.services.workflows.timing import in_window
from models import (
    ActionStatus,
    Record,
    RunStatus,
    ScheduledAction,
    Workflow,
    WorkflowRun,
    db,
    utcnow,
)

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
#: A claim this old without an outcome belongs to a worker that died mid-batch. Longer than
#: the batch job's own time limit (jobs/workflows.py), so a slow batch is never run twice.
STALE_CLAIM = timedelta(minutes=15)
#: Errors that say the database failed, not the row: a batch hit by one hands its claims back.
DATABASE_DOWN = (OperationalError, InterfaceError, PendingRollbackError)


class LostClaim(RuntimeError):
    """The row is no longer claimed as it was when its batch took it (a stale claim handed
    back and taken again, or a staff member stopped it): this batch must not finish it."""


def has_due(now: datetime) -> bool:
    return (
        db.session.scalar(
            select(ScheduledAction.id)
            .where(ScheduledAction.status == ActionStatus.PENDING, ScheduledAction.due_at <= now)
            .limit(1)
        )
        is not None
    )


def claim_due(now: datetime, limit: int = 200, worker: str | None = None) -> list[int]:
    """Take due rows for this worker (the caller commits at once): up to ``limit`` fresh
    ones, or, when none are due, a single row that has been tried before. A row that failed,
    or whose worker died with it, runs alone: if it is what kills workers, it takes no other
    row down with it; and rows that keep failing never hold up the ones due for the first
    time. ``worker``: the claiming worker's name, so that its death hands the rows back."""
    due = and_(ScheduledAction.status == ActionStatus.PENDING, ScheduledAction.due_at <= now)
    order = (ScheduledAction.due_at, ScheduledAction.id)
    locking = db.session.get_bind().dialect.name == "postgresql"
    retry = select(ScheduledAction.id).where(due, ScheduledAction.attempts > 0).order_by(*order)
    fresh = select(ScheduledAction.id).where(due, ScheduledAction.attempts == 0).order_by(*order)
    ids: list[int] = []
    for candidates, size in ((fresh, limit), (retry, 1)):
        if locking:
            candidates = candidates.with_for_update(skip_locked=True)
        ids = list(db.session.scalars(candidates.limit(size)))
        if ids:
            break
    if not ids:
        return []
    result = db.session.execute(
        update(ScheduledAction)
        .where(ScheduledAction.id.in_(ids), ScheduledAction.status == ActionStatus.PENDING)
        .values(
            status=ActionStatus.CLAIMED,
            claimed_at=now,
            claimed_by=worker,
            attempts=ScheduledAction.attempts + 1,
        )
        .returning(ScheduledAction.id)
        .execution_options(synchronize_session=False)
    )
    return sorted(result.scalars())  # only what this worker won


def release_stale_claims(now: datetime, *, judge_workers: bool = True) -> int:
    """Claims whose worker died (by its heartbeat, so within seconds), or older than
    STALE_CLAIM: their worker died before committing any effect. They are due again, unless
    they have used up their tries: then they fail, visibly."""
    stale_by_age = or_(
        ScheduledAction.claimed_at.is_(None), ScheduledAction.claimed_at < now - STALE_CLAIM
    )
    if judge_workers:
        judge = WorkerJudge()
        claimers = db.session.execute(
            select(ScheduledAction.claimed_by, ScheduledAction.claimed_at)
            .where(ScheduledAction.status == ActionStatus.CLAIMED)
            .group_by(ScheduledAction.claimed_by, ScheduledAction.claimed_at)
        ).all()
        dead = [
            and_(ScheduledAction.claimed_by == worker, ScheduledAction.claimed_at == claimed_at)
            for worker, claimed_at in claimers
            if worker and judge.gone(worker, claimed_at)
        ]
        if dead:
            stale_by_age = or_(stale_by_age, *dead)
    stale = and_(ScheduledAction.status == ActionStatus.CLAIMED, stale_by_age)
    given_up = db.session.scalars(
        update(ScheduledAction)
        .where(stale, ScheduledAction.attempts >= MAX_ATTEMPTS)
        .values(
            status=ActionStatus.FAILED,
            finished_at=now,
            outcome=f"Failed: the worker stopped while carrying it out, {MAX_ATTEMPTS} times.",
        )
        .returning(ScheduledAction)
        .execution_options(synchronize_session=False, populate_existing=True)
    ).all()
    settle({action.run_id for action in given_up})
    for action in given_up:
        log_fired(
            action,
            db.session.get(Workflow, action.workflow_id),
            db.session.get(Record, action.record_id),
            ActionStatus.FAILED,
            action.outcome or "",
        )
    released = db.session.execute(
        update(ScheduledAction)
        .where(stale)
        .values(status=ActionStatus.PENDING, claimed_at=None, claimed_by=None)
        .execution_options(synchronize_session=False)
    )
    return int(released.rowcount)  # type: ignore[attr-defined]


def hand_back(action_ids: Sequence[int], claimed_at: datetime, *, counted: bool = False) -> int:
    """A batch could not finish: its claims go back at once instead of waiting for
    STALE_CLAIM. Run in a transaction of its own after the failed one rolled back.
    ``counted``: the try counts (the batch ran out of time: one of its rows may be what
    hangs, so they are tried one by one); not when the database failed under them."""
    result = db.session.execute(
        update(ScheduledAction)
        .where(
            ScheduledAction.id.in_(action_ids),
            ScheduledAction.status == ActionStatus.CLAIMED,
            ScheduledAction.claimed_at == claimed_at,
        )
        .values(
            status=ActionStatus.PENDING,
            claimed_at=None,
            claimed_by=None,
            attempts=ScheduledAction.attempts - (0 if counted else 1),
        )
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def execute_batch(
    action_ids: Sequence[int],
    now: datetime | None = None,
    *,
    stop_on: tuple[type[BaseException], ...] = (),
) -> dict[str, int]:
    """Carry out claimed rows together, in one savepoint. If any of them raises, the savepoint
    is rolled back and the rows run one by one, each in its own, so a bad row costs only
    itself (it retries with backoff, then fails visibly). ``stop_on``: exceptions that end
    the whole job instead (the queue's time limit), leaving the claims to be handed back."""
    now = now or utcnow()
    counts: dict[str, int] = defaultdict(int)
    # The time limit ends the job; the database failing is no row's fault: the caller hands
    # the claims back.
    reraise: tuple[type[BaseException], ...] = (*stop_on, *DATABASE_DOWN)
    try:
        with db.session.begin_nested():
            batch = Batch.load(action_ids)
            for action_id in action_ids:
                if action_id in batch.ours:
                    counts[execute(action_id, now, batch=batch).value] += 1
            settle(batch.runs)
        return dict(counts)
    except reraise:
        raise
    except Exception:
        log.warning("an action of a batch failed; running the batch one by one", exc_info=True)
    counts.clear()
    for action_id in action_ids:
        try:
            with db.session.begin_nested():
                status = execute(action_id, now)
        except LostClaim:
            continue
        except reraise:
            raise
        except Exception as exc:
            status = record_failure(action_id, f"{type(exc).__name__}: {exc}", now)
        counts[status.value] += 1
    return dict(counts)


def execute(
    action_id: int, now: datetime | None = None, *, batch: Batch | None = None
) -> ActionStatus:
    """Carry out one claimed row, in the caller's transaction, and mark how it went."""
    now = now or utcnow()
    action = db.session.get(ScheduledAction, action_id)
    if action is None or action.status != ActionStatus.CLAIMED:
        return action.status if action else ActionStatus.CANCELLED
    if batch is None and action.id not in confirm_claims([action]):
        raise LostClaim(f"scheduled action {action.id} is no longer this worker's")
    run = db.session.get(WorkflowRun, action.run_id)
    workflow = db.session.get(Workflow, action.workflow_id)
    record = db.session.get(Record, action.record_id)
    if run is None or workflow is None or record is None or run.status != RunStatus.RUNNING:
        return _finish(action, ActionStatus.CANCELLED, "The run was stopped.", now, batch)
    if not workflow.active:  # switched off as this came due: it fires nothing more
        cancel_run(run, SWITCHED_OFF, now=now)
        return _finish(action, ActionStatus.CANCELLED, sentence(SWITCHED_OFF), now, batch)
    if workflow.stop_when_unmatched and not (
        batch.matches(workflow, record) if batch else matches(workflow, record)
    ):
        cancel_run(run, "the record no longer matches", now=now)
        if run.unmatched_at is None:
            run.unmatched_at = now
        return _finish(action, ActionStatus.CANCELLED, "The record no longer matches.", now, batch)
    opening = in_window(workflow, now)
    if opening > now:  # the window moved since this was scheduled: wait for it
        action.status = ActionStatus.PENDING
        action.due_at = opening
        action.attempts -= 1
        return ActionStatus.PENDING
    status, outcome = perform(action, workflow, record, now)
    kind = REGISTRY.get(action.kind)
    if batch is not None and kind is not None and kind.changes_tags:
        batch.changed(record.id)
    _finish(action, status, outcome, now, batch)
    log_fired(action, workflow, record, status, outcome)
    return status


def _finish(
    action: ScheduledAction,
    status: ActionStatus,
    outcome: str,
    now: datetime,
    batch: Batch | None = None,
) -> ActionStatus:
    action.status = status
    action.outcome = outcome[:1000]
    action.finished_at = now
    if batch is not None:
        batch.runs.add(action.run_id)
    else:
        settle({action.run_id})
    return status


def record_failure(action_id: int, error: str, now: datetime | None = None) -> ActionStatus:
    """An action raised: try again later (doubling the wait), then give up visibly."""
    now = now or utcnow()
    action = db.session.get(ScheduledAction, action_id)
    if action is None:
        return ActionStatus.FAILED
    if action.status != ActionStatus.CLAIMED:  # stopped, or handed to another worker
        return action.status
    action.outcome = error[:1000]
    if action.attempts >= MAX_ATTEMPTS:
        _finish(action, ActionStatus.FAILED, f"Failed after {action.attempts} tries: {error}", now)
        log_fired(
            action,
            db.session.get(Workflow, action.workflow_id),
            db.session.get(Record, action.record_id),
            ActionStatus.FAILED,
            action.outcome,
        )
        return ActionStatus.FAILED
    action.status = ActionStatus.PENDING
    action.due_at = now + timedelta(minutes=2**action.attempts)
    return ActionStatus.PENDING
