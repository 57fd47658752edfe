"""Workflows (admins) and the schedule of their actions (all staff)."""

from __future__ import annotations

import typing as t

from flask import abort, flash, redirect, url_for
from flask_admin import expose
from flask_admin.actions import action
from flask_admin.helpers import get_redirect_target
from flask_admin.model.form import InlineFormAdmin
from flask_security import current_user
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import joinedload
from wtforms import BooleanField, SelectField, SelectMultipleField

from admin_views.base import ADMIN_ONLY, StaffModelView, int_ids, local_datetime, plural
from admin_views.filters import EnumChoice, IntChoice, IntIs, OfficeTimeBetween
from admin_views.record_list import FastListView
from app.services import events, workflows
from app.services.errors import ValidationError
from models import (
    ActionKind,
    ActionStatus,
    Record,
    RunStatus,
    ScheduledAction,
    Workflow,
    WorkflowAction,
    WorkflowRun,
    db,
)

DAYS = [
    ("0", "Mon"),
    ("1", "Tue"),
    ("2", "Wed"),
    ("3", "Thu"),
    ("4", "Fri"),
    ("5", "Sat"),
    ("6", "Sun"),
]


class DayBoxes:
    """Weekday checkboxes in one row (Flask-Admin's form-control class would box a list)."""

    def __call__(self, field: t.Any, **kwargs: t.Any) -> Markup:
        boxes = []
        for value, label, checked, _ in field.iter_choices():
            box_id = f"{field.id}-{value}"
            boxes.append(
                Markup(
                    '<div class="custom-control custom-checkbox custom-control-inline">'
                    '<input type="checkbox" class="custom-control-input" name="{}" id="{}" '
                    'value="{}"{}><label class="custom-control-label" for="{}">{}</label></div>'
                ).format(
                    field.name, box_id, value, Markup(" checked") if checked else "", box_id, label
                )
            )
        return Markup('<div id="{}" class="pt-days">{}</div>').format(
            field.id, Markup("").join(boxes)
        )


class ActionInline(InlineFormAdmin):
    form_columns = (
        "id",
        "delay_amount",
        "delay_unit",
        "kind",
        "target",
        "staff_user",
        "template_key",
        "tag",
        "task_title",
        "sign_template",
    )
    form_label = "Action"
    column_labels = {
        "delay_amount": "After",
        "delay_unit": "Unit",
        "staff_user": "Staff member",
        "template_key": "Template",
        "task_title": "Task title",
        "sign_template": "Saved sign request",
    }
    form_overrides = {"template_key": SelectField}
    form_args = {
        # What each kind of action reads, from its class (app/services/workflows/actions.py).
        "template_key": {
            "choices": workflows.template_choices,
            "validate_choice": False,
            "description": workflows.setting_help("template_key"),
        },
        "delay_amount": {
            "description": "Counted from the start of the run; actions are kept in the "
            "order they fire."
        },
        "task_title": {"description": workflows.setting_help("task_title")},
        "staff_user": {
            "blank_text": "—",
            "description": "When the target is a chosen staff member.",
        },
        "tag": {"blank_text": "—", "description": workflows.setting_help("tag")},
        "sign_template": {
            "blank_text": "—",
            "description": workflows.setting_help("sign_template"),
        },
    }


def _conditions(view: t.Any, context: t.Any, model: Workflow, name: str) -> str:
    return workflows.describe_conditions(model)


def _in_it(view: t.Any, context: t.Any, model: Workflow, name: str) -> Markup:
    count = workflows.running_count(model)
    return Markup('<a href="{}">{}</a>').format(
        url_for("scheduled.index_view", flt0_workflow_is=model.id, flt1_status_is="pending"),
        f"{count} running",
    )


