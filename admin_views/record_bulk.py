"""Tagging many records at once from the record list: the rows ticked, or the whole filtered
list, with a dry run of what workflows would do before anyone confirms."""

from __future__ import annotations

import re
import typing as t

from flask import flash, redirect, request, url_for
from flask_admin import expose
from flask_admin.actions import action
from flask_admin.helpers import get_redirect_target
from flask_security import current_user
from sqlalchemy import select

from admin_views.base import StaffModelView, int_ids, plural
from app.services import events, workflows
from app.services import tags as tag_service
from app.services.errors import ValidationError
from models import Record, Tag, db

LIST_ARGS = re.compile(r"^(flt\d+_\w+|search|sort|desc|page_size)$")


def list_args(args: t.Any) -> dict[str, t.Any]:
    """The record list's own arguments from an address (filters, search, sort), and nothing
    else: safe to hand to url_for."""
    return {key: value for key, value in args.items() if LIST_ARGS.match(key)}


class RecordBulkTags(StaffModelView):
    """The record view's "Add tag…" and "Remove tag…" actions and the page they lead to."""

    def render(self, template: str, **kwargs: t.Any) -> t.Any:
        if template == self.list_template:
            kwargs["list_args"] = list_args(request.args)
        return super().render(template, **kwargs)

    @action("add_tag", "Add tag…")
    def action_add_tag(self, ids: list[str]) -> t.Any:
        return self._render_bulk(int_ids(ids), "add", scope="selected")

    @action("remove_tag", "Remove tag…")
    def action_remove_tag(self, ids: list[str]) -> t.Any:
        return self._render_bulk(int_ids(ids), "remove", scope="selected")

    def _render_bulk(
        self,
        record_ids: list[int],
        operation: str,
        scope: str,
        tag: Tag | None = None,
        plans: t.Any = None,
        notice: str | None = None,
    ) -> t.Any:
        kept = list_args(request.args) if scope == "filter" else {}
        return self.render(
            "admin/record/bulk_tag.html",
            record_ids=record_ids if scope == "selected" else [],
            count=len(record_ids),
            scope=scope,
            operation=operation,
            tag=tag,
            plans=plans,
            notice=notice,
            tags=db.session.scalars(select(Tag).order_by(Tag.name)).all(),
            action_url=url_for(".bulk_tag", **kept),
            return_url=get_redirect_target() or url_for(".index_view", **kept),
        )

    def _bulk_ids(self, scope: str) -> list[int]:
        """The records a bulk change is for: the rows ticked, or every row of the filtered
        list (the list's own filters and search, from the address). A filter that is not
        valid is refused rather than dropped, which would widen the change."""
        if scope != "filter":
            return int_ids(request.form.getlist("record_id"))
        asked = [key for key in list_args(request.args) if key.startswith("flt")]
        args = self._get_list_extra_args()
        if len(args.filters or []) != len(asked):
            raise ValidationError(
                "A filter in the address is not valid. Go back to the list and filter it again."
            )
        _, query = self.get_list(
            0, None, False, args.search, args.filters, execute=False, page_size=False
        )
        return sorted(row[0] for row in query.with_entities(Record.id).order_by(None))

    @expose("/bulk-tag/", methods=("GET", "POST"))
    def bulk_tag(self) -> t.Any:
        """Choose a tag, see what workflows would do (a dry run), confirm, apply."""
        values = request.form if request.method == "POST" else request.args
        scope = "filter" if values.get("scope") == "filter" else "selected"
        operation = values.get("operation", "add")
        back = get_redirect_target() or url_for(".index_view", **list_args(request.args))
        try:
            record_ids = self._bulk_ids(scope)
        except ValidationError as exc:
            flash(exc.message, "error")
            return redirect(back)
        if request.method == "GET":
            return self._render_bulk(record_ids, operation, scope)
        tag = db.session.get(Tag, int((int_ids([request.form.get("tag_id")]) or [0])[0]))
        if tag is None or operation not in ("add", "remove") or not record_ids:
            flash("Choose records and a tag.", "error")
            return redirect(back)
        expected = request.form.get("expected", type=int)
        if expected is not None and expected != len(record_ids):
            notice = (
                f"The list changed since you looked: it now holds "
                f"{plural(len(record_ids), 'record')}, not {expected}. "
                "Check again before you go ahead."
            )
            plans = workflows.dry_run_tag_change(record_ids, tag, operation == "add")
            return self._render_bulk(record_ids, operation, scope, tag, plans, notice)
        if not request.form.get("confirm"):
            plans = workflows.dry_run_tag_change(record_ids, tag, operation == "add")
            if plans:
                return self._render_bulk(record_ids, operation, scope, tag, plans)
        actor = events.Actor.staff(current_user)
        if operation == "add":
            changed = tag_service.add_tag(record_ids, tag, actor=actor)
            message = f"Tagged {plural(len(changed), 'record')} with {tag.name}"
        else:
            changed = tag_service.remove_tag(record_ids, tag, actor=actor)
            message = f"Removed {tag.name} from {plural(len(changed), 'record')}"
        unchanged = len(record_ids) - len(changed)
        if unchanged:
            message += f"; {unchanged} did not change"
        flash(message + ".", "success")
        return redirect(back)
