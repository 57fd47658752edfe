"""Automated workflows: who matches, when runs start and stop, and how due actions fire.

* Matching is a SQL condition (:func:`condition`): record kind, a product of the given status
  and coverage type, a tag. Services call :func:`evaluate` after anything that may change a
  match (a product saved, a tag added or removed, a record created or converted, in bulk too).
* A record that starts matching an active workflow gets one run; each action of the workflow
  becomes a :class:`ScheduledAction` row due at run start + delay, moved into the sending
  window. It does not start again while a run is going, nor until it has stopped matching and
  matches anew. With "stop when no longer matching", the change that breaks the match cancels
  what is left, and each action re-checks the match when it fires.
* Rows are the truth. The sweeper enqueues :func:`jobs.workflows.run_due`, which claims due
  rows in batches (a committed status change: a row is claimed once, whatever Redis does) and
  executes each in the same transaction that marks it done, so a killed worker leaves claimed
  rows whose effects never committed: :func:`release_stale_claims` hands them back.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from dateutil.relativedelta import relativedelta
from flask import current_app
from sqlalchemy import Select, and_, delete, func, insert, or_, select, update
from sqlalchemy.exc import InterfaceError, OperationalError, PendingRollbackError
from sqlalchemy.orm import joinedload

from app.queue import WorkerJudge
from app.services import events, outbox, portal_accounts, tags, templates
from app.services.errors import ValidationError
from app.services.events import Actor
from models import (
    ActionKind,
    ActionStatus,
    ActionTarget,
    Channel,
    DelayUnit,
    MessageTemplate,
    Product,
    ProductStatus,
    Record,
    RecordKind,
    RunStatus,
    ScheduledAction,
    Tag,
    Task,
    TaskKind,
    User,
    Workflow,
    WorkflowAction,
    WorkflowRun,
    db,
    record_tags,
    utcnow,
)

log = logging.getLogger(__name__)

CHUNK = 2000
MAX_ATTEMPTS = 5
#: A claim this old without an outcome belongs to a worker that died mid-batch. Longer than
#: the batch job's own time limit (jobs/workflows.py), so a slow batch is never run twice.
STALE_CLAIM = timedelta(minutes=15)
SWITCHED_OFF = "the workflow was switched off"
#: Errors that say the database failed, not the row: a batch hit by one hands its claims back.
DATABASE_DOWN = (OperationalError, InterfaceError, PendingRollbackError)


class LostClaim(RuntimeError):
    """The row is no longer claimed as it was when its batch took it (a stale claim handed
    back and taken again, or a staff member stopped it): this batch must not finish it."""


# -- matching -----------------------------------------------------------------------------------


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


# -- timing ---------------------------------------------------------------------------------------


def add_delay(start: datetime, amount: int, unit: DelayUnit) -> datetime:
    """``start`` plus the delay. Minutes and hours are elapsed time; days, weeks, months and
    years are counted on the office's calendar, so "2 days later" keeps the hour of day across
    a daylight-saving change and "1 month later" from January 31 is the last day of February
    where the office is, not where UTC is."""
    if unit in (DelayUnit.MINUTES, DelayUnit.HOURS):
        return start + timedelta(**{unit.value: amount})
    local = start.astimezone(_zone())
    if unit in (DelayUnit.MONTHS, DelayUnit.YEARS):
        local = local + relativedelta(**{unit.value: amount})
    else:
        local = local + timedelta(**{unit.value: amount})  # wall-clock arithmetic in the zone
    return local.astimezone(start.tzinfo)


def _zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["PORTICO_TIMEZONE"])


def in_window(workflow: Workflow, when: datetime) -> datetime:
    """``when``, or the next opening of the workflow's sending window after it."""
    if not workflow.window_days or workflow.window_start is None or workflow.window_end is None:
        return when
    zone = _zone()
    local = when.astimezone(zone)
    days = {int(d) for d in workflow.window_days}
    for offset in range(8):
        day = local.date() + timedelta(days=offset)
        if day.weekday() not in days:
            continue
        opens = datetime.combine(day, workflow.window_start, tzinfo=zone)
        closes = datetime.combine(day, workflow.window_end, tzinfo=zone)
        if offset == 0 and opens <= local < closes:
            return when
        if local < opens:
            return opens.astimezone(when.tzinfo)
    return when  # no day allowed at all: cannot happen once checked, but never lose work


def check_workflow(workflow: Workflow) -> None:
    """Tidy a workflow before it is saved, or raise ValidationError."""
    workflow.name = " ".join((workflow.name or "").split())
    if not workflow.name:
        raise ValidationError("Give the workflow a name.", field="name")
    if not (workflow.for_leads or workflow.for_clients):
        raise ValidationError("Choose leads, clients or both.", field="for_clients")
    if not (
        workflow.product_status
        or workflow.coverage_type_id
        or workflow.coverage_type  # set by a form, not yet flushed
        or workflow.tag_id
        or workflow.tag
        or workflow.on_record_created
    ):
        raise ValidationError(
            "Choose at least one trigger: a product status, a coverage type, "
            "a tag, or record created.",
            field="product_status",
        )
    window = (workflow.window_days, workflow.window_start, workflow.window_end)
    if any(window) and not all(window):
        raise ValidationError(
            "A sending window needs days, a start and an end.", field="window_days"
        )
    if (
        workflow.window_start
        and workflow.window_end
        and workflow.window_start >= workflow.window_end
    ):
        raise ValidationError("The window must end after it starts (same day).", field="window_end")