class WorkflowView(StaffModelView):
    required_roles = ADMIN_ONLY
    details_template = "admin/workflow/details.html"
    can_view_details = True
    column_list = ("name", "active", "for_clients", "stop_when_unmatched", "version")
    column_labels = {
        "for_clients": "Applies to",
        "stop_when_unmatched": "Stops when unmatched",
        "version": "In it",
    }
    column_formatters = {
        "for_clients": _conditions,
        "version": _in_it,
        "name": lambda v, c, m, n: Markup('<a href="{}">{}</a>').format(
            url_for(".details_view", id=m.id), m.name
        ),
    }
    column_default_sort = "name"
    form_columns = (
        "name",
        "active",
        "description",
        "for_leads",
        "for_clients",
        "product_status",
        "coverage_type",
        "tag",
        "on_record_created",
        "journey",
        "stop_when_unmatched",
        "window_days",
        "window_start",
        "window_end",
        "apply_to_running",
    )
    form_extra_fields = {
        "window_days": SelectMultipleField(
            "Sending window: days",
            choices=DAYS,
            validate_choice=True,
            widget=DayBoxes(),
            description="Leave empty to send at any time.",
        ),
        "apply_to_running": BooleanField(
            "Apply changed actions to runs already under way",
            description="Otherwise runs keep the actions they started with.",
        ),
    }
    form_args = {
        "active": {
            "description": "Inactive workflows start nothing. Switching one off stops its runs "
            "under way: their remaining actions are cancelled."
        },
        "product_status": {"label": "Trigger: a product whose status is"},
        "coverage_type": {"label": "…and whose coverage type is", "blank_text": "—"},
        "tag": {"label": "Trigger: tagged with", "blank_text": "—"},
        "on_record_created": {"label": "Trigger: when the record is created"},
        "journey": {"label": "Trigger: when the record completes the journey", "blank_text": "—"},
        "stop_when_unmatched": {
            "label": "Stop when no longer matching",
            "description": "Each action re-checks the triggers when it "
            "fires; the remaining ones are cancelled.",
        },
        "window_start": {
            "label": "Sending window: from (office time)",
            "formats": ["%H:%M", "%H:%M:%S"],
            "default_format": "%H:%M",
        },
        "window_end": {
            "label": "Sending window: until",
            "formats": ["%H:%M", "%H:%M:%S"],
            "default_format": "%H:%M",
        },
        "for_leads": {"label": "Leads"},
        "for_clients": {"label": "Clients"},
    }
    #: The picker writes what the field shows (its default adds seconds).
    form_widget_args = {
        "window_start": {"data-date-format": "HH:mm"},
        "window_end": {"data-date-format": "HH:mm"},
    }
    inline_models = (ActionInline(WorkflowAction),)

    def on_form_prefill(self, form: t.Any, id: t.Any) -> None:
        workflow = self.get_one(id)
        if workflow is not None:
            form.window_days.data = list(workflow.window_days or "")

    def on_model_change(self, form: t.Any, model: Workflow, is_created: bool) -> None:
        model.window_days = "".join(sorted(form.window_days.data or [])) or None
        saved = workflows.save(
            model,
            is_created=is_created,
            actor=events.Actor.staff(current_user),
            apply_changes=bool(form.apply_to_running.data),
        )
        if saved.stopped is not None:
            flash(f"Switched off: {plural(saved.stopped, 'run')} under way stopped.", "info")
        if saved.applied is not None:
            flash(
                f"The changed actions now apply to {plural(saved.applied, 'run')} under way.",
                "info",
            )

    @action("copy", "Copy")
    def action_copy(self, ids: list[str]):
        actor = events.Actor.staff(current_user)
        for workflow_id in int_ids(ids):
            workflow = db.session.get(Workflow, workflow_id)
            if workflow is not None:
                copy = workflows.copy_workflow(workflow, actor=actor)
                flash(f"Created “{copy.name}” (inactive): adapt it, then switch it on.", "success")

    @expose("/<int:workflow_id>/copy/", methods=("POST",))
    def copy(self, workflow_id: int):
        workflow = db.session.get(Workflow, workflow_id)
        if workflow is None:
            abort(404)
        copy = workflows.copy_workflow(workflow, actor=events.Actor.staff(current_user))
        flash(f"Created “{copy.name}” (inactive): adapt it, then switch it on.", "success")
        return redirect(url_for(".edit_view", id=copy.id))

    @expose("/<int:workflow_id>/start-matching/", methods=("POST",))
    def start_matching(self, workflow_id: int):
        workflow = db.session.get(Workflow, workflow_id)
        if workflow is None:
            abort(404)
        try:
            result = workflows.start_for_matching(workflow, actor=events.Actor.staff(current_user))
        except ValidationError as exc:
            flash(exc.message, "error")
            return redirect(url_for(".details_view", id=workflow_id))
        flash(
            f"Started {plural(result.started, 'run')}, "
            f"{plural(result.scheduled, 'action')} scheduled.",
            "success",
        )
        return redirect(url_for(".details_view", id=workflow_id))

    def render(self, template: str, **kwargs: t.Any) -> t.Any:
        if template == self.edit_template and kwargs.get("model") is not None:
            for warning in workflows.missing_template_warnings(kwargs["model"]):
                flash(warning, "warning")
        if template == self.details_template:
            workflow = kwargs["model"]
            found = workflows.overview(workflow)
            kwargs.update(
                workflow=workflow,
                describe=workflows.describe_conditions(workflow),
                counts=found.counts,
                matching=found.matching,
                upcoming=found.upcoming,
                next_due=found.next_due,
                missing_templates=found.missing_templates,
                RunStatus=RunStatus,
                window=workflows.window_text(workflow),
                local_datetime=local_datetime,
            )
        return super().render(template, **kwargs)


