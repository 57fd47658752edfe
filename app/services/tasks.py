"""Tasks for staff: completing and reopening them, and each person's open list."""

from __future__ import annotations

from sqlalchemy import Select, select

from app.services.errors import ValidationError
from models import Task, User, utcnow


def clean_task(task: Task) -> Task:
    task.title = " ".join((task.title or "").split())
    if not task.title:
        raise ValidationError("Give the task a title.", field="title")
    if task.done and task.done_at is None:
        task.done_at = utcnow()
    if not task.done:
        task.done_at = None
    return task


def complete(task: Task) -> None:
    task.done = True
    task.done_at = utcnow()


def reopen(task: Task) -> None:
    task.done = False
    task.done_at = None


def open_tasks_for(user: User) -> Select:
    """The user's open tasks, soonest due first, undated last."""
    return (
        select(Task)
        .where(Task.assignee_id == user.id, Task.done.is_(False))
        .order_by(Task.due_at.is_(None), Task.due_at, Task.id)
    )
