"""What a bulk tag change would do to workflows, worked out without writing anything: the
runs it would start and stop, and what would go out on which day."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select

from app.services import tagging
from app.services.workflows.actions import reachable_kinds
from app.services.workflows.matching import CHUNK, active_workflows, concerned, matching_ids
from app.services.workflows.runs import latest_runs
from app.services.workflows.timing import add_delay, in_window, zone
from models import ActionKind, ActionTarget, Record, RunStatus, Tag, Workflow, db, utcnow


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
        latest_before = {wf.id: latest_runs(wf.id, ids) for wf in relevant}
        (tagging.put if add else tagging.take_off)(ids, tag)
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
                    and workflow.journey_id is None
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
            plan.schedule = _schedule(workflow, plan.starts, starting, now)
            if plan.starts or plan.stops:
                plans.append(plan)
        savepoint.rollback()
    return plans


def _schedule(
    workflow: Workflow, starts: int, starting: list[int], now: datetime
) -> dict[tuple[str, str], int]:
    counts: dict[tuple[str, str], int] = defaultdict(int)
    office = zone()
    reachable = _reachable(starting, workflow)
    kinds = reachable_kinds()
    for action in workflow.actions:
        due = in_window(workflow, add_delay(now, action.delay_amount, action.delay_unit))
        day = due.astimezone(office).strftime("%Y-%m-%d")
        sent = starts
        if action.target == ActionTarget.RECORD and action.kind in reachable:
            sent = reachable[action.kind]
            skipped = starts - sent
            if skipped:
                why = kinds[action.kind].skip_reason
                counts[(day, f"{action.kind.label}: not sent ({why})")] += skipped
        counts[(day, action.kind.label)] += sent
    return {k: v for k, v in sorted(counts.items()) if v}


def _reachable(record_ids: Sequence[int], workflow: Workflow) -> dict[ActionKind, int]:
    """How many of these records each kind of campaign message (email, text) would reach."""
    kinds = reachable_kinds()
    wanted = {a.kind for a in workflow.actions if a.target == ActionTarget.RECORD}
    if not record_ids or not wanted & set(kinds):
        return {}
    order = list(kinds)
    counts = dict.fromkeys(order, 0)
    for start in range(0, len(record_ids), CHUNK):
        chunk = record_ids[start : start + CHUNK]
        row = db.session.execute(
            select(
                *(
                    func.count().filter(
                        getattr(Record, kinds[k].consent).is_(True),
                        getattr(Record, kinds[k].address).is_not(None),
                    )
                    for k in order
                )
            ).where(Record.id.in_(chunk))
        ).one()
        for k, reached in zip(order, row, strict=True):
            counts[k] += reached
    return counts
