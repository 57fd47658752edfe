"""Tasks: to-dos, calls and reminders for staff, usually about a record."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import Boolean, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import LabelledEnum, TimestampMixin, UTCDateTime, db, str_enum

if TYPE_CHECKING:
    from models.record import Record
    from models.user import User


class TaskKind(LabelledEnum):
    TODO = "todo", "To-do"
    CALL = "call", "Call"
    REMINDER = "reminder", "Reminder"


class Task(TimestampMixin, db.Model):
    __tablename__ = "tasks"
    __table_args__ = (Index("ix_tasks_open_by_assignee", "assignee_id", "done", "due_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    kind: Mapped[TaskKind] = mapped_column(
        str_enum(TaskKind, 16), default=TaskKind.TODO, nullable=False
    )
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    assignee: Mapped[User | None] = relationship(foreign_keys=[assignee_id])
    record_id: Mapped[int | None] = mapped_column(
        ForeignKey("records.id", ondelete="CASCADE"), index=True
    )
    record: Mapped[Record | None] = relationship(back_populates="tasks")
    done: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: When the assignee was emailed that a reminder came due (once).
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    notes: Mapped[str | None] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])

    def __str__(self) -> str:
        return self.title
