"""Journeys (admins): each self-service journey at /f/<slug> (its name and address, whether it
is open, the staff user whose history its sessions join, the PIN's life and tries, the opening
and closing screens, the copy, where the visitor goes after, the sites that may embed it and
how long a visitor may come back), its steps in order; and its page: the public address, the
snippets to paste into a website, the funnel and its sessions."""

from __future__ import annotations

import re
import typing as t
from datetime import date

from flask import url_for
from flask_admin.model.form import InlineFormAdmin
from markupsafe import Markup
from sqlalchemy import inspect, select
from sqlalchemy.orm import joinedload, selectinload

from admin_views.base import ADMIN_ONLY, StaffModelView, local_datetime
from app.services import links, portal_settings
from app.services.errors import ValidationError
from app.services.journeys import definitions, funnel
from app.services.users import agents_query
from models import Journey, JourneyStep, SignTemplate, db

#: The button snippet's colour when the office has none that reads as #rrggbb.
_COLOUR = re.compile(r"#[0-9a-fA-F]{6}")


def changed(row: t.Any) -> bool:
    """Whether a row the form touched is new or has a changed column (a step saved unchanged
    is not checked again, so its journey's version stays)."""
    state = inspect(row)
    return bool(state.transient or state.pending or db.session.is_modified(row))


def removed(model: type, **match: t.Any) -> bool:
    """Whether the form deleted a row of ``model`` matching ``match`` (an inline row's Delete
    box): a removed step or question changes the journey as much as an edited one."""
    return any(
        isinstance(row, model) and all(getattr(row, k) == v for k, v in match.items())
        for row in db.session.deleted
    )


def signable_layouts() -> list[SignTemplate]:
    """The saved layouts a visitor can sign alone (one signer: the primary applicant); the
    others are not offered (the step's check refuses them too)."""
    layouts = db.session.scalars(select(SignTemplate).order_by(SignTemplate.name))
    return [layout for layout in layouts if list(layout.signer_roles) == ["primary"]]


def public_url(journey: Journey) -> str:
    return links.external("journeys.welcome", slug=journey.slug)


def snippets(journey: Journey) -> dict[str, str]:
    """What an admin pastes into the office's website: the address, a frame, a button."""
    address = public_url(journey)
    colour = portal_settings.get_settings().brand_colour or ""
    if not _COLOUR.fullmatch(colour):
        colour = "#1a5d96"
    frame = Markup(
        '<iframe src="{}" title="{}" width="100%" height="760" loading="lazy" '
        'style="border:0;max-width:640px"></iframe>'
    ).format(address, journey.name)
    button = Markup(
        '<a href="{}" target="_blank" rel="noopener" style="display:inline-block;'
        "padding:12px 20px;border-radius:6px;background:{};color:#fff;"
        'font:600 16px/1.2 sans-serif;text-decoration:none">{}</a>'
    ).format(address, colour, journey.name)
    return {"url": address, "iframe": str(frame), "button": str(button)}


def funnel_rows(figures: funnel.Funnel) -> list[tuple[date, list[int]]]:
    """The funnel's days with any session, newest first, each with its count per stage."""
    per_stage = [figures.row(stage) for stage in figures.stages]
    rows = []
    for index in range(len(figures.days) - 1, -1, -1):
        counts = [row[index] for row in per_stage]
        if any(counts):
            rows.append((figures.days[index], counts))
    return rows


class StepInline(InlineFormAdmin):
    """A journey's steps, in order; a step's questions or slots are on the step's page."""

    form_columns = ("id", "position", "kind", "title", "intro", "sign_template")
    form_label = "Step"
    column_labels = {"sign_template": "Signature layout"}
    form_args = {
        "position": {"description": "Steps come from the lowest number up."},
        "title": {"description": "The step's heading for the visitor."},
        "intro": {"label": "Intro", "description": "Plain text above the step."},
        "sign_template": {
            "blank_text": "—",
            "description": "Signature steps: a saved layout with one signer, the primary "
            "applicant (the visitor).",
            "query_factory": lambda: signable_layouts(),
        },
    }
    form_widget_args = {"intro": {"rows": 2}}

    def on_model_change(self, form: t.Any, model: JourneyStep, is_created: bool) -> None:
        if changed(model):
            checked(form, definitions.clean_step, model)


def checked(form: t.Any, check: t.Callable[[t.Any], None], row: t.Any) -> None:
    """Run an inline row's check; its message shows under the row's field it names."""
    try:
        check(row)
    except ValidationError as exc:
        if exc.field and exc.field in form.form:
            form.form[exc.field].errors = [*form.form[exc.field].errors, exc.message]
        raise


