"""Workflow runs (one per record and start) and their scheduled actions: SQL rows are the
truth about what is due; Redis only carries the work."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import LabelledEnum, UTCDateTime, db, str_enum
from models.workflow import ActionKind

if TYPE_CHECKING:
    from models.record import Record
    from models.workflow import Workflow


class RunStatus(LabelledEnum):
    RUNNING = "running", "Running"
    COMPLETED = "completed", "Completed"
    CANCELLED = "cancelled", "Stopped"


class ActionStatus(LabelledEnum):
    PENDING = "pending", "Pending"
    CLAIMED = "claimed", "Running now"
    DONE = "done", "Done"
    SKIPPED = "skipped", "Skipped"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


class WorkflowRun(db.Model):
    __tablename__ = "workflow_runs"
    __table_args__ = (
        # One running run per workflow and record.
        Index(
            "uq_workflow_runs_running",
            "workflow_id",
            "record_id",
            unique=True,
            sqlite_where=text("status = 'running'"),
            postgresql_where=text("status = 'running'"),
        ),
        Index("ix_workflow_runs_record", "record_id", "workflow_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    workflow_id: Mapped[int] = mapped_column(
        ForeignKey("workflows.id", ondelete="CASCADE"), nullable=False
    )
    workflow: Mapped[Workflow] = relationship()
    record_id: Mapped[int] = mapped_column(
        ForeignKey("records.id", ondelete="CASCADE"), nullable=False
    )
    record: Mapped[Record] = relationship()
    status: Mapped[RunStatus] = mapped_column(str_enum(RunStatus, 16), nullable=False)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: When the record stopped matching after this run started (a later match starts anew).
    unmatched_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    end_reason: Mapped[str | None] = mapped_column(String(200))
    workflow_version: Mapped[int] = mapped_column(Integer, nullable=False)

    actions: Mapped[list[ScheduledAction]] = relationship(
        back_populates="run", order_by="ScheduledAction.due_at"
    )


class ScheduledAction(db.Model):
    """One action of one run. It carries a copy of what to do, so editing the workflow does
    not change runs already under way (unless an admin applies the edit to them)."""

    __tablename__ = "scheduled_actions"
    __table_args__ = (
        Index("ix_scheduled_actions_due", "status", "due_at"),
        Index("ix_scheduled_actions_run", "run_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(
        ForeignKey("workflow_runs.id", ondelete="CASCADE"), nullable=False
    )
    run: Mapped[WorkflowRun] = relationship(back_populates="actions")
    #: Denormalised for the global view's filters.
    workflow_id: Mapped[int] = mapped_column(Integer, index=True, nullable=False)
    record_id: Mapped[int] = mapped_column(Integer, index=True, nullable=False)
    workflow_action_id: Mapped[int | None] = mapped_column(
        ForeignKey("workflow_actions.id", ondelete="SET NULL")
    )
    position: Mapped[int] = mapped_column(Integer, nullable=False)
    kind: Mapped[ActionKind] = mapped_column(str_enum(ActionKind, 24), nullable=False)
    #: What to do: target, staff_user_id, template_key, tag_id, task_title.
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, nullable=False)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    status: Mapped[ActionStatus] = mapped_column(str_enum(ActionStatus, 16), nullable=False)
    attempts: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: The worker that claimed it: a dead claimer's rows are handed back at once.
    claimed_by: Mapped[str | None] = mapped_column(String(120))
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: What happened (or why not), in words.
    outcome: Mapped[str | None] = mapped_column(Text)