def prepare_save(workflow: Workflow, *, is_created: bool) -> bool:
    """Check a workflow and its actions before they are saved (or raise ValidationError
    naming the action), put the actions in the order they fire and count the version.
    Returns whether this save switches the workflow off: call :func:`stop_runs` once saved."""
    was_active = None
    if not is_created:
        with db.session.no_autoflush:  # as saved, before the checks' queries flush the form's
            was_active = db.session.scalar(
                select(Workflow.active).where(Workflow.id == workflow.id)
            )
    check_workflow(workflow)
    start = utcnow()

    def fires_at(step: WorkflowAction) -> tuple[datetime, int]:
        try:
            return add_delay(start, step.delay_amount or 0, step.delay_unit), step.id or 0
        except (OverflowError, ValueError, TypeError):
            return datetime.max.replace(tzinfo=start.tzinfo), step.id or 0

    for position, step in enumerate(sorted(workflow.actions, key=fires_at), start=1):
        step.position = position - 1
        step.template_key = step.template_key or None
        try:
            check_action(step)
        except ValidationError as exc:
            raise ValidationError(f"Action {position}: {exc.message}", field="actions") from None
    if is_created:
        return False
    workflow.version += 1
    return bool(was_active and not workflow.active)


def start_for_matching(workflow: Workflow) -> Evaluation:
    """Start the workflow for the records that matched before it was switched on."""
    if not workflow.active:
        raise ValidationError("Switch the workflow on first.")
    ids = list(db.session.scalars(matching_query(workflow)))
    return evaluate(ids, only={workflow.id})


#: The longest delay an action may have: a campaign that waits longer is a mistake, and dates
#: past the calendar's end would break every save that starts the workflow.
MAX_DELAY = timedelta(days=10 * 366)


def check_action(action: WorkflowAction) -> None:
    if action.delay_amount is None or action.delay_amount < 0:
        raise ValidationError("A delay cannot be negative.", field="actions")
    if action.delay_unit is not None:
        start = utcnow()
        try:
            too_long = add_delay(start, action.delay_amount, action.delay_unit) - start > MAX_DELAY
        except (OverflowError, ValueError):
            too_long = True
        if too_long:
            raise ValidationError("A delay can be at most 10 years.", field="actions")
    kind = action.kind
    if kind in (ActionKind.SEND_EMAIL, ActionKind.SEND_SMS):
        channel = Channel.EMAIL if kind == ActionKind.SEND_EMAIL else Channel.SMS
        spec = templates.spec_for(action.template_key or "")
        stored = templates.get_template(action.template_key or "")
        found = stored.channel if stored else (spec.channel if spec else None)
        if found != channel:
            which = "an email" if channel == Channel.EMAIL else "a text message"
            raise ValidationError(f"{kind.label}: choose {which} template.", field="actions")
        if spec is not None and spec.required:
            raise ValidationError(
                f"{kind.label}: {action.template_key} carries credentials "
                "and is sent only by its own feature.",
                field="actions",
            )
    if action.task_title and kind in (ActionKind.CREATE_TASK, ActionKind.CREATE_CALL):
        try:
            templates.render_text(action.task_title, templates.base_context(None))
        except ValidationError as exc:
            raise ValidationError(f"{kind.label}: {exc.message}", field="actions") from None
    if kind in (ActionKind.ADD_TAG, ActionKind.REMOVE_TAG) and not (action.tag_id or action.tag):
        raise ValidationError(f"{kind.label}: choose the tag.", field="actions")
    if action.target == ActionTarget.STAFF and not (action.staff_user_id or action.staff_user):
        raise ValidationError("Choose the staff member the action is for.", field="actions")


# -- runs -----------------------------------------------------------------------------------------


@dataclass
class Evaluation:
    started: int = 0
    stopped: int = 0
    scheduled: int = 0


def _params(action: WorkflowAction) -> dict[str, Any]:
    return {
        "target": action.target.value,
        "staff_user_id": action.staff_user_id,
        "template_key": action.template_key,
        "tag_id": action.tag_id,
        "task_title": action.task_title,
        "delay": f"{action.delay_amount} {action.delay_unit.value}",
    }


def _latest_runs(workflow_id: int, record_ids: Sequence[int]) -> dict[int, WorkflowRun]:
    latest: dict[int, WorkflowRun] = {}
    for start in range(0, len(record_ids), CHUNK):
        chunk = record_ids[start : start + CHUNK]
        for run in db.session.scalars(
            select(WorkflowRun)
            .where(WorkflowRun.workflow_id == workflow_id, WorkflowRun.record_id.in_(chunk))
            .order_by(WorkflowRun.id)
        ):
            latest[run.record_id] = run  # the newest wins
    return latest


def concerned(
    workflow: Workflow,
    *,
    tag_ids: Collection[int] | None = None,
    products: bool = False,
    only: Collection[int] | None = None,
) -> bool:
    """Whether a change can start or stop this workflow: a tag change concerns the workflows
    triggered by that tag, a product change those with product conditions; with no hint
    (a record created, its kind changed) every workflow is concerned."""
    if only is not None:
        return workflow.id in only
    if tag_ids is None and not products:
        return True
    if tag_ids is not None and workflow.tag_id in tag_ids:
        return True
    return products and (
        workflow.product_status is not None or workflow.coverage_type_id is not None
    )