def _name_link(view: t.Any, context: t.Any, model: Journey, name: str) -> Markup:
    return Markup('<a href="{}">{}</a>').format(url_for(".details_view", id=model.id), model.name)


def _links(view: t.Any, context: t.Any, model: Journey, name: str) -> Markup:
    return Markup('<a href="{}">Sessions</a>').format(
        url_for("journey_sessions.index_view", flt0_journey_is=model.id)
    )


class JourneyView(StaffModelView):
    """Journeys and their steps; saving goes through the journeys' definitions checks."""

    required_roles = ADMIN_ONLY
    #: A journey's sessions are its visitors' history (deleting it would delete them): it is
    #: switched off instead.
    delete_roles = ()
    noun = "Journey"
    can_view_details = True
    details_template = "admin/journeys/journey.html"
    edit_template = "admin/journeys/edit.html"
    create_template = "admin/journeys/create.html"
    column_list = ("name", "slug", "active", "assigned_user", "version", "links")
    column_labels = {"assigned_user": "Assigned to", "links": ""}
    column_formatters = {
        "name": _name_link,
        "slug": lambda v, c, m, n: f"/f/{m.slug}",
        "links": _links,
    }
    column_default_sort = "name"
    column_sortable_list = ("name", "slug")
    column_searchable_list = ("name", "slug")
    form_columns = (
        "name",
        "slug",
        "active",
        "assigned_user",
        "pin_minutes",
        "pin_attempts",
        "opening_html",
        "closing_html",
        "send_copy",
        "redirect_url",
        "embed_origins",
        "resume_days",
    )
    form_args = {
        "slug": {
            "label": "Address",
            "description": "The journey's address: /f/<address>. Lower-case letters, digits "
            "and hyphens, 3 to 60 characters.",
        },
        "active": {"description": "Off: the address shows a polite closed page."},
        "assigned_user": {
            "label": "Assigned staff user",
            "blank_text": "—",
            "description": "Every session appears in their history; a new lead is theirs.",
            "query_factory": lambda: db.session.scalars(agents_query()).all(),
        },
        "pin_minutes": {
            "label": "PIN valid for (minutes)",
            "description": "How long an emailed PIN works (1 to 1,440).",
        },
        "pin_attempts": {
            "label": "PIN attempts",
            "description": "Wrong PINs allowed before the visitor must start again (1 to 20).",
        },
        "opening_html": {
            "label": "Opening screen",
            "description": "Above the welcome form. Simple formatting and links are kept; "
            "anything else is removed.",
        },
        "closing_html": {
            "label": "Closing screen",
            "description": "On the ending page; “Well done!” when empty.",
        },
        "send_copy": {
            "label": "Offer a copy",
            "description": "The ending page offers “Email me a copy” (the completion PDF).",
        },
        "redirect_url": {
            "label": "Redirect after completion",
            "description": "Where the ending page's Continue leads (optional). Only hosts "
            "allowed in the office's settings.",
        },
        "embed_origins": {
            "label": "Sites allowed to embed it",
            "description": "One per line, like https://www.example-agency.com. Empty: it "
            "cannot be shown in a frame on another site.",
        },
        "resume_days": {
            "label": "Resume for (days)",
            "description": "A visitor who leaves halfway is emailed a link that works this "
            "many days (0: no resume, at most 90).",
        },
    }
    form_widget_args = {
        "opening_html": {"rows": 4},
        "closing_html": {"rows": 4},
        "embed_origins": {"rows": 3},
    }
    inline_models = (StepInline(JourneyStep),)

    def get_query(self) -> t.Any:
        return super().get_query().options(joinedload(Journey.assigned_user))

    def get_one(self, id: t.Any) -> Journey | None:
        try:
            journey_id = int(id)
        except (TypeError, ValueError):
            return None
        return db.session.scalar(
            select(Journey)
            .where(Journey.id == journey_id)
            .options(
                joinedload(Journey.assigned_user),
                selectinload(Journey.steps).selectinload(JourneyStep.fields),
                selectinload(Journey.steps).joinedload(JourneyStep.sign_template),
            )
        )

    def on_model_change(self, form: t.Any, model: Journey, is_created: bool) -> None:
        definitions.clean_journey(model)
        if removed(JourneyStep, journey_id=model.id):
            definitions.bump_version(model)

    def render(self, template: str, **kwargs: t.Any) -> t.Any:
        if template == self.details_template:
            journey = kwargs["model"]
            figures = funnel.funnel(journey)
            kwargs.update(
                journey=journey,
                snippets=snippets(journey),
                origins=definitions.origins(journey),
                funnel=figures,
                funnel_rows=funnel_rows(figures),
                local_datetime=local_datetime,
            )
        return super().render(template, **kwargs)