def _params(view: t.Any, context: t.Any, model: ScheduledAction, name: str) -> str:
    # One query per page, not per row: the list's render loads the names once.
    names = context.get("template_names") if context is not None else None
    return workflows.describe(model, model.run.record, names)


def _workflow_options() -> list[tuple[int, str]]:
    return [(w.id, w.name) for w in db.session.scalars(select(Workflow).order_by(Workflow.name))]


class ScheduledActionView(FastListView):
    """Every scheduled workflow action: what is due when, what happened, and cancel."""

    noun = "Scheduled action"

    can_create = False
    can_edit = False
    delete_roles = ()
    column_display_actions = False  # no row buttons: cancel works on the ticked rows
    column_list = (
        "due_at",
        "workflow_id",
        "record_id",
        "kind",
        "params",
        "status",
        "attempts",
        "outcome",
    )
    column_labels = {
        "due_at": "Due",
        "workflow_id": "Workflow",
        "record_id": "Record",
        "kind": "Action",
        "params": "Details",
    }
    column_default_sort = ("due_at", False)
    column_sortable_list = ("due_at", "status")
    column_formatters = {
        "due_at": lambda v, c, m, n: local_datetime(m.due_at),
        "workflow_id": lambda v, c, m, n: (
            Markup('<a href="{}">{}</a>').format(
                url_for("workflow.details_view", id=m.workflow_id), m.run.workflow.name
            )
            if current_user.has_role("admin")
            else m.run.workflow.name
        ),
        "record_id": lambda v, c, m, n: Markup('<a href="{}">{}</a>').format(
            url_for("record.details_view", id=m.record_id), m.run.record.display_name
        ),
        "params": _params,
    }
    column_filters = (
        EnumChoice(ScheduledAction.status, "Status", ActionStatus),
        EnumChoice(ScheduledAction.kind, "Action", ActionKind),
        IntChoice(ScheduledAction.workflow_id, "Workflow", _workflow_options),
        IntIs(ScheduledAction.record_id, "Record"),
        OfficeTimeBetween(ScheduledAction.due_at, "Due"),
    )

    def get_query(self):
        return (
            super()
            .get_query()
            .options(
                joinedload(ScheduledAction.run).joinedload(WorkflowRun.workflow),
                # The agent fills in task titles ("Call … for {{ agent.first_name }}").
                joinedload(ScheduledAction.run)
                .joinedload(WorkflowRun.record)
                .joinedload(Record.assigned_agent),
            )
        )

    def render(self, template: str, **kwargs: t.Any) -> t.Any:
        if template == self.list_template and kwargs.get("data"):
            kwargs["template_names"] = workflows.template_names_by_key()
        return super().render(template, **kwargs)

    @action("cancel", "Cancel", "Cancel the selected pending actions?")
    def action_cancel(self, ids: list[str]):
        cancelled = 0
        actor = events.Actor.staff(current_user)
        for action_id in int_ids(ids):
            item = db.session.get(ScheduledAction, action_id)
            if item is not None and workflows.cancel_action(item, actor=actor):
                cancelled += 1
        flash(
            f"Cancelled {plural(cancelled, 'action')}; only pending ones can be cancelled.",
            "success",
        )

    @expose("/<int:action_id>/cancel/", methods=("POST",))
    def cancel_one(self, action_id: int):
        item = db.session.get(ScheduledAction, action_id)
        if item is not None and workflows.cancel_action(
            item, actor=events.Actor.staff(current_user)
        ):
            flash("Action cancelled.", "success")
        else:
            flash("Only a pending action can be cancelled; this one is not (any more).", "error")
        return redirect(get_redirect_target() or url_for(".index_view"))

    @expose("/runs/<int:run_id>/cancel/", methods=("POST",))
    def cancel_run(self, run_id: int):
        run = db.session.get(WorkflowRun, run_id)
        if run is not None and run.status == RunStatus.RUNNING:
            count = workflows.cancel_run(
                run, "stopped by staff", actor=events.Actor.staff(current_user)
            )
            flash(f"Run stopped: {plural(count, 'action')} cancelled.", "success")
        else:
            flash("This run has already ended.", "info")
        return redirect(get_redirect_target() or url_for(".index_view"))
