"""Records (leads and clients): the list staff work from, and the record form.

The record page (its tabs), the self-service routes and bulk tagging are parts of the same
view, kept in their own modules: record_page, record_self_service, record_bulk."""

from __future__ import annotations

import typing as t

from flask import flash, request, url_for
from flask_admin.helpers import get_form_data
from flask_admin.model.form import InlineFormAdmin
from flask_security import current_user
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from admin_views.base import badge, local_datetime
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
from admin_views.record_bulk import RecordBulkTags
from admin_views.record_list import FastListView, ListPage
from admin_views.record_list_cells import record_cells
from admin_views.record_page import runs_note
from admin_views.record_self_service import RecordSelfService
from app.services import custom_fields, documents, events
from app.services import records as record_service
from app.services.field_types import service_validator
from app.services.users import agents_query
from app.services.validation import format_phone, normalise_email
from models import Contact, PortalAccount, Record, RecordKind, Tag, User, db


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


class RecordView(FastListView, RecordBulkTags, RecordSelfService):
    can_view_details = True
    can_export = True
    export_types = ["csv"]
    export_max_rows = 100_000
    list_template = "admin/record/list.html"
    list_view_button = False  # the name links to the record's page
    estimate_count_above = 50_000
    search_uses_trigrams = True  # migration 0018
    list_page_cache = True  # every row it shows renews a record's version or the office's

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
    #: What the list page loads of each record: what its columns show, nothing more.
    list_load_only = (
        "kind",
        "first_name",
        "last_name",
        "company_name",
        "email",
        "phone",
        "mobile",
        "assigned_agent_id",
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

    def get_query(self) -> t.Any:
        # The primary applicant's portal account is at most one row: joined, not a query.
        agent = joinedload(Record.assigned_agent)
        account = joinedload(Record.portal_account)
        if self._listing():
            # The list shows names and a status, not whole rows; its tags cell reads the
            # page's tag names and colours itself, in one query (record_list_cells).
            agent = agent.load_only(User.first_name, User.last_name, User.email)
            account = account.load_only(PortalAccount.status, PortalAccount.last_login_at)
            return super().get_query().options(agent, account)
        return super().get_query().options(agent, selectinload(Record.tags), account)

    def list_cells(self, page: ListPage) -> dict[str, t.Any]:
        return record_cells(page)

    def _with_custom_fields(self, form_class: t.Any, record: Record | None) -> t.Any:
        """The form plus one field per active custom field, validated by its type."""
        extra = custom_fields.staff_form_fields(record)
        return type(form_class.__name__, (form_class,), extra) if extra else form_class

    def create_form(self, obj: t.Any = None) -> t.Any:
        form_class = self._with_custom_fields(self._create_form_class, None)
        form = form_class(get_form_data(), obj=obj)
        if request.method == "GET" and form.assigned_agent.data is None:
            form.assigned_agent.data = current_user._get_current_object()
        return form

    def edit_form(self, obj: t.Any = None) -> t.Any:
        form_class = self._with_custom_fields(self._edit_form_class, obj)
        form = form_class(get_form_data(), obj=obj)
        if request.method == "GET" and obj is not None:
            for field, value in custom_fields.values_of(obj).items():
                form[custom_fields.form_name(field)].data = value
        return form

    def on_model_delete(self, model: Record) -> None:
        documents.forget_files_of(model)

    def on_model_change(self, form: t.Any, model: Record, is_created: bool) -> None:
        custom = {
            name: form[name].data
            for name in form._fields
            if name.startswith(custom_fields.CUSTOM_PREFIX)
        }
        runs = record_service.save(
            model,
            created=is_created,
            custom_values=custom,
            actor=events.Actor.staff(current_user),
        )
        if note := runs_note(runs):
            flash(note.strip(), "info")
