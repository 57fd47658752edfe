"""Approval queue (staff): client changes to fields that need approval."""

from __future__ import annotations

import typing as t

from flask import flash, redirect, render_template, request, url_for
from flask_admin import expose
from flask_admin.actions import action
from flask_admin.helpers import get_redirect_target
from flask_security import current_user
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from admin_views.base import StaffModelView, int_ids, plural, record_link
from admin_views.filters import EnumChoice, IntIs
from app.services import pending_changes
from app.services.errors import ValidationError
from app.transactions import attempt
from models import ChangeStatus, PendingChange, db


def _new(view: t.Any, context: t.Any, model: PendingChange, name: str) -> Markup:
    return Markup("<strong>{}</strong>").format(model.new_display or "(empty)")


def _decide(view: t.Any, context: t.Any, model: PendingChange, name: str) -> Markup | str:
    if model.status != ChangeStatus.PENDING:
        text = model.status.label + (f": {model.reason}" if model.reason else "")
        return Markup('<span class="text-muted small">{}</span>').format(text)
    # Rendered by Jinja with autoescape: every value in it is escaped already.
    return Markup(render_template("admin/approvals/_decide.html", change=model))  # noqa: S704


class PendingChangeView(StaffModelView):
    """Every decision is logged (staff.change.approved / staff.change.rejected) and the
    client is told, as the notification rules say."""

    noun = "Change"

    can_create = False
    can_edit = False
    delete_roles = ()
    column_list = (
        "record",
        "field_label",
        "old_display",
        "new_value",
        "proposed_by_label",
        "proposed_at",
        "status",
    )
    column_labels = {
        "field_label": "Field",
        "old_display": "Was",
        "new_value": "Proposed",
        "proposed_by_label": "By",
        "proposed_at": "When",
        "status": "Decision",
    }
    column_default_sort = ("proposed_at", False)
    column_sortable_list = ("proposed_at", "field_label")
    column_filters = (
        EnumChoice(PendingChange.status, "Status", ChangeStatus),
        IntIs(PendingChange.record_id, "Record"),
    )
    column_formatters = {"record": record_link, "new_value": _new, "status": _decide}

    def get_query(self):
        return super().get_query().options(joinedload(PendingChange.record))

    @expose("/")
    def index_view(self):
        if not any(key.startswith("flt") for key in request.args):
            kept: dict[str, t.Any] = dict(request.args)
            return redirect(url_for(".index_view", flt0_status_is="pending", **kept))
        return super().index_view()

    @expose("/decide/", methods=("POST",))
    def decide(self):
        change = db.session.get(PendingChange, request.form.get("change_id", type=int) or 0)
        back = get_redirect_target() or url_for(".index_view")
        if change is None:
            flash("That change no longer exists.", "error")
            return redirect(back)
        approved = request.form.get("decision") == "approve"
        try:
            with attempt():
                pending_changes.decide(
                    change, current_user, approved=approved, reason=request.form.get("reason")
                )
        except ValidationError as exc:
            flash(exc.message, "error")
        else:
            if approved:
                flash(
                    f"Approved: {change.field_label} is now {change.new_display or 'empty'}.",
                    "success",
                )
            else:
                flash(f"Not approved: {change.field_label}. The client will be told.", "success")
        return redirect(back)

    def _bulk(self, ids: list[str], approve: bool) -> None:
        changes = db.session.scalars(
            select(PendingChange).where(
                PendingChange.id.in_(int_ids(ids)),
                PendingChange.status == ChangeStatus.PENDING,
            )
        ).all()
        done = 0
        for change in changes:
            try:
                with attempt():
                    pending_changes.decide(change, current_user, approved=approve)
                done += 1
            except ValidationError as exc:
                flash(f"{change.field_label}: {exc.message}", "error")
        flash(f"{'Approved' if approve else 'Rejected'} {plural(done, 'change')}.", "success")

    @action("approve", "Approve", "Approve the selected changes?")
    def action_approve(self, ids: list[str]):
        self._bulk(ids, approve=True)

    @action("reject", "Reject", "Reject the selected changes (no reason is given)?")
    def action_reject(self, ids: list[str]):
        self._bulk(ids, approve=False)
