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


def test_my_open_tasks_condition_is_the_one_the_list_and_dashboard_share(ctx):
    from sqlalchemy import select

    me, other = factories.staff(), factories.staff()
    mine = factories.task("Mine", me)
    factories.task("Done", me, done=True)
    factories.task("Theirs", other)
    found = db.session.scalars(select(Task).where(task_service.is_open_for(me))).all()
    assert [t.id for t in found] == [mine.id]


def test_marking_tasks_done_one_or_many(ctx):
    first, second = factories.task("One"), factories.task("Two")
    assert task_service.complete_all([first.id, second.id, first.id, 0]) == 2
    assert db.session.get(Task, first.id).done and db.session.get(Task, second.id).done
    assert task_service.mark_done(first.id, done=False).done is False
    assert task_service.mark_done(0) is None
