"""Staff changing workflows: the checks before a save, what a save sets off (switching a
workflow off stops its runs; changed actions may apply to runs under way), copies, and
starting a workflow for the records that already match. Each staff change is logged."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select

from app.services import events
from app.services.errors import ValidationError
from app.services.events import Actor
from app.services.workflows.actions import action_type
from app.services.workflows.matching import matching_query
from app.services.workflows.runs import (
    Evaluation,
    evaluate,
    params_of,
    settle,
    stop_runs,
)
from app.services.workflows.timing import MAX_DELAY, add_delay, in_window
from models import (
    ActionStatus,
    ActionTarget,
    RunStatus,
    ScheduledAction,
    Workflow,
    WorkflowAction,
    WorkflowRun,
    db,
    utcnow,
)


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
        or workflow.journey_id
        or workflow.journey
    ):
        raise ValidationError(
            "Choose at least one trigger: a product status, a coverage type, "
            "a tag, record created or a completed journey.",
            field="product_status",
        )
    if workflow.on_record_created and (workflow.journey_id or workflow.journey):
        # A record is created when its visitor's PIN is in, long before the journey ends.
        raise ValidationError(
            "Start either when the record is created or when it completes a journey, not both.",
            field="journey",
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


def check_action(action: WorkflowAction) -> None:
    """The delay and target every action has, then what its kind needs (its settings)."""
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
    action_type(action.kind).check(action)
    if action.target == ActionTarget.STAFF and not (action.staff_user_id or action.staff_user):
        raise ValidationError("Choose the staff member the action is for.", field="actions")


def prepare_save(workflow: Workflow, *, is_created: bool) -> bool:
    """Check a workflow and its actions before they are saved (or raise ValidationError
    naming the action), put the actions in the order they fire and count the version.
    Returns whether this save switches the workflow off (:func:`save` then stops its runs)."""
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


@dataclass
class Saved:
    """What a save set off: runs stopped by switching off, runs given the changed actions
    (None: not asked, or nothing of the kind)."""

    stopped: int | None = None
    applied: int | None = None


def save(
    workflow: Workflow, *, is_created: bool, actor: Actor, apply_changes: bool = False
) -> Saved:
    """A staff member saves a workflow as the form left it: check it (or raise
    ValidationError), and carry out what follows. Switching it off stops its runs under way;
    with ``apply_changes``, runs under way take the changed actions. The change is logged."""
    switched_off = prepare_save(workflow, is_created=is_created)
    db.session.add(workflow)
    db.session.flush()
    saved = Saved()
    change = "created" if is_created else "changed"
    if switched_off:
        saved.stopped = stop_runs(workflow)
        change = f"switched off, {_runs(saved.stopped)} under way stopped"
    log_change(workflow, change, actor)
    if apply_changes and not is_created:
        saved.applied = apply_to_running(workflow)
    return saved


def _runs(count: int) -> str:
    return f"{count} run{'' if count == 1 else 's'}"


def log_change(workflow: Workflow, change: str, actor: Actor) -> None:
    """A staff member's change to a workflow, in the activity log."""
    db.session.flush()
    events.emit(
        "staff.workflow.changed",
        actor=actor,
        details={
            "workflow": workflow.name,
            "change": change,
            "subject": f"{workflow.name}: {change}",
        },
    )


def start_for_matching(workflow: Workflow, actor: Actor | None = None) -> Evaluation:
    """Start the workflow for the records that matched before it was switched on (logged as
    the ``actor``'s change)."""
    if not workflow.active:
        raise ValidationError("Switch the workflow on first.")
    ids = list(db.session.scalars(matching_query(workflow)))
    result = evaluate(ids, only={workflow.id})
    if actor is not None:
        started = f"{result.started} record{'' if result.started == 1 else 's'}"
        log_change(workflow, f"started for {started} that already matched", actor)
    return result


def copy_workflow(workflow: Workflow, actor: Actor | None = None) -> Workflow:
    """An inactive duplicate with every action, to adapt (another coverage type, say);
    logged as the ``actor``'s change."""
    duplicate = Workflow(
        name=f"Copy of {workflow.name}"[:120],
        active=False,
        for_leads=workflow.for_leads,
        for_clients=workflow.for_clients,
        product_status=workflow.product_status,
        coverage_type_id=workflow.coverage_type_id,
        tag_id=workflow.tag_id,
        on_record_created=workflow.on_record_created,
        journey_id=workflow.journey_id,
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
            sign_template_id=a.sign_template_id,
        )
        for a in workflow.actions
    ]
    db.session.add(duplicate)
    db.session.flush()
    if actor is not None:
        log_change(duplicate, f"copied from {workflow.name}", actor)
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
                    params=params_of(action),
                    due_at=in_window(workflow, max(due, now)),
                    status=ActionStatus.PENDING,
                    attempts=0,
                )
            )
        run.workflow_version = workflow.version
    db.session.flush()
    settle(run.id for run in runs)
    return len(runs)
