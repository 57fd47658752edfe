"""The notification matrix (admins): per event, who is emailed, whether a task is created and
whether it is logged; templates per rule; restore defaults; preview for a record. Only events
something emits are shown, and security events keep their log switch on."""

from __future__ import annotations

from flask import abort, flash, redirect, request, url_for
from flask_admin import expose
from flask_security import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import IntegerField, SelectField
from wtforms.validators import InputRequired, NumberRange

from admin_views.base import ADMIN_ONLY, StaffView
from app import transactions
from app.services import events, notification_rules
from app.services.errors import ValidationError
from app.services.event_catalogue import CATALOGUE, EMITTED
from app.services.events import CLIENT, Actor
from app.services.system_templates import SYSTEM_TEMPLATES
from models import Channel, Contact, MessageTemplate, Record, db

LABELS = {
    "agent_email": "Agent email",
    "customer_email": "Client email",
    "primary_applicant_email": "Primary applicant email",
    "create_task": "Task",
    "log_activity": "Activity log",
}
SWITCHES = tuple((name, LABELS[name]) for name in notification_rules.SWITCHES)
GROUPS = (("client", "Client actions"), ("staff", "Staff actions"), ("system", "System"))


def _template_choices(channel: Channel) -> list[tuple[str, str]]:
    stored = {
        row.key: row.name
        for row in db.session.scalars(
            select(MessageTemplate).where(MessageTemplate.channel == channel)
        )
    }
    for key, spec in SYSTEM_TEMPLATES.items():
        if spec.channel == channel:
            stored.setdefault(key, spec.name)
    return sorted(((key, f"{name} ({key})") for key, name in stored.items()), key=lambda c: c[1])


class RuleTemplatesForm(FlaskForm):
    agent_template_key = SelectField("Agent email template")
    customer_template_key = SelectField("Client email template")
    customer_sms_template_key = SelectField("Client text template (when they prefer texts)")
    primary_template_key = SelectField("Primary applicant email template")
    task_due_hours = IntegerField(
        "Task due after (hours)", validators=[InputRequired(), NumberRange(0, 24 * 90)]
    )


class NotificationRuleView(StaffView):
    required_roles = ADMIN_ONLY

    @expose("/", methods=("GET", "POST"))
    def index(self):
        if request.method == "POST":
            switches = {
                key: {
                    name: request.form.get(f"{key}:{name}") == "on"
                    for name in notification_rules.SWITCHES
                }
                for key in EMITTED
            }
            try:
                with transactions.attempt():
                    notification_rules.save_switches(switches)
            except ValidationError as exc:
                flash(f"Nothing was saved. {exc.message}", "error")
                return redirect(url_for(".index") + (f"#rule-{exc.field}" if exc.field else ""))
            flash("Notification rules saved. The next event follows them.", "success")
            return redirect(url_for(".index"))
        rules = notification_rules.rules()
        grouped = {
            group: [(spec, rules[key]) for key, spec in EMITTED.items() if spec.actor == group]
            for group, _ in GROUPS
        }
        return self.render(
            "admin/notifications/index.html", grouped=grouped, groups=GROUPS, switches=SWITCHES
        )

    @expose("/restore/", methods=("POST",))
    def restore(self):
        key = request.form.get("key")
        if key and key not in EMITTED:
            abort(404)
        restored = notification_rules.restore_rules([key] if key else list(EMITTED))
        flash(
            f"Restored the default for {key}."
            if key
            else f"Restored the defaults of all {len(restored)} events.",
            "success",
        )
        return redirect(url_for(".index") + (f"#rule-{key}" if key else ""))

    @expose("/<key>/", methods=("GET", "POST"))
    def edit(self, key: str):
        if key not in EMITTED:
            return redirect(url_for(".index"))
        form = RuleTemplatesForm(obj=notification_rules.rule_for(key))
        form.agent_template_key.choices = _template_choices(Channel.EMAIL)
        form.customer_template_key.choices = _template_choices(Channel.EMAIL)
        form.primary_template_key.choices = _template_choices(Channel.EMAIL)
        form.customer_sms_template_key.choices = _template_choices(Channel.SMS)
        if form.validate_on_submit():
            values = {name: form[name].data for name in notification_rules.TEMPLATE_SETTINGS}
            try:
                with transactions.attempt():
                    notification_rules.save_templates(key, values)
            except ValidationError as exc:
                getattr(form, exc.field or "agent_template_key").errors.append(exc.message)
            else:
                flash(f"Saved the templates of {CATALOGUE[key].label}.", "success")
                return redirect(url_for(".index") + f"#rule-{key}")
        return self.render("admin/notifications/edit.html", form=form, spec=CATALOGUE[key])

    @expose("/preview/")
    def preview(self):
        key = request.args.get("event", "portal.profile.updated")
        record = db.session.get(Record, request.args.get("record_id", type=int) or 0)
        who = request.args.get("as", "client")
        result = None
        error = None
        if key not in EMITTED:
            error = "Choose an event."
        elif record is not None:
            try:
                result = events.preview(key, record, self._actor(record, who))
            except ValidationError as exc:
                error = exc.message
        return self.render(
            "admin/notifications/preview.html",
            catalogue=EMITTED,
            key=key,
            record=record,
            who=who,
            result=result,
            error=error,
        )

    def _actor(self, record: Record, who: str) -> Actor:
        if who == "staff":
            return Actor.staff(current_user)
        if who == "contact":
            contact = db.session.scalar(
                select(Contact).where(Contact.record_id == record.id).limit(1)
            )
            if contact is not None:
                return Actor(CLIENT, contact.full_name, email=contact.email, is_primary=False)
        return Actor(CLIENT, record.full_name, email=record.email)
