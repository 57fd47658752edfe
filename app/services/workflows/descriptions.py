"""Workflows and their schedule in words and numbers for staff: the triggers, the sending
window, what a scheduled action will do, what is due next and who is in it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from app.services import campaign_templates, system_templates, templates
from app.services.workflows.matching import matching_query
from models import (
    ActionKind,
    ActionStatus,
    Channel,
    MessageTemplate,
    Record,
    RunStatus,
    ScheduledAction,
    Workflow,
    WorkflowRun,
    db,
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
    if workflow.journey is not None:
        parts.append(f"when they complete the journey {workflow.journey.name}")
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


def template_choices() -> list[tuple[str, str]]:
    """Email and SMS templates a workflow may send (not the ones carrying credentials)."""
    rows = db.session.scalars(select(MessageTemplate).order_by(MessageTemplate.name))
    choices = [("", "\N{EM DASH}")]
    for row in rows:
        spec = system_templates.spec_for(row.key)
        if spec is not None and spec.required:
            continue
        kind = "Email" if row.channel == Channel.EMAIL else "Text"
        choices.append((row.key, f"{kind}: {row.name} ({row.key})"))
    return choices


def missing_template_warnings(workflow: Workflow) -> list[str]:
    """One sentence per action that sends a template which no longer exists."""
    gone = templates.missing(step.template_key for step in workflow.actions)
    return [
        f"Action {n} ({step.kind.label}) sends the template {step.template_key}, which no "
        "longer exists: it will fail when it fires. Choose another template for it"
        + (
            ", or add it back under Settings, Templates, Sample campaign templates."
            if campaign_templates.is_sample(step.template_key or "")
            else "."
        )
        for n, step in enumerate(workflow.actions, start=1)
        if step.template_key in gone
    ]


@dataclass
class Overview:
    """A workflow's page: its runs by status, the records matching now, what is scheduled
    (per kind: first due, how many), what fires next, and what needs fixing."""

    counts: dict[RunStatus, int] = field(default_factory=dict)
    matching: int = 0
    upcoming: list[tuple[ActionKind, datetime, int]] = field(default_factory=list)
    next_due: ScheduledAction | None = None
    missing_templates: list[str] = field(default_factory=list)


def overview(workflow: Workflow) -> Overview:
    counts: dict[Any, Any] = dict(
        db.session.execute(
            select(WorkflowRun.status, func.count())
            .where(WorkflowRun.workflow_id == workflow.id)
            .group_by(WorkflowRun.status)
        ).all()
    )
    matching = db.session.scalar(
        select(func.count()).select_from(matching_query(workflow).subquery())
    )
    upcoming: list[Any] = list(
        db.session.execute(
            select(ScheduledAction.kind, func.min(ScheduledAction.due_at), func.count())
            .where(
                ScheduledAction.workflow_id == workflow.id,
                ScheduledAction.status == ActionStatus.PENDING,
            )
            .group_by(ScheduledAction.kind)
            .order_by(func.min(ScheduledAction.due_at))
        ).all()
    )
    return Overview(
        counts=counts,
        matching=matching or 0,
        upcoming=upcoming,
        next_due=next_due(workflow),
        missing_templates=missing_template_warnings(workflow),
    )
