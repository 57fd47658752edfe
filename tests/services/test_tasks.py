from datetime import UTC, datetime, timedelta

from app.services import tasks as task_service
from models import Task, db
from tests import factories


def test_open_tasks_for_lists_only_my_open_tasks_soonest_first(ctx):
    me, other = factories.staff(), factories.staff()
    now = datetime.now(UTC)
    later = factories.task("Later", me, due_at=now + timedelta(days=2))
    soon = factories.task("Soon", me, due_at=now + timedelta(hours=1))
    undated = factories.task("Whenever", me)
    factories.task("Done already", me, done=True)
    factories.task("Someone else's", other)
    titles = [t.title for t in db.session.scalars(task_service.open_tasks_for(me))]
    assert titles == [soon.title, later.title, undated.title]


def test_completing_and_reopening_keeps_done_at_honest(ctx):
    task = factories.task()
    task_service.complete(task)
    assert task.done and task.done_at is not None
    task_service.reopen(task)
    assert not task.done and task.done_at is None


def test_clean_task_requires_a_title_and_stamps_done_at():
    import pytest

    from app.services.errors import ValidationError

    with pytest.raises(ValidationError, match="title"):
        task_service.clean_task(Task(title="   "))
    task = task_service.clean_task(Task(title=" Call  Ada ", done=True))
    assert task.title == "Call Ada" and task.done_at is not None
