"""The record page: its tabs, what they show, and the changes made from it (a tag, a lead
made a client)."""

from __future__ import annotations

import typing as t
from dataclasses import dataclass

from flask import abort, flash, redirect, request, url_for
from flask_admin import expose
from flask_security import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload, selectinload
from werkzeug.wrappers import Response

from admin_views import (
    certificate_tab,
    conversation_thread,
    document_tab,
    journey_session,
    sign_request,
)
from admin_views.base import StaffModelView, local_datetime
from app.services import activity as activity_service
from app.services import (
    care_lists,
    custom_fields,
    events,
    portal_credentials,
    workflows,
)
from app.services import records as record_service
from app.services.validation import format_phone
from models import ChangeStatus, PendingChange, Product, Record, RecordKind, Tag, Task, db, utcnow


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
    RecordTab("documents", "Documents", "admin/record/tab_documents.html", document_tab.count_of),
    RecordTab(
        "requests", "Requests", "admin/record/tab_requests.html", conversation_thread.count_of
    ),
    RecordTab("signing", "Signing", "admin/record/tab_signing.html", sign_request.count_of),
    RecordTab(
        "certificates",
        "Certificates",
        "admin/record/tab_certificates.html",
        certificate_tab.count_of,
    ),
    RecordTab("journeys", "Journeys", "admin/journeys/record_tab.html", journey_session.count_of),
    RecordTab("workflows", "Workflows", "admin/record/tab_workflows.html"),
    RecordTab("activity", "Activity", "admin/record/tab_activity.html"),
]


def runs_note(runs: record_service.RunsChanged) -> str:
    """What a change to a record did to its workflows, in words ("" when nothing)."""
    if runs.started:
        return f" Workflows started: {runs.started} (see the Workflows tab)."
    if runs.stopped:
        return f" Workflows stopped: {runs.stopped}."
    return ""


def _describer(record: Record) -> t.Callable[[t.Any], str]:
    names: dict[str, str] = {}

    def describe(item: t.Any) -> str:
        if not names:
            names.update(workflows.template_names_by_key())
        return workflows.describe(item, record, names)

    return describe


class RecordPage(StaffModelView):
    """The record page (Flask-Admin's details view) and what is done from it."""

    details_template = "admin/record/details.html"

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

    def record_or_404(self, record_id: t.Any) -> Record:
        record = self.get_one(record_id)
        if record is None:
            abort(404)
        return record

    def render(self, template: str, **kwargs: t.Any) -> t.Any:
        if template == self.details_template:
            record = kwargs["model"]
            accounts = portal_credentials.accounts_of(record)
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
                documents_tab=document_tab.tab_context(record),
                requests_tab=conversation_thread.tab_context(record),
                signing_tab=sign_request.tab_context(record),
                certificates_tab=certificate_tab.tab_context(record),
                journeys_tab=journey_session.tab_context(record),
            )
            kwargs["record"] = record
        return super().render(template, **kwargs)

    @expose("/<int:record_id>/tags/", methods=("POST",))
    def change_tag(self, record_id: int) -> Response:
        record = self.record_or_404(record_id)
        tag = db.session.get(Tag, request.form.get("tag_id", type=int) or 0)
        if tag is None:
            flash("Choose a tag.", "error")
            return redirect(url_for(".details_view", id=record.id))
        add = request.form.get("operation") != "remove"
        changed, runs = record_service.change_tag(
            record, tag, add=add, actor=events.Actor.staff(current_user)
        )
        if not add:
            message = f"Removed the tag {tag.name}."
        elif changed:
            message = f"Tagged with {tag.name}."
        else:
            message = f"Already tagged with {tag.name}."
        flash(message + runs_note(runs), "success")
        return redirect(url_for(".details_view", id=record.id))

    @expose("/<int:record_id>/convert/", methods=("POST",))
    def convert(self, record_id: int) -> Response:
        record = self.record_or_404(record_id)
        if record_service.convert_to_client(record):
            flash(f"{record.display_name} is now a client.", "success")
        return redirect(url_for(".details_view", id=record.id))