def evaluate(
    record_ids: Iterable[int],
    *,
    created: bool = False,
    tag_ids: Collection[int] | None = None,
    products: bool = False,
    product_states: Collection[tuple[ProductStatus, int | None]] | None = None,
    only: Collection[int] | None = None,
    now: datetime | None = None,
) -> Evaluation:
    """Start and stop runs for these records after something about them changed: their tags
    (``tag_ids``), their products (``products``), or they were created or changed kind (no
    hint). Only the workflows the change concerns are looked at, so a record that matched a
    workflow before it was switched on does not start it because of an unrelated change.
    ``only``: these workflows, whatever changed ("start for the matching records").
    ``product_states``: what the changed products now are, (status, coverage type id); a
    product workflow then starts only if one of them meets its product conditions, so an old
    product that matched all along does not start it when another product is saved."""
    now = now or utcnow()
    ids = sorted(set(record_ids))
    result = Evaluation()
    if not ids:
        return result
    hints = {"tag_ids": tag_ids, "products": products, "only": only}
    with events.cached_rules():  # stopped runs are logged one by one
        _evaluate(ids, created, hints, product_states, only, now, result)
    db.session.flush()
    return result


def _evaluate(
    ids: list[int],
    created: bool,
    hints: dict[str, Any],
    product_states: Collection[tuple[ProductStatus, int | None]] | None,
    only: Collection[int] | None,
    now: datetime,
    result: Evaluation,
) -> None:
    for workflow in active_workflows():
        if not concerned(workflow, **hints):
            continue
        may_start = only is not None or _product_can_start(workflow, product_states)
        matched = matching_ids(workflow, ids)
        latest = _latest_runs(workflow.id, ids)
        to_start = []
        for record_id in ids:
            run = latest.get(record_id)
            if record_id in matched:
                if workflow.on_record_created and not created:
                    continue
                if not may_start:
                    continue
                if run is None or (run.status != RunStatus.RUNNING and run.unmatched_at):
                    to_start.append(record_id)
            elif run is not None:
                if run.unmatched_at is None:
                    run.unmatched_at = now
                if run.status == RunStatus.RUNNING and workflow.stop_when_unmatched:
                    cancel_run(run, "the record no longer matches", now=now)
                    result.stopped += 1
        if to_start:
            started, scheduled = _start_runs(workflow, to_start, now)
            result.started += started
            result.scheduled += scheduled


def _product_can_start(
    workflow: Workflow, states: Collection[tuple[ProductStatus, int | None]] | None
) -> bool:
    if states is None or (workflow.product_status is None and workflow.coverage_type_id is None):
        return True
    return any(
        (workflow.product_status is None or status == workflow.product_status)
        and (workflow.coverage_type_id is None or coverage == workflow.coverage_type_id)
        for status, coverage in states
    )


def _start_runs(workflow: Workflow, record_ids: list[int], now: datetime) -> tuple[int, int]:
    """Runs and their scheduled rows, inserted in bulk (thousands at a time); returns how
    many runs started and how many rows they scheduled."""
    started_runs = scheduled = 0
    actions = sorted(workflow.actions, key=lambda a: (a.position, a.id or 0))
    due = [in_window(workflow, add_delay(now, a.delay_amount, a.delay_unit)) for a in actions]
    params = [_params(a) for a in actions]
    for start in range(0, len(record_ids), CHUNK):
        chunk = record_ids[start : start + CHUNK]
        run_rows = [
            {
                "workflow_id": workflow.id,
                "record_id": record_id,
                "status": RunStatus.RUNNING,
                "started_at": now,
                "workflow_version": workflow.version,
            }
            for record_id in chunk
        ]
        # A run started meanwhile by another request or worker (the unique index on running
        # runs) is theirs: this insert skips that record instead of failing the whole change.
        started = dict(
            db.session.execute(
                _insert_ignoring_duplicates(WorkflowRun).returning(
                    WorkflowRun.record_id, WorkflowRun.id
                ),
                run_rows,
            ).all()
        )
        chunk = [record_id for record_id in chunk if record_id in started]
        run_ids = [started[record_id] for record_id in chunk]
        started_runs += len(run_ids)
        rows = [
            {
                "run_id": run_id,
                "workflow_id": workflow.id,
                "record_id": record_id,
                "workflow_action_id": action.id,
                "position": action.position,
                "kind": action.kind,
                "params": action_params,
                "due_at": due_at,
                "status": ActionStatus.PENDING,
                "attempts": 0,
            }
            for run_id, record_id in zip(run_ids, chunk, strict=True)
            for action, due_at, action_params in zip(actions, due, params, strict=True)
        ]
        if rows:  # a plain insert of the table: no objects are needed back
            db.session.execute(insert(ScheduledAction.__table__), rows)
        scheduled += len(rows)
        if not actions:  # nothing to do: the run is over as it starts
            db.session.execute(
                update(WorkflowRun)
                .where(WorkflowRun.id.in_(run_ids))
                .values(status=RunStatus.COMPLETED, ended_at=now, end_reason="no actions")
            )
    return started_runs, scheduled


def _insert_ignoring_duplicates(model: Any) -> Any:
    if db.session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as postgresql_insert

        return postgresql_insert(model).on_conflict_do_nothing()
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert(model).on_conflict_do_nothing()


