"""Tasks for staff: completing and reopening them, and each person's open list."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import ColumnElement, Select, and_, select, update
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import InstanceState, joinedload

from app.services import links, outbox, templates
from app.services.errors import ValidationError
from models import Task, TaskKind, User, db, utcnow


def clean_task(task: Task) -> Task:
    task.title = " ".join((task.title or "").split())
    if not task.title:
        raise ValidationError("Give the task a title.", field="title")
    if task.done and task.done_at is None:
        task.done_at = utcnow()
    if not task.done:
        task.done_at = None
    state: InstanceState[Task] = sa_inspect(task)
    if state.persistent and (
        state.attrs.due_at.history.has_changes() or state.attrs.assignee.history.has_changes()
    ):
        task.reminded_at = None  # moved to another time or person: remind again when due
    return task


def complete(task: Task) -> None:
    task.done = True
    task.done_at = utcnow()


def reopen(task: Task) -> None:
    task.done = False
    task.done_at = None


def mark_done(task_id: int, done: bool = True) -> Task | None:
    """Tick a task off (or open it again); None when there is no such task."""
    task = db.session.get(Task, task_id)
    if task is not None:
        (complete if done else reopen)(task)
    return task


def complete_all(task_ids: Iterable[int]) -> int:
    """Tick off every task among ``task_ids``; returns how many there were."""
    tasks = db.session.scalars(select(Task).where(Task.id.in_(sorted(set(task_ids))))).all()
    for task in tasks:
        complete(task)
    return len(tasks)


def is_open_for(user: User) -> ColumnElement[bool]:
    """The condition a task meets when it is on the user's open list ("My open tasks")."""
    return and_(Task.assignee_id == user.id, Task.done.is_(False))


def open_tasks_for(user: User) -> Select:
    """The user's open tasks, soonest due first, undated last."""
    return (
        select(Task).where(is_open_for(user)).order_by(Task.due_at.is_(None), Task.due_at, Task.id)
    )


def send_due_reminders(now: datetime, limit: int = 200) -> int:
    """Email each reminder task's assignee once, when it comes due."""

    due = list(
        db.session.scalars(
            select(Task)
            .where(
                Task.kind == TaskKind.REMINDER,
                Task.done.is_(False),
                Task.reminded_at.is_(None),
                Task.due_at <= now,
                Task.assignee_id.is_not(None),
            )
            .options(joinedload(Task.assignee), joinedload(Task.record))
            .limit(limit)
        )
    )
    sent = 0
    for task in due:
        claimed = db.session.execute(
            update(Task)
            .where(Task.id == task.id, Task.reminded_at.is_(None))
            .values(reminded_at=now)
            .execution_options(synchronize_session=False)
        )
        if claimed.rowcount != 1:  # type: ignore[attr-defined]
            continue
        staff = task.assignee
        if staff is None or not staff.active:
            continue
        context = templates.base_context(task.record)
        context.update(
            task={
                "title": task.title,
                "notes": task.notes or "",
                "record": task.record.display_name if task.record else "",
            },
            staff={"full_name": staff.full_name, "first_name": staff.first_name},
            tasks_url=links.my_tasks(),
        )
        outbox.send_template(
            "task.reminder",
            context,
            key=f"task-reminder:{task.id}:{task.due_at:%Y%m%dT%H%M%S}",  # once per due time
            to=str(staff.email),
            to_name=staff.full_name,
            record_id=task.record_id,
        )
        sent += 1
    return sent
