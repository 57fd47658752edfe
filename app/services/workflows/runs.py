"""Runs: a record that starts matching an active workflow gets one run, whose actions become
scheduled rows; a change that breaks the match, a staff member or a switch-off stops it; a run
with nothing left to do completes."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from app.services import events, notification_rules
from app.services.events import Actor
from app.services.workflows.matching import CHUNK, active_workflows, concerned, matching_ids
from app.services.workflows.timing import add_delay, in_window, zone
from models import (
    ActionStatus,
    ProductStatus,
    Record,
    RunStatus,
    ScheduledAction,
    Workflow,
    WorkflowAction,
    WorkflowRun,
    db,
    utcnow,
)

SWITCHED_OFF = "the workflow was switched off"


@dataclass
class Evaluation:
    started: int = 0
    stopped: int = 0
    scheduled: int = 0


def params_of(action: WorkflowAction) -> dict[str, Any]:
    """What a scheduled row keeps of its action, as the action was when the run started."""
    return {
        "target": action.target.value,
        "staff_user_id": action.staff_user_id,
        "template_key": action.template_key,
        "tag_id": action.tag_id,
        "task_title": action.task_title,
        "sign_template_id": action.sign_template_id,
        "delay": f"{action.delay_amount} {action.delay_unit.value}",
    }


def latest_runs(workflow_id: int, record_ids: Sequence[int]) -> dict[int, WorkflowRun]:
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


def evaluate(
    record_ids: Iterable[int],
    *,
    created: bool = False,
    tag_ids: Collection[int] | None = None,
    products: bool = False,
    product_states: Collection[tuple[ProductStatus, int | None]] | None = None,
    only: Collection[int] | None = None,
    now: datetime | None = None,
    journey_id: int | None = None,
) -> Evaluation:
    """Start and stop runs for these records after something about them changed: their tags
    (``tag_ids``), their products (``products``), or they were created or changed kind (no
    hint). Only the workflows the change concerns are looked at, so a record that matched a
    workflow before it was switched on does not start it because of an unrelated change.
    ``only``: these workflows, whatever changed ("start for the matching records").
    ``product_states``: what the changed products now are, (status, coverage type id); a
    product workflow then starts only if one of them meets its product conditions, so an old
    product that matched all along does not start it when another product is saved.
    ``journey_id``: the records completed this journey; a workflow triggered by a journey
    starts only then (each completion may start it again once its last run has ended),
    as one triggered by creation starts only with ``created``."""
    now = now or utcnow()
    ids = sorted(set(record_ids))
    result = Evaluation()
    if not ids:
        return result
    hints = {"tag_ids": tag_ids, "products": products, "only": only, "journey_id": journey_id}
    with notification_rules.cached_rules():  # stopped runs are logged one by one
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
        latest = latest_runs(workflow.id, ids)
        to_start = []
        for record_id in ids:
            run = latest.get(record_id)
            if record_id in matched:
                if workflow.on_record_created and not created:
                    continue
                completed = workflow.journey_id is not None and (
                    workflow.journey_id == hints["journey_id"]
                )
                if workflow.journey_id is not None and not completed:
                    continue
                if not may_start:
                    continue
                if completed and (run is None or run.status != RunStatus.RUNNING):
                    to_start.append(record_id)  # a completion is news each time
                elif run is None or (run.status != RunStatus.RUNNING and run.unmatched_at):
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
    params = [params_of(a) for a in actions]
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
        return postgresql_insert(model).on_conflict_do_nothing()
    return sqlite_insert(model).on_conflict_do_nothing()


def sentence(reason: str) -> str:
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
        .values(status=ActionStatus.CANCELLED, finished_at=now, outcome=sentence(reason))
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
        .values(status=ActionStatus.CANCELLED, finished_at=now, outcome=sentence(reason))
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
            outcome=sentence(reason),
        )
        .execution_options(synchronize_session="fetch")
    )
    if not result.rowcount:  # type: ignore[attr-defined]
        return False
    if actor is not None:
        due = action.due_at.astimezone(zone())
        _log_stop(action.run, actor, f"{action.kind.label} due {due:%Y-%m-%d %H:%M}")
    settle({action.run_id})
    return True


def settle(run_ids: Iterable[int]) -> None:
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


def log_fired(
    action: ScheduledAction,
    workflow: Workflow | None,
    record: Record | None,
    status: ActionStatus,
    outcome: str,
) -> None:
    """An action of a run fired (or gave up): the record's activity log says how it went."""
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
