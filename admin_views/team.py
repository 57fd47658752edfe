"""Teams (admins): small groups of staff users; a visitor who completes a journey gets the
completion email of its assigned user's team (the office's default when there is none)."""

from __future__ import annotations

import typing as t

from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from wtforms import SelectField

from admin_views.base import ADMIN_ONLY, StaffModelView
from app.services.journeys import teams
from app.services.system_templates import spec_for
from models import Channel, MessageTemplate, Team, User, db

#: The completion email when a team names none.
DEFAULT_TEMPLATE = "journey.completed"


def template_choices() -> list[tuple[str, str]]:
    """The email templates a team may send, by key; first, the office's default."""
    rows = db.session.scalars(
        select(MessageTemplate)
        .where(MessageTemplate.channel == Channel.EMAIL)
        .order_by(MessageTemplate.name)
    )
    return [("", f"The office's default ({DEFAULT_TEMPLATE})")] + [
        (row.key, f"{row.name} ({row.key})")
        for row in rows
        # Not another message's own (a password reset's, say): the office's own templates.
        if spec_for(row.key) is None
    ]


def _members(view: t.Any, context: t.Any, model: Team, name: str) -> Markup:
    return Markup(", ").join(member.full_name for member in model.members)


class TeamView(StaffModelView):
    required_roles = ADMIN_ONLY
    column_list = ("name", "members", "completion_template_key")
    column_labels = {"completion_template_key": "Completion email"}
    column_formatters = {
        "members": _members,
        "completion_template_key": lambda v, c, m, n: (
            m.completion_template_key or "The office's default"
        ),
    }
    column_default_sort = "name"
    form_columns = ("name", "members", "completion_template_key")
    form_overrides = {"completion_template_key": SelectField}
    form_args = {
        "members": {
            "description": "A staff user is in one team at most: adding them here takes them "
            "out of their other team.",
            "query_factory": lambda: db.session.scalars(
                select(User).order_by(User.first_name, User.last_name, User.email)
            ).all(),
        },
        "completion_template_key": {
            "label": "Completion email",
            "choices": template_choices,
            "validate_choice": False,
            "description": "What a visitor who completes a journey assigned to one of the "
            "team's members receives (with the completion PDF when the journey offers a "
            "copy). Edit templates under Settings, Templates.",
        },
    }

    def get_query(self) -> t.Any:
        return super().get_query().options(selectinload(Team.members))

    def on_model_change(self, form: t.Any, model: Team, is_created: bool) -> None:
        model.completion_template_key = model.completion_template_key or None
        teams.clean_team(model)
