"""Tasks: everyone's list, and "My open tasks" for the signed-in staff member."""

from __future__ import annotations

import typing as t

from flask import flash, redirect, request, url_for
from flask_admin import expose
from flask_admin.actions import action
from flask_admin.contrib.sqla.filters import BooleanEqualFilter
from flask_admin.helpers import get_redirect_target
from flask_security import current_user
from markupsafe import Markup
from sqlalchemy.orm import joinedload
from werkzeug.wrappers import Response

from admin_views.base import (
    RECORD_LOOKUP,
    StaffModelView,
    int_ids,
    local_datetime,
    plural,
    record_link,
)
from admin_views.filters import EnumChoice, IntChoice, OfficeTimeBetween, agent_options
from app.services import tasks as task_service
from app.services.users import agents_query
from models import Record, Task, TaskKind, db, utcnow


def _due(view: t.Any, context: t.Any, model: Task, name: str) -> Markup | str:
    if model.due_at is None:
        return ""
    text = local_datetime(model.due_at)
    if not model.done and model.due_at < utcnow():
        return Markup('<span class="text-danger font-weight-bold">{} (overdue)</span>').format(text)
    return text


class TaskView(StaffModelView):
    """Every task in the office."""

    noun = "Task"

    delete_roles = ("admin", "agent")
    can_export = True
    export_types = ["csv"]
    column_list: tuple[str, ...] = ("title", "kind", "due_at", "assignee", "record", "done")
    column_labels = {"due_at": "Due", "assignee": "Assigned to"}
    column_sortable_list = ("title", "kind", "due_at", ("assignee", "assignee.first_name"), "done")
    column_default_sort = [("done", False), ("due_at", False)]
    column_searchable_list = ("title",)
    column_formatters = {"record": record_link, "due_at": _due}
    column_formatters_export = {
        "record": lambda v, c, m, n: m.record.display_name if m.record else "",
        "assignee": lambda v, c, m, n: m.assignee.full_name if m.assignee else "",
    }
    column_filters: tuple[t.Any, ...] = (
        EnumChoice(Task.kind, "Kind", TaskKind),
        IntChoice(Task.assignee_id, "Assigned to", agent_options),
        BooleanEqualFilter(Task.done, "Done"),
        OfficeTimeBetween(Task.due_at, "Due"),
    )
    column_editable_list = ()
    form_columns = ("title", "kind", "due_at", "assignee", "record", "done", "notes")
    form_args = {
        "due_at": {"label": "Due", "description": "In the office's time zone."},
        "assignee": {
            "label": "Assigned to",
            "query_factory": lambda: db.session.scalars(agents_query()).all(),
        },
    }
    form_ajax_refs = {"record": RECORD_LOOKUP}
    form_widget_args = {"notes": {"rows": 3}}

    def get_query(self) -> t.Any:
        return super().get_query().options(joinedload(Task.assignee), joinedload(Task.record))

    def create_form(self, obj: t.Any = None) -> t.Any:
        form = super().create_form(obj)
        if request.method == "GET":
            if form.assignee.data is None:
                form.assignee.data = current_user._get_current_object()
            record_id = request.args.get("record_id", type=int)
            if record_id:
                form.record.data = db.session.get(Record, record_id)
            kind = request.args.get("kind")
            if kind in {member.value for member in TaskKind}:
                form.kind.data = TaskKind(kind)
        return form

    def on_model_change(self, form: t.Any, model: Task, is_created: bool) -> None:
        if is_created and model.created_by_id is None:
            model.created_by_id = current_user.id
        task_service.clean_task(model)

    @action("complete", "Mark done")
    def action_complete(self, ids: list[str]) -> None:
        done = task_service.complete_all(int_ids(ids))
        flash(f"{plural(done, 'task')} marked done.", "success")

    @expose("/<int:task_id>/done/", methods=("POST",))
    def mark_done(self, task_id: int) -> Response:
        task_service.mark_done(task_id, done=request.form.get("done") != "0")
        return redirect(get_redirect_target() or url_for(".index_view"))


class MyTaskView(TaskView):
    """The signed-in staff member's open tasks, soonest first."""

    column_list: tuple[str, ...] = ("title", "kind", "due_at", "record")
    column_default_sort = [("due_at", False)]
    column_filters: tuple[t.Any, ...] = (
        EnumChoice(Task.kind, "Kind", TaskKind),
        OfficeTimeBetween(Task.due_at, "Due"),
    )

    def get_query(self) -> t.Any:
        return super().get_query().filter(task_service.is_open_for(current_user))

    def get_count_query(self) -> t.Any:
        return super().get_count_query().filter(task_service.is_open_for(current_user))
