"""Records (leads and clients): the list staff work from, and the record page."""

from __future__ import annotations

import re
import typing as t
from dataclasses import dataclass

from flask import abort, flash, g, redirect, request, url_for
from flask_admin import expose
from flask_admin.actions import action
from flask_admin.helpers import get_form_data, get_redirect_target, is_safe_url
from flask_admin.model.form import InlineFormAdmin
from flask_security import current_user
from markupsafe import Markup
from sqlalchemy import func, select
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import joinedload, selectinload

from admin_views.base import StaffModelView, badge, int_ids, local_datetime, plural
from admin_views.filters import (
    AssignedAgentIs,
    CoverageTypeIs,
    EnumChoice,
    HasTag,
    LacksTag,
    OfficeDayBetween,
    PortalStatusIs,
    ProductStatusIs,
    Unassigned,
)
from app.services import activity as activity_service
from app.services import (
    care_lists,
    custom_fields,
    events,
    portal_accounts,
    portal_fields,
    workflows,
)
from app.services import contacts as contact_service
from app.services import records as record_service
from app.services import tags as tag_service
from app.services.errors import ValidationError
from app.services.field_types import service_validator
from app.services.users import agents_query
from app.services.validation import format_phone, normalise_email
from models import (
    ChangeStatus,
    Contact,
    PendingChange,
    Product,
    Record,
    RecordKind,
    Tag,
    Task,
    db,
    utcnow,
)


@dataclass(frozen=True)
class RecordTab:
    """A tab of the record page. Later features append theirs to :data:`RECORD_TABS`."""

    key: str
    label: str
    #: Template rendered inside the tab; it gets ``record`` in its context.
    template: str
    #: Optional badge count shown on the tab.
    count: t.Callable[[Record], int | None] | None = None


RECORD_TABS: list[RecordTab] = [
    RecordTab("overview", "Overview", "admin/record/tab_overview.html"),
    RecordTab("portal", "Portal", "admin/record/tab_portal.html"),
    RecordTab(
        "products",
        "Products",
        "admin/record/tab_products.html",
        lambda record: len(record.products),
    ),
    RecordTab(
        "contacts",
        "Contacts",
        "admin/record/tab_contacts.html",
        lambda record: len(record.contacts) + 1,
    ),
    RecordTab(
        "tasks",
        "Tasks",
        "admin/record/tab_tasks.html",
        lambda record: sum(1 for task in record.tasks if not task.done),
    ),
    RecordTab("rx", "Rx", "admin/record/tab_rx.html"),
    RecordTab("providers", "Providers", "admin/record/tab_providers.html"),
    RecordTab("workflows", "Workflows", "admin/record/tab_workflows.html"),
    RecordTab("activity", "Activity", "admin/record/tab_activity.html"),
]


def _name_link(view: t.Any, context: t.Any, model: Record, name: str) -> Markup:
    url = url_for(".details_view", id=model.id)
    return Markup('<a href="{}">{}</a>').format(url, model.display_name)


def _tags(view: t.Any, context: t.Any, model: Record, name: str) -> Markup:
    return Markup(" ").join(badge(tag.name, tag.colour) for tag in model.tags)


def _portal(view: t.Any, context: t.Any, model: Record, name: str) -> Markup:
    account = model.portal_account
    if account is None:
        return Markup('<span class="text-muted">Not enabled</span>')
    colour = {"enabled": "#2e7d32", "invited": "#1565c0", "disabled": "#757575"}[
        account.status.value
    ]
    text = badge(account.status.label, colour)
    if account.last_login_at:
        text += Markup('<br><span class="small text-muted">{}</span>').format(
            "signed in " + local_datetime(account.last_login_at)
        )
    return text


def _phone(view: t.Any, context: t.Any, model: Record, name: str) -> str:
    return format_phone(model.mobile or model.phone)


