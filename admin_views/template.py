"""Email and SMS templates (admins): edit, preview against a record, restore defaults, add
back the sample campaigns' templates."""

from __future__ import annotations

import typing as t

from flask import flash, redirect, request, url_for
from flask_admin import expose
from flask_admin.actions import action
from flask_security import current_user
from markupsafe import Markup
from sqlalchemy import select

from admin_views.base import ADMIN_ONLY, StaffModelView, int_ids, plural
from admin_views.filters import EnumChoice
from app.services import campaign_templates, system_templates
from app.services import templates as template_service
from app.services.errors import ValidationError
from models import Channel, MessageTemplate, Record, db


def _key(view: t.Any, context: t.Any, model: MessageTemplate, name: str) -> Markup:
    label = Markup("<code>{}</code>").format(model.key)
    if system_templates.is_system(model.key):
        label += Markup(' <span class="badge badge-light">system</span>')
    return label


class TemplateView(StaffModelView):
    required_roles = ADMIN_ONLY
    list_template = "admin/template/list.html"
    column_list = ("name", "key", "channel", "subject", "updated_at")
    column_default_sort = "key"
    column_searchable_list = ("name", "key", "subject", "body")
    column_filters = (EnumChoice(MessageTemplate.channel, "Channel", Channel),)
    column_formatters = {"key": _key}
    form_columns = ("key", "channel", "name", "subject", "body")
    form_args = {
        "key": {
            "description": "Stable address used by rules and workflows; it cannot change "
            "once saved. Lower-case letters, digits, dots and dashes."
        },
        "subject": {
            "description": "Email only. Placeholders like {{ record.first_name }} work here too."
        },
    }
    form_widget_args = {"body": {"rows": 14, "class": "form-control text-monospace"}}
    column_descriptions = {"key": "The stable address of the template."}

    #: Rules and workflows address a template by its key; its channel decides how it is sent.
    fixed_after_create = ("key", "channel")

    def on_model_change(self, form: t.Any, model: MessageTemplate, is_created: bool) -> None:
        if is_created:
            model.key = template_service.check_new_key(model.key)
        template_service.check_template(
            model.key, model.channel, model.subject or "", model.body or ""
        )
        model.subject = model.subject or ""
        if is_created or db.session.is_modified(model):
            model.updated_by_id = current_user.id  # an untouched save is no edit

    def on_model_delete(self, model: MessageTemplate) -> None:
        template_service.check_delete(model)

    @action(
        "restore",
        "Restore default text",
        "Replace the text of the selected system templates with the default?",
    )
    def action_restore(self, ids: list[str]):
        keys = list(
            db.session.scalars(
                select(MessageTemplate.key).where(MessageTemplate.id.in_(int_ids(ids)))
            )
        )
        restored = template_service.restore_defaults(keys)
        skipped = len(keys) - len(restored)
        flash(
            f"Restored {plural(len(restored), 'template')}"
            + (
                f"; {plural(skipped, 'custom template')} without a default left as they are."
                if skipped
                else "."
            ),
            "success",
        )

    @expose("/restore-missing/", methods=("POST",))
    def restore_missing(self):
        restored = template_service.ensure_defaults()
        names = [template_service.default_of(key).name for key in restored]  # type: ignore[union-attr]
        message = (
            f"Added {plural(len(restored), 'missing system template')}: {', '.join(names)}."
            if restored
            else "Every system template is there."
        )
        absent = len(campaign_templates.missing_samples())
        if absent:
            message += (
                f" {plural(absent, 'sample campaign template')} "
                f"{'is' if absent == 1 else 'are'} not in your list: you can add "
                f"{'it' if absent == 1 else 'them'} under Sample campaign templates."
            )
        flash(message, "success")
        return redirect(url_for(".index_view"))

    @expose("/samples/")
    def samples(self):
        return self.render("admin/template/samples.html", samples=campaign_templates.samples())

    @expose("/samples/add/", methods=("POST",))
    def add_samples(self):
        keys = None if request.form.get("all") else request.form.getlist("key")
        try:
            added = campaign_templates.add_samples(keys)
        except ValidationError as exc:
            flash(exc.message, "error")
            return redirect(url_for(".samples"))
        names = [template_service.default_of(key).name for key in added]  # type: ignore[union-attr]
        flash(
            f"Added {plural(len(added), 'sample campaign template')}: {', '.join(names)}."
            if added
            else "Those sample campaign templates are already in your list.",
            "success",
        )
        return redirect(url_for(".samples"))

    @expose("/<int:template_id>/preview/")
    def preview(self, template_id: int):
        template = db.session.get(MessageTemplate, template_id)
        if template is None:
            return redirect(url_for(".index_view"))
        record = None
        record_id = request.args.get("record_id", type=int)
        if record_id:
            record = db.session.get(Record, record_id)
        if record is None:
            record = db.session.scalar(select(Record).order_by(Record.id).limit(1))
        rendered = None
        error = None
        try:
            rendered = template_service.preview(template.key, record)
        except ValidationError as exc:
            error = exc.message
        return self.render(
            "admin/template/preview.html",
            message_template=template,
            record=record,
            rendered=rendered,
            error=error,
            variables=system_templates.allowed_variables(template.key),
        )