def _sentence(reason: str) -> str:
    return f"{reason[:1].upper()}{reason[1:]}."


def cancel_run(
    run: WorkflowRun, reason: str, now: datetime | None = None, actor: Actor | None = None
) -> int:
    """End a run and cancel what it had left to do; returns the rows cancelled. A staff
    member's stop (``actor``) is logged on the record."""
    if run.status != RunStatus.RUNNING:
        return 0  # it has ended already: nothing left to cancel, nothing to log
    now = now or utcnow()
    result = db.session.execute(
        update(ScheduledAction)
        .where(
            ScheduledAction.run_id == run.id,
            # A claimed row is being carried out by a worker: it finishes as the run stands.
            ScheduledAction.status == ActionStatus.PENDING,
        )
        .values(status=ActionStatus.CANCELLED, finished_at=now, outcome=_sentence(reason))
        .execution_options(synchronize_session="fetch")  # rows a batch holds see it too
    )
    run.status = RunStatus.CANCELLED
    run.ended_at = now
    run.end_reason = reason
    cancelled = int(result.rowcount)  # type: ignore[attr-defined]
    left = f"{cancelled} action{'' if cancelled == 1 else 's'} cancelled"
    if actor is not None:
        _log_stop(run, actor, f"the run ({left})")
    else:
        workflow = db.session.get(Workflow, run.workflow_id)
        name = workflow.name if workflow else "a workflow"
        events.emit(
            "workflow.run.stopped",
            actor=Actor.system(f"Workflow: {name}"),
            record=db.session.get(Record, run.record_id),
            details={"workflow": name, "reason": reason, "subject": f"{reason} ({left})"},
        )
    return cancelled


def stop_runs(workflow: Workflow, reason: str = SWITCHED_OFF, now: datetime | None = None) -> int:
    """End every running run of a workflow (it was switched off) and cancel what they had
    left to do, in bulk; returns how many runs stopped. Rows a worker has already claimed
    finish as they stand."""
    now = now or utcnow()
    db.session.execute(
        update(ScheduledAction)
        .where(
            ScheduledAction.workflow_id == workflow.id,
            ScheduledAction.status == ActionStatus.PENDING,
        )
        .values(status=ActionStatus.CANCELLED, finished_at=now, outcome=_sentence(reason))
        .execution_options(synchronize_session=False)
    )
    stopped = db.session.execute(
        update(WorkflowRun)
        .where(WorkflowRun.workflow_id == workflow.id, WorkflowRun.status == RunStatus.RUNNING)
        .values(status=RunStatus.CANCELLED, ended_at=now, end_reason=reason)
        .execution_options(synchronize_session=False)
    )
    db.session.expire_all()
    return int(stopped.rowcount)  # type: ignore[attr-defined]


def _log_stop(run: WorkflowRun, actor: Actor, what: str) -> None:
    workflow = db.session.get(Workflow, run.workflow_id)
    name = workflow.name if workflow else "a workflow"
    events.emit(
        "staff.workflow.stopped",
        actor=actor,
        record=db.session.get(Record, run.record_id),
        details={"workflow": name, "stopped": what, "subject": f"{name}: {what}"},
    )


def cancel_action(
    action: ScheduledAction, reason: str = "stopped by staff", actor: Actor | None = None
) -> bool:
    """Cancel a pending action; False if it is not pending (any more): a worker that has
    already taken it carries it out. A staff member's cancel (``actor``) is logged."""
    result = db.session.execute(
        update(ScheduledAction)
        .where(ScheduledAction.id == action.id, ScheduledAction.status == ActionStatus.PENDING)
        .values(
            status=ActionStatus.CANCELLED,
            finished_at=utcnow(),
            outcome=_sentence(reason),
        )
        .execution_options(synchronize_session="fetch")
    )
    if not result.rowcount:  # type: ignore[attr-defined]
        return False
    if actor is not None:
        due = action.due_at.astimezone(_zone())
        _log_stop(action.run, actor, f"{action.kind.label} due {due:%Y-%m-%d %H:%M}")
    _complete_if_finished(action.run_id)
    return True


def _complete_if_finished(run_id: int) -> None:
    _settle({run_id})


def _settle(run_ids: Iterable[int]) -> None:
    """Complete the running runs among ``run_ids`` that have nothing left to do."""
    run_ids = sorted(run_ids)
    if not run_ids:
        return
    still_open = set(
        db.session.scalars(
            select(ScheduledAction.run_id)
            .where(
                ScheduledAction.run_id.in_(run_ids),
                ScheduledAction.status.in_((ActionStatus.PENDING, ActionStatus.CLAIMED)),
            )
            .distinct()
        )
    )
    finished = [run_id for run_id in run_ids if run_id not in still_open]
    for start in range(0, len(finished), CHUNK):
        db.session.execute(
            update(WorkflowRun)
            .where(
                WorkflowRun.id.in_(finished[start : start + CHUNK]),
                WorkflowRun.status == RunStatus.RUNNING,
            )
            .values(status=RunStatus.COMPLETED, ended_at=utcnow(), end_reason="all actions done")
            .execution_options(synchronize_session="fetch")
        )


