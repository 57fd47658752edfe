"""One batch of claimed rows, loaded together: which rows are still this worker's, and each
workflow's match checked once for all of the batch's records."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select, update

from app.services.workflows.matching import matches, matching_ids
from models import ActionStatus, Record, ScheduledAction, Workflow, WorkflowRun, db


def confirm_claims(actions: Sequence[ScheduledAction]) -> set[int]:
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
        batch.ours = confirm_claims(actions)
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