class ContactInline(InlineFormAdmin):
    form_columns = (
        "id",
        "role",
        "first_name",
        "last_name",
        "relationship_to_record",
        "email",
        "phone",
        "date_of_birth",
    )
    form_label = "Contact"
    column_labels = {"relationship_to_record": "Relationship", "date_of_birth": "Date of birth"}
    form_args = {"email": {"validators": [service_validator(normalise_email)]}}


class RecordView(StaffModelView):
    can_view_details = True
    can_export = True
    export_types = ["csv"]
    export_max_rows = 100_000
    details_template = "admin/record/details.html"
    list_template = "admin/record/list.html"

    column_list = (
        "last_name",
        "kind",
        "email",
        "phone",
        "assigned_agent",
        "tags",
        "portal_account",
        "updated_at",
    )
    column_labels = {
        "last_name": "Name",
        "assigned_agent": "Agent",
        "portal_account": "Portal",
        "updated_at": "Updated",
        "date_of_birth": "Date of birth",
        "address_line1": "Address",
        "address_line2": "Address (line 2)",
        "postal_code": "ZIP / postal code",
        "preferred_contact": "Prefers",
        "email_opt_in": "Email opt-in",
        "sms_opt_in": "Text opt-in",
    }
    column_sortable_list = (
        "last_name",
        "kind",
        "email",
        ("assigned_agent", "assigned_agent.first_name"),
        "updated_at",
    )
    column_default_sort = [("last_name", False), ("first_name", False)]
    column_searchable_list = ("first_name", "last_name", "company_name", "email", "phone", "mobile")
    column_formatters = {
        "last_name": _name_link,
        "tags": _tags,
        "phone": _phone,
        "portal_account": _portal,
    }
    column_formatters_export = {
        "last_name": lambda v, c, m, n: m.display_name,
        "tags": lambda v, c, m, n: ", ".join(tag.name for tag in m.tags),
        "assigned_agent": lambda v, c, m, n: m.assigned_agent.full_name if m.assigned_agent else "",
    }
    column_export_list = (
        "id",
        "kind",
        "first_name",
        "last_name",
        "company_name",
        "email",
        "phone",
        "mobile",
        "date_of_birth",
        "address_line1",
        "address_line2",
        "city",
        "state",
        "postal_code",
        "country",
        "preferred_contact",
        "assigned_agent",
        "tags",
        "source",
        "created_at",
        "updated_at",
    )
    column_filters = (
        EnumChoice(Record.kind, "Kind", RecordKind),
        AssignedAgentIs(),
        Unassigned(),
        HasTag(),
        LacksTag(),
        ProductStatusIs(),
        CoverageTypeIs(),
        PortalStatusIs(),
        OfficeDayBetween(Record.created_at, "Created"),
    )
    form_columns = (
        "kind",
        "first_name",
        "last_name",
        "company_name",
        "email",
        "phone",
        "mobile",
        "date_of_birth",
        "address_line1",
        "address_line2",
        "city",
        "state",
        "postal_code",
        "country",
        "preferred_contact",
        "email_opt_in",
        "sms_opt_in",
        "source",
        "assigned_agent",
        "tags",
        "notes",
    )
    form_args = {
        # "Name" is the list's column (the full name); in the form each part says which it is.
        "first_name": {"label": "First name"},
        "last_name": {"label": "Last name"},
        "company_name": {"label": "Company"},
        "email": {"validators": [service_validator(normalise_email)]},
        "assigned_agent": {"query_factory": lambda: db.session.scalars(agents_query()).all()},
        "tags": {"query_factory": lambda: db.session.scalars(select(Tag).order_by(Tag.name)).all()},
        "country": {"description": "Two-letter country code, used to read phone numbers."},
    }
    form_widget_args = {"notes": {"rows": 4}}
    inline_models = (ContactInline(Contact),)

    def search_placeholder(self) -> str:
        return "Name, company, email or phone"

    def get_query(self):  # type: ignore[no-untyped-def]
        return (
            super()
            .get_query()
            .options(
                joinedload(Record.assigned_agent),
                selectinload(Record.tags),
                selectinload(Record.portal_account),
            )
        )

    def get_one(self, id: t.Any) -> Record | None:
        try:
            record_id = int(id)
        except (TypeError, ValueError):
            return None
        return db.session.scalar(
            select(Record)
            .where(Record.id == record_id)
            .options(
                joinedload(Record.assigned_agent),
                selectinload(Record.tags),
                selectinload(Record.products).joinedload(Product.coverage_type),
                selectinload(Record.contacts),
                selectinload(Record.tasks).joinedload(Task.assignee),
            )
        )

    def _with_custom_fields(self, form_class: t.Any, record: Record | None) -> t.Any:
        """The form plus one field per active custom field, validated by its type."""
        extra = custom_fields.staff_form_fields(record)
        return type(form_class.__name__, (form_class,), extra) if extra else form_class

    def create_form(self, obj: t.Any = None):  # type: ignore[no-untyped-def]
        form_class = self._with_custom_fields(self._create_form_class, None)
        form = form_class(get_form_data(), obj=obj)
        if request.method == "GET" and form.assigned_agent.data is None:
            form.assigned_agent.data = current_user._get_current_object()
        return form

    def edit_form(self, obj: t.Any = None):  # type: ignore[no-untyped-def]
        form_class = self._with_custom_fields(self._edit_form_class, obj)
        form = form_class(get_form_data(), obj=obj)
        if request.method == "GET" and obj is not None:
            for field, value in custom_fields.values_of(obj).items():
                form[custom_fields.form_name(field)].data = value
        return form

    def on_model_change(self, form: t.Any, model: Record, is_created: bool) -> None:
        state = sa_inspect(model)
        g.record_kind_changed = state.attrs.kind.history.has_changes()
        tag_history = state.attrs.tags.history
        g.record_tags_changed = (list(tag_history.added or ()), list(tag_history.deleted or ()))
        if not is_created:
            with db.session.no_autoflush:  # the form's values are checked before they are written
                g.record_runs_before = len(workflows.runs_of(model, running=True))
        record_service.clean_record(model)
        contact_service.clean_contacts(model)
        portal_accounts.sync_login_email(model)
        custom = {
            name: form[name].data
            for name in form._fields
            if name.startswith(portal_fields.CUSTOM_PREFIX)
        }
        if custom:
            db.session.flush()  # a new record needs its id
            custom_fields.set_values(model, custom)

    def after_model_change(self, form: t.Any, model: Record, is_created: bool) -> None:
        added, removed = g.pop("record_tags_changed", ([], []))
        record_service.after_save(
            model,
            created=is_created,
            kind_changed=g.pop("record_kind_changed", True),
            tags_added=added,
            tags_removed=removed,
            actor=events.Actor.staff(current_user),
        )
        db.session.commit()
        if not is_created and (changed := _runs_changed(model, g.pop("record_runs_before", 0))):
            flash(changed.strip(), "info")

    # -- the record page -------------------------------------------------------------------

    def render(self, template: str, **kwargs: t.Any) -> t.Any:
        if template == self.list_template:
            kwargs["list_args"] = list_args(request.args)
        if template == self.details_template:
            record = kwargs["model"]
            accounts = portal_accounts.accounts_of(record)
            kwargs.update(
                tabs=RECORD_TABS,
                primary_account=next((a for a in accounts if a.is_primary), None),
                contact_accounts={a.contact_id: a for a in accounts if not a.is_primary},
                activity=activity_service.for_record(record.id, limit=100),
                custom_values=custom_fields.display_values(record),
                runs=workflows.runs_of(record),
                describe_action=_describer(record),
                prescriptions=care_lists.entries(care_lists.PRESCRIPTIONS, record),
                providers=care_lists.entries(care_lists.PROVIDERS, record),
                pending_changes=db.session.scalar(
                    select(func.count())
                    .select_from(PendingChange)
                    .where(
                        PendingChange.record_id == record.id,
                        PendingChange.status == ChangeStatus.PENDING,
                    )
                ),
                now=utcnow(),
                all_tags=db.session.scalars(select(Tag).order_by(Tag.name)).all(),
                local_datetime=local_datetime,
                format_phone=format_phone,
                RecordKind=RecordKind,
            )
            kwargs["record"] = record
        return super().render(template, **kwargs)

    def _record_or_404(self, record_id: t.Any) -> Record:
        record = self.get_one(record_id)
        if record is None:
            abort(404)
        return record

    @expose("/<int:record_id>/tags/", methods=("POST",))
    def change_tag(self, record_id: int):  # type: ignore[no-untyped-def]
        record = self._record_or_404(record_id)
        tag = db.session.get(Tag, request.form.get("tag_id", type=int) or 0)
        if tag is None:
            flash("Choose a tag.", "error")
        elif request.form.get("operation") == "remove":
            before = len(workflows.runs_of(record, running=True))
            tag_service.remove_tag([record.id], tag, actor=events.Actor.staff(current_user))
            db.session.commit()
            flash(f"Removed the tag {tag.name}.{_runs_changed(record, before)}", "success")
        else:
            before = len(workflows.runs_of(record, running=True))
            added = tag_service.add_tag([record.id], tag, actor=events.Actor.staff(current_user))
            db.session.commit()
            flash(
                (f"Tagged with {tag.name}." if added else f"Already tagged with {tag.name}.")
                + _runs_changed(record, before),
                "success",
            )
        return redirect(url_for(".details_view", id=record.id))

    @expose("/<int:record_id>/convert/", methods=("POST",))
    def convert(self, record_id: int):  # type: ignore[no-untyped-def]
        record = self._record_or_404(record_id)
        if record_service.convert_to_client(record):
            db.session.commit()
            flash(f"{record.display_name} is now a client.", "success")
        return redirect(url_for(".details_view", id=record.id))

    # -- self service ---------------------------------------------------------------------

    @expose("/<int:record_id>/self-service/enable/", methods=("POST",))
    def enable_self_service(self, record_id: int):  # type: ignore[no-untyped-def]
        record = self._record_or_404(record_id)
        try:
            result = portal_accounts.enable_self_service(record, current_user)
        except ValidationError as exc:
            db.session.rollback()
            flash(exc.message, "error")
        else:
            db.session.commit()
            how = "by text message" if result.link_channel.value == "sms" else "by email"
            flash(
                ("New link and password sent" if result.reissued else "Self service enabled")
                + f": the portal link went {how}, the password by email"
                + (
                    ". The old link, password and sessions no longer work."
                    if result.reissued
                    else "."
                ),
                "success",
            )
        return redirect(url_for(".details_view", id=record_id) + "#portal")

    @expose("/<int:record_id>/self-service/disable/", methods=("POST",))
    def disable_self_service(self, record_id: int):  # type: ignore[no-untyped-def]
        record = self._record_or_404(record_id)
        if portal_accounts.disable_self_service(record, current_user):
            db.session.commit()
            flash(
                "Self service disabled: the link, the passwords and every open portal "
                "session stopped working.",
                "success",
            )
        return redirect(url_for(".details_view", id=record_id) + "#portal")

    @expose("/<int:record_id>/self-service/invite/", methods=("POST",))
    def invite(self, record_id: int):  # type: ignore[no-untyped-def]
        record = self._record_or_404(record_id)
        contact = None
        contact_id = request.form.get("contact_id", type=int)
        if contact_id:
            contact = db.session.get(Contact, contact_id)
            if contact is None or contact.record_id != record.id:
                abort(404)
        try:
            account = portal_accounts.invite(record, current_user, contact)
        except ValidationError as exc:
            db.session.rollback()
            flash(exc.message, "error")
        else:
            db.session.commit()
            flash(f"Invitation sent to {account.email}.", "success")
        return redirect(url_for(".details_view", id=record_id) + "#portal")

    @expose("/<int:record_id>/self-service/view/")
    def view_self_service(self, record_id: int):  # type: ignore[no-untyped-def]
        record = self._record_or_404(record_id)
        portal_accounts.record_preview_opened(record, current_user)
        db.session.commit()
        return redirect(url_for("portal_preview.home", record_id=record.id))

    @action(
        "enable_self_service",
        "Enable self service…",
    )
    def action_enable(self, ids: list[str]):  # type: ignore[no-untyped-def]
        record_ids = int_ids(ids)
        records = db.session.scalars(
            select(Record)
            .where(Record.id.in_(record_ids))
            .options(selectinload(Record.portal_account))
        ).all()
        return self.render(
            "admin/record/bulk_enable.html",
            records=records,
            without_email=[r for r in records if not r.email],
            already=[
                r
                for r in records
                if r.portal_account and r.portal_account.status.value == "enabled"
            ],
            return_url=_safe_referrer() or url_for(".index_view"),
        )

    @expose("/bulk-enable/", methods=("POST",))
    def bulk_enable(self):  # type: ignore[no-untyped-def]
        return_url = get_redirect_target() or url_for(".index_view")
        record_ids = int_ids(request.form.getlist("record_id"))
        records = db.session.scalars(select(Record).where(Record.id.in_(record_ids))).all()
        done, refused = 0, []
        for record in records:
            try:
                with db.session.begin_nested():
                    portal_accounts.enable_self_service(record, current_user)
                done += 1
            except ValidationError as exc:
                refused.append(f"{record.display_name}: {exc.message}")
        db.session.commit()
        flash(
            f"Self service enabled for {plural(done, 'record')}; "
            "each was sent its own link and password.",
            "success",
        )
        for line in refused[:10]:
            flash(line, "error")
        return redirect(return_url)

    # -- bulk tagging from the list --------------------------------------------------------

    @action("add_tag", "Add tag…")
    def action_add_tag(self, ids: list[str]):  # type: ignore[no-untyped-def]
        return self._bulk_tag_form(ids, "add")

    @action("remove_tag", "Remove tag…")
    def action_remove_tag(self, ids: list[str]):  # type: ignore[no-untyped-def]
        return self._bulk_tag_form(ids, "remove")

    def _bulk_tag_form(self, ids: list[str], operation: str):  # type: ignore[no-untyped-def]
        record_ids = int_ids(ids)
        return self._render_bulk(record_ids, operation, scope="selected")

    def _render_bulk(
        self,
        record_ids: list[int],
        operation: str,
        scope: str,
        tag: Tag | None = None,
        plans: t.Any = None,
        notice: str | None = None,
    ):  # type: ignore[no-untyped-def]
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
    def bulk_tag(self):  # type: ignore[no-untyped-def]
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
        db.session.commit()
        unchanged = len(record_ids) - len(changed)
        if unchanged:
            message += f"; {unchanged} did not change"
        flash(message + ".", "success")
        return redirect(back)


def _describer(record: Record) -> t.Callable[[t.Any], str]:
    names: dict[str, str] = {}

    def describe(item: t.Any) -> str:
        if not names:
            names.update(workflows.template_names_by_key())
        return workflows.describe(item, record, names)

    return describe


def _runs_changed(record: Record, before: int) -> str:
    """What a change on the record page did to its workflows, in words."""
    now = len(workflows.runs_of(record, running=True))
    if now > before:
        return f" Workflows started: {now - before} (see the Workflows tab)."
    if now < before:
        return f" Workflows stopped: {before - now}."
    return ""


LIST_ARGS = re.compile(r"^(flt\d+_\w+|search|sort|desc|page_size)$")


def list_args(args: t.Any) -> dict[str, str]:
    """The record list's own arguments from an address (filters, search, sort), and nothing
    else: safe to hand to url_for."""
    return {key: value for key, value in args.items() if LIST_ARGS.match(key)}


def _safe_referrer() -> str | None:
    referrer = request.referrer
    return referrer if referrer and is_safe_url(referrer) else None