# -- firing ---------------------------------------------------------------------------------------


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
    _settle({action.run_id for action in given_up})
    for action in given_up:
        _log_fired(
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


def _confirm_claims(actions: Sequence[ScheduledAction]) -> set[int]:
    """Which of these rows are still claimed as this worker took them (a stale claim handed
    back and taken again, or a row a staff member cancelled, is not). The check is an update:
    the rows stay locked until commit, so no one can hand them back or cancel them while they
    run (a row lock on PostgreSQL, the write lock on SQLite)."""
    by_claim: dict[datetime | None, list[int]] = defaultdict(list)
    for action in actions:
        if action.status == ActionStatus.CLAIMED:
            by_claim[action.claimed_at].append(action.id)
    ours: set[int] = set()
    for claimed_at, ids in by_claim.items():
        same_claim = (
            ScheduledAction.claimed_at == claimed_at
            if claimed_at is not None
            else ScheduledAction.claimed_at.is_(None)
        )
        result = db.session.execute(
            update(ScheduledAction)
            .where(
                ScheduledAction.id.in_(ids),
                ScheduledAction.status == ActionStatus.CLAIMED,
                same_claim,
            )
            .values(claimed_at=ScheduledAction.claimed_at)
            .returning(ScheduledAction.id)
            .execution_options(synchronize_session=False)
        )
        ours.update(result.scalars())
    return ours


def has_due(now: datetime) -> bool:
    return (
        db.session.scalar(
            select(ScheduledAction.id)
            .where(ScheduledAction.status == ActionStatus.PENDING, ScheduledAction.due_at <= now)
            .limit(1)
        )
        is not None
    )


@dataclass
class Batch:
    """What the claimed rows of one batch share: their rows, runs, workflows and records are
    loaded together, each workflow's match is checked once for all of the batch's records, and
    runs are settled (completed when nothing is left) once at the end."""

    matched: dict[tuple[int, int], bool] = field(default_factory=dict)
    runs: set[int] = field(default_factory=set)
    #: The rows still claimed as this worker took them (locked until commit).
    ours: set[int] = field(default_factory=set)
    #: The loaded rows: the session holds them weakly, the batch keeps them alive.
    held: list[Any] = field(default_factory=list)

    @classmethod
    def load(cls, action_ids: Sequence[int]) -> Batch:
        batch = cls()
        actions = db.session.scalars(
            select(ScheduledAction).where(ScheduledAction.id.in_(action_ids))
        ).all()
        batch.ours = _confirm_claims(actions)
        actions = [a for a in actions if a.id in batch.ours]
        run_ids = {a.run_id for a in actions}
        record_ids = sorted({a.record_id for a in actions})
        # In the session, so that execute()'s lookups cost no query.
        runs = db.session.scalars(select(WorkflowRun).where(WorkflowRun.id.in_(run_ids))).all()
        records = db.session.scalars(select(Record).where(Record.id.in_(record_ids))).all()
        workflows = db.session.scalars(
            select(Workflow).where(Workflow.id.in_({a.workflow_id for a in actions}))
        ).all()
        batch.held = [*actions, *runs, *records, *workflows]
        for workflow in workflows:
            if not workflow.stop_when_unmatched:
                continue
            mine = sorted({a.record_id for a in actions if a.workflow_id == workflow.id})
            found = matching_ids(workflow, mine)
            batch.matched.update({(workflow.id, rid): rid in found for rid in mine})
        return batch

    def matches(self, workflow: Workflow, record: Record) -> bool:
        key = (workflow.id, record.id)
        if key not in self.matched:
            self.matched[key] = matches(workflow, record)
        return self.matched[key]

    def changed(self, record_id: int) -> None:
        """The record's tags changed: check its matches afresh."""
        for key in [k for k in self.matched if k[1] == record_id]:
            del self.matched[key]


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
            _settle(batch.runs)
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
    if batch is None and action.id not in _confirm_claims([action]):
        raise LostClaim(f"scheduled action {action.id} is no longer this worker's")
    run = db.session.get(WorkflowRun, action.run_id)
    workflow = db.session.get(Workflow, action.workflow_id)
    record = db.session.get(Record, action.record_id)
    if run is None or workflow is None or record is None or run.status != RunStatus.RUNNING:
        return _finish(action, ActionStatus.CANCELLED, "The run was stopped.", now, batch)
    if not workflow.active:  # switched off as this came due: it fires nothing more
        cancel_run(run, SWITCHED_OFF, now=now)
        return _finish(action, ActionStatus.CANCELLED, _sentence(SWITCHED_OFF), now, batch)
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
    status, outcome = _perform(action, workflow, record, now)
    if batch is not None and action.kind in (ActionKind.ADD_TAG, ActionKind.REMOVE_TAG):
        batch.changed(record.id)
    _finish(action, status, outcome, now, batch)
    _log_fired(action, workflow, record, status, outcome)
    return status


def _log_fired(
    action: ScheduledAction,
    workflow: Workflow | None,
    record: Record | None,
    status: ActionStatus,
    outcome: str,
) -> None:
    name = workflow.name if workflow else "a workflow"
    done = "" if status == ActionStatus.DONE else f", {status.label.lower()}"
    events.emit(
        "workflow.action.fired",
        actor=Actor.system(f"Workflow: {name}"),
        record=record,
        details={
            "workflow": name,
            "action": action.kind.label,
            "outcome": outcome,
            "status": status.value,
            "subject": f"{action.kind.label}{done}. {outcome}",
        },
    )


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
        _complete_if_finished(action.run_id)
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
        _log_fired(
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


def _recipient(action: ScheduledAction, record: Record) -> User | None:
    target = action.params.get("target")
    if target == ActionTarget.AGENT.value:
        return record.assigned_agent
    if target == ActionTarget.STAFF.value:
        return db.session.get(User, action.params.get("staff_user_id") or 0)
    return None


def _perform(
    action: ScheduledAction, workflow: Workflow, record: Record, now: datetime
) -> tuple[ActionStatus, str]:
    kind = action.kind
    params = action.params
    staff = _recipient(action, record)
    if kind == ActionKind.ENABLE_SELF_SERVICE:
        account = portal_accounts.primary_account(record)
        if account is not None and account.status.value == "enabled":
            return ActionStatus.SKIPPED, "Self service was already enabled."
        try:
            portal_accounts.enable_self_service(record, Actor.system(f"Workflow: {workflow.name}"))
        except ValidationError as exc:
            return ActionStatus.SKIPPED, exc.message
        return ActionStatus.DONE, "Self service enabled: link and password sent."
    if kind in (ActionKind.SEND_EMAIL, ActionKind.SEND_SMS):
        return _send(action, record, staff)
    if kind in (ActionKind.CREATE_TASK, ActionKind.CREATE_CALL):
        assignee = staff if params.get("target") != ActionTarget.RECORD.value else None
        assignee = assignee or record.assigned_agent
        title = _task_title(action, record)
        task = Task(
            title=title,
            kind=TaskKind.CALL if kind == ActionKind.CREATE_CALL else TaskKind.TODO,
            record_id=record.id,
            assignee_id=assignee.id if assignee else None,
            due_at=now,
            notes=f"From the workflow {workflow.name}.",
        )
        db.session.add(task)
        return ActionStatus.DONE, f"Task created: {title}" + (
            f" for {assignee.full_name}." if assignee else " (nobody assigned)."
        )
    if kind in (ActionKind.ADD_TAG, ActionKind.REMOVE_TAG):
        tag = db.session.get(Tag, params.get("tag_id") or 0)
        if tag is None:
            return ActionStatus.SKIPPED, "The tag no longer exists."
        if kind == ActionKind.ADD_TAG:
            changed = tags.add_tag([record.id], tag)
            return (
                ActionStatus.DONE,
                f"Tagged {tag.name}." if changed else f"Already tagged {tag.name}.",
            )
        changed = tags.remove_tag([record.id], tag)
        return (
            ActionStatus.DONE,
            f"Removed the tag {tag.name}." if changed else f"Was not tagged {tag.name}.",
        )
    return ActionStatus.SKIPPED, f"Unknown action {kind}."


def _task_title(action: ScheduledAction, record: Record) -> str:
    raw = action.params.get("task_title") or (
        "Call {{ record.full_name }}"
        if action.kind == ActionKind.CREATE_CALL
        else "Follow up with {{ record.full_name }}"
    )
    try:
        return templates.render_text(raw, templates.base_context(record))[:200]
    except ValidationError:
        return raw[:200]


def describe(
    action: ScheduledAction, record: Record, template_names: dict[str, str] | None = None
) -> str:
    """What a scheduled action will do, in words for staff: the template it sends (by name),
    the task it makes (its title, filled in for the record), the tag it puts or takes off."""
    params = action.params or {}
    target = params.get("target")
    to = {
        ActionTarget.AGENT.value: " to the agent",
        ActionTarget.STAFF.value: " to chosen staff",
    }.get(target or "", "")
    if action.kind in (ActionKind.SEND_EMAIL, ActionKind.SEND_SMS):
        key = params.get("template_key") or ""
        names = template_names if template_names is not None else template_names_by_key()
        return f"“{names.get(key, key)}”{to}"
    if action.kind in (ActionKind.CREATE_TASK, ActionKind.CREATE_CALL):
        return _task_title(action, record)
    if action.kind in (ActionKind.ADD_TAG, ActionKind.REMOVE_TAG):
        tag = db.session.get(Tag, params.get("tag_id") or 0)
        return tag.name if tag else "(a tag since deleted)"
    return ""


def template_names_by_key() -> dict[str, str]:
    rows = db.session.execute(select(MessageTemplate.key, MessageTemplate.name))
    return {key: name for key, name in rows}


#: A message to the client: the record's address for it, the consent it needs, and what to
#: say when the consent or the address is missing.
_CLIENT_CHANNELS = {
    ActionKind.SEND_EMAIL: (
        "email",
        "email_opt_in",
        "The client has opted out of email.",
        "No email address to send to.",
    ),
    ActionKind.SEND_SMS: (
        "mobile",
        "sms_opt_in",
        "The client has not agreed to text messages.",
        "No mobile number to text.",
    ),
}


def _send(action: ScheduledAction, record: Record, staff: User | None) -> tuple[ActionStatus, str]:
    """Queue the email or text, or say why not. The client's own choices come first: a client
    who opted out of email or has not agreed to texts is skipped (staff always get theirs).
    A message meant for staff never goes to the client: with no agent assigned (or the chosen
    staff member gone or deactivated) an email goes to the office address, a text is skipped."""
    for_staff = action.params.get("target") in (ActionTarget.AGENT.value, ActionTarget.STAFF.value)
    who = ""
    if for_staff and (staff is None or not staff.active):
        staff = None
        who = (
            "the record has no active agent"
            if action.params.get("target") == ActionTarget.AGENT.value
            else "the chosen staff member is no longer active"
        )
    to_name = staff.full_name if staff else ("Office" if for_staff else record.full_name)
    if not for_staff:
        address, consent, no_consent, no_address = _CLIENT_CHANNELS[action.kind]
        to = getattr(record, address)
        if not getattr(record, consent):
            return ActionStatus.SKIPPED, no_consent
        if not to:
            return ActionStatus.SKIPPED, no_address
    elif action.kind == ActionKind.SEND_EMAIL:
        to = staff.email if staff else templates.office_context()["email"]
        if not to:
            return ActionStatus.SKIPPED, f"Not sent: {who} and no office address is set."
    else:
        to = staff.phone if staff else None
        if not to:
            reason = who if staff is None else f"{staff.full_name} has no phone number"
            return ActionStatus.SKIPPED, f"Not sent: {reason}."
    message = outbox.send_template(
        action.params.get("template_key") or "",
        templates.base_context(record),
        key=f"workflow-action:{action.id}",
        to=str(to),
        to_name=to_name if action.kind == ActionKind.SEND_EMAIL else None,
        record_id=record.id,
        event_key="workflow.action.fired",
    )
    if action.kind == ActionKind.SEND_EMAIL:
        return ActionStatus.DONE, f"Email “{message.subject}” queued to {to}."
    return ActionStatus.DONE, f"Text message queued to {to}."


# -- workflow changes ----------------------------------------------------------------------------


def copy_workflow(workflow: Workflow) -> Workflow:
    """An inactive duplicate with every action, to adapt (another coverage type, say)."""
    duplicate = Workflow(
        name=f"Copy of {workflow.name}"[:120],
        active=False,
        for_leads=workflow.for_leads,
        for_clients=workflow.for_clients,
        product_status=workflow.product_status,
        coverage_type_id=workflow.coverage_type_id,
        tag_id=workflow.tag_id,
        on_record_created=workflow.on_record_created,
        stop_when_unmatched=workflow.stop_when_unmatched,
        window_days=workflow.window_days,
        window_start=workflow.window_start,
        window_end=workflow.window_end,
        description=workflow.description,
    )
    duplicate.actions = [
        WorkflowAction(
            position=a.position,
            delay_amount=a.delay_amount,
            delay_unit=a.delay_unit,
            kind=a.kind,
            target=a.target,
            staff_user_id=a.staff_user_id,
            template_key=a.template_key,
            tag_id=a.tag_id,
            task_title=a.task_title,
        )
        for a in workflow.actions
    ]
    db.session.add(duplicate)
    db.session.flush()
    return duplicate


def apply_to_running(workflow: Workflow, now: datetime | None = None) -> int:
    """Reschedule the runs under way from the workflow as it is now: actions still to come
    move to their new times, new actions are added, removed ones dropped. What each run has
    already done, skipped, failed, is doing or was cancelled by staff stays as it is.
    Returns how many runs were changed."""
    now = now or utcnow()
    runs = list(
        db.session.scalars(
            select(WorkflowRun).where(
                WorkflowRun.workflow_id == workflow.id, WorkflowRun.status == RunStatus.RUNNING
            )
        )
    )
    actions = sorted(workflow.actions, key=lambda a: (a.position, a.id or 0))
    for run in runs:
        handled = set(
            db.session.scalars(
                select(ScheduledAction.workflow_action_id).where(
                    ScheduledAction.run_id == run.id,
                    ScheduledAction.status != ActionStatus.PENDING,
                )
            )
        )
        db.session.execute(
            delete(ScheduledAction).where(
                ScheduledAction.run_id == run.id, ScheduledAction.status == ActionStatus.PENDING
            )
        )
        for action in actions:
            if action.id in handled:
                continue
            due = add_delay(run.started_at, action.delay_amount, action.delay_unit)
            db.session.add(
                ScheduledAction(
                    run_id=run.id,
                    workflow_id=workflow.id,
                    record_id=run.record_id,
                    workflow_action_id=action.id,
                    position=action.position,
                    kind=action.kind,
                    params=_params(action),
                    due_at=in_window(workflow, max(due, now)),
                    status=ActionStatus.PENDING,
                    attempts=0,
                )
            )
        run.workflow_version = workflow.version
    db.session.flush()
    _settle(run.id for run in runs)
    return len(runs)


# -- what a bulk change would do ---------------------------------------------------------------


@dataclass
class DryRun:
    workflow: Workflow
    starts: int = 0
    stops: int = 0
    #: (local date, action label) -> how many.
    schedule: dict[tuple[str, str], int] = field(default_factory=dict)


def dry_run_tag_change(
    record_ids: Sequence[int], tag: Tag, add: bool, now: datetime | None = None
) -> list[DryRun]:
    """Runs a bulk tag change would start or stop, and what would go out when (nothing is
    written)."""
    now = now or utcnow()
    ids = sorted(set(record_ids))
    plans = []
    relevant = [wf for wf in active_workflows() if concerned(wf, tag_ids={tag.id})]
    with db.session.begin_nested() as savepoint:
        before = {wf.id: matching_ids(wf, ids) for wf in relevant}
        latest_before = {wf.id: _latest_runs(wf.id, ids) for wf in relevant}
        (tags.add_tag if add else tags.remove_tag)(ids, tag, evaluate=False)
        for workflow in relevant:
            after = matching_ids(workflow, ids)
            plan = DryRun(workflow)
            latest = latest_before[workflow.id]
            starting: list[int] = []
            for record_id in ids:
                run = latest.get(record_id)
                if (
                    record_id in after
                    and record_id not in before[workflow.id]
                    and not workflow.on_record_created
                    and (run is None or run.status != RunStatus.RUNNING)
                ):
                    plan.starts += 1
                    starting.append(record_id)
                elif (
                    record_id not in after
                    and run is not None
                    and run.status == RunStatus.RUNNING
                    and workflow.stop_when_unmatched
                ):
                    plan.stops += 1
            counts: dict[tuple[str, str], int] = defaultdict(int)
            zone = _zone()
            reachable = _reachable(starting, workflow)
            for action in workflow.actions:
                due = in_window(workflow, add_delay(now, action.delay_amount, action.delay_unit))
                day = due.astimezone(zone).strftime("%Y-%m-%d")
                sent = plan.starts
                if action.target == ActionTarget.RECORD and action.kind in reachable:
                    sent = reachable[action.kind]
                    skipped = plan.starts - sent
                    if skipped:
                        why = SKIP_REASONS[action.kind]
                        counts[(day, f"{action.kind.label}: not sent ({why})")] += skipped
                counts[(day, action.kind.label)] += sent
            plan.schedule = {k: v for k, v in sorted(counts.items()) if v}
            if plan.starts or plan.stops:
                plans.append(plan)
        savepoint.rollback()
    return plans


SKIP_REASONS = {
    ActionKind.SEND_EMAIL: "opted out of email, or no address",
    ActionKind.SEND_SMS: "no consent to texts, or no mobile number",
}


def _reachable(record_ids: Sequence[int], workflow: Workflow) -> dict[ActionKind, int]:
    """How many of these records a campaign email and a campaign text would reach."""
    kinds = {a.kind for a in workflow.actions if a.target == ActionTarget.RECORD}
    if not record_ids or not kinds & set(SKIP_REASONS):
        return {}
    email = sms = 0
    for start in range(0, len(record_ids), CHUNK):
        chunk = record_ids[start : start + CHUNK]
        row = db.session.execute(
            select(
                func.count().filter(Record.email_opt_in.is_(True), Record.email.is_not(None)),
                func.count().filter(Record.sms_opt_in.is_(True), Record.mobile.is_not(None)),
            ).where(Record.id.in_(chunk))
        ).one()
        email += row[0]
        sms += row[1]
    return {ActionKind.SEND_EMAIL: email, ActionKind.SEND_SMS: sms}


# -- views of the schedule ------------------------------------------------------------------------


def next_due(workflow: Workflow) -> ScheduledAction | None:
    return db.session.scalar(
        select(ScheduledAction)
        .where(
            ScheduledAction.workflow_id == workflow.id,
            ScheduledAction.status == ActionStatus.PENDING,
        )
        .order_by(ScheduledAction.due_at)
        .limit(1)
    )


def running_count(workflow: Workflow) -> int:
    return (
        db.session.scalar(
            select(func.count())
            .select_from(WorkflowRun)
            .where(WorkflowRun.workflow_id == workflow.id, WorkflowRun.status == RunStatus.RUNNING)
        )
        or 0
    )


def runs_of(record: Record, *, running: bool = False) -> list[WorkflowRun]:
    """The record's runs, newest first, with their actions (only those under way)."""
    query = select(WorkflowRun).where(WorkflowRun.record_id == record.id)
    if running:
        query = query.where(WorkflowRun.status == RunStatus.RUNNING)
    return list(
        db.session.scalars(
            query.options(
                joinedload(WorkflowRun.workflow), joinedload(WorkflowRun.actions)
            ).order_by(WorkflowRun.id.desc())
        ).unique()
    )


def describe_conditions(workflow: Workflow) -> str:
    """The triggers in words: "Leads and clients with a Medicare Advantage product that is
    Quoted"."""
    kinds = " and ".join(
        k
        for k, on in (
            ("Leads", workflow.for_leads),
            ("clients" if workflow.for_leads else "Clients", workflow.for_clients),
        )
        if on
    )
    parts = [kinds]
    if workflow.product_status or workflow.coverage_type:
        coverage = f"{workflow.coverage_type.name} " if workflow.coverage_type else ""
        status = f" that is {workflow.product_status.label}" if workflow.product_status else ""
        parts.append(f"with a {coverage}product{status}")
    if workflow.tag is not None:
        parts.append(f"tagged {workflow.tag.name}")
    if workflow.on_record_created:
        parts.append("when created")
    return ", ".join(parts)


def window_text(workflow: Workflow) -> str:
    if not workflow.window_days:
        return "any time"
    names = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
    runs: list[list[int]] = []  # consecutive days read as a range: "Mon to Fri, Sun"
    for day in sorted(int(d) for d in workflow.window_days):
        if runs and runs[-1][-1] == day - 1:
            runs[-1].append(day)
        else:
            runs.append([day])
    days = ", ".join(
        names[r[0]] if len(r) == 1 else f"{names[r[0]]}\N{EN DASH}{names[r[-1]]}" for r in runs
    )
    start: time = workflow.window_start  # type: ignore[assignment]
    end: time = workflow.window_end  # type: ignore[assignment]
    return f"{days} {start:%H:%M} to {end:%H:%M}"
