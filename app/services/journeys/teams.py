"""Teams of staff users: a small admin list whose one setting is the email a visitor gets when
they complete a journey assigned to a member (the office's default, ``journey.completed``,
for a user in no team or a team that chose none)."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import func, select

from app.services import templates
from app.services.errors import ValidationError
from app.services.journeys.messages import COMPLETED
from app.services.system_templates import spec_for
from models import Channel, Team, User, db


def _usable(key: str) -> str | None:
    """Why the template under ``key`` cannot be a completion email, or None when it can: it
    must exist and be an email, and a system template other than the completion email is
    for its own message (it would go out without its link or code)."""
    stored = templates.get_template(key)
    spec = spec_for(key)
    if stored is None and spec is None:
        return _("There is no template with the key %(key)s.", key=key)
    channel = stored.channel if stored is not None else spec.channel  # type: ignore[union-attr]
    if channel != Channel.EMAIL:
        return _("%(key)s is not an email template.", key=key)
    if spec is not None and key != COMPLETED:
        return _(
            "%(key)s is the template of another message: choose %(default)s or one of the "
            "office's own templates.",
            key=key,
            default=COMPLETED,
        )
    return None


def completion_template_key(user: User | None) -> str:
    """The template of the email a visitor gets on completing a journey assigned to ``user``:
    their team's, while it is still a usable email template; else the default."""
    team = user.team if user is not None else None
    key = team.completion_template_key if team is not None else None
    if key and _usable(key) is None:
        return key
    return COMPLETED


def clean_team(team: Team) -> None:
    """Tidy a team before it is saved, or raise ValidationError naming the field: a name
    (one line, at most 80 characters, not another team's) and, when set, a completion
    template that is an email template usable for it."""
    name = " ".join((team.name or "").split())
    if not name:
        raise ValidationError(_("Give the team a name."), field="name")
    if len(name) > 80:
        raise ValidationError(_("Use at most 80 characters."), field="name")
    with db.session.no_autoflush:  # the team being saved may be in the session already
        taken = db.session.scalar(
            select(Team.id).where(func.lower(Team.name) == name.lower(), Team.id != team.id)
            if team.id is not None
            else select(Team.id).where(func.lower(Team.name) == name.lower())
        )
        if taken is not None:
            raise ValidationError(_("Another team has this name."), field="name")
        key = (team.completion_template_key or "").strip() or None
        if key is not None:
            why = _usable(key)
            if why is not None:
                raise ValidationError(why, field="completion_template_key")
    team.name = name
    team.completion_template_key = key
