"""Journey sessions (all staff): every visitor's way through a journey, filtered by journey,
status (abandoned ones included), the staff user whose history it joins and the day it
started; "My journey sessions" is that history for the signed-in user. A session's page: the
visitor, the record, each step and its answers, the uploads, the signed document, the
completion PDF and the trail. The record page's Journeys tab lists the record's sessions."""

from __future__ import annotations

import typing as t
from dataclasses import dataclass
from datetime import datetime

from flask import g, url_for
from flask_security import current_user
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from admin_views.base import StaffModelView, badge, int_ids, local_datetime, record_link
from admin_views.filters import EnumChoice, IntChoice, OfficeDayBetween, agent_options
from admin_views.journey_step import journey_options
from app.services.journeys import steps
from models import (
    JourneySession,
    JourneyUpload,
    Record,
    SessionStatus,
    SignRequest,
    StepKind,
    User,
    db,
)

#: Badge colours of a session's status.
COLOURS = {
    "started": "#adb5bd",
    "in_progress": "#17a2b8",
    "completed": "#28a745",
    "abandoned": "#dc3545",
}


def assigned_to(user_id: int | None) -> t.Any:
    """Sessions in a staff user's history: the journey was assigned to them when it started."""
    return JourneySession.definition["assigned_user_id"].as_integer() == user_id


def trail_time(at: str) -> str:
    """A trail entry's ISO time on the office's clock (as written when it is not one)."""
    try:
        return local_datetime(datetime.fromisoformat(at), "%Y-%m-%d %H:%M:%S")
    except (TypeError, ValueError):
        return str(at)


def status_badge(status: SessionStatus) -> Markup:
    return badge(status.label, COLOURS.get(status.value, "#6c757d"))


def step_text(session: JourneySession) -> str:
    total = len((session.definition or {}).get("steps") or [])
    if session.status == SessionStatus.COMPLETED or session.step_index >= total:
        return f"All {total} done" if total else ""
    return f"Step {session.step_index + 1} of {total}"


@dataclass(frozen=True)
class StepShown:
    """One step of a session's page: what it asked and what the visitor gave."""

    index: int
    title: str
    kind: str
    done: bool
    rows: list[tuple[str, str]]


def shown_steps(session: JourneySession) -> list[StepShown]:
    shown = []
    for step_def in (session.definition or {}).get("steps") or []:
        index = int(step_def["index"])
        done = index < session.step_index
        kind = StepKind(step_def["kind"])
        rows = steps.get(kind).summary(session, step_def) if index <= session.step_index else []
        shown.append(StepShown(index, step_def.get("title", ""), kind.label, done, rows))
    return shown


class AssignedTo(IntChoice):
    """The staff user whose history a session joins (as the journey was when it started)."""

    def __init__(self) -> None:
        super().__init__(JourneySession.definition, "Assigned to", agent_options)

    def apply(self, query: t.Any, value: t.Any, alias: t.Any = None) -> t.Any:
        return query.filter(assigned_to(self.clean(value)))


def _name(view: t.Any, context: t.Any, model: JourneySession, name: str) -> Markup:
    return Markup('<a href="{}">{}</a>').format(url_for(".details_view", id=model.id), model.name)


def _journey(view: t.Any, context: t.Any, model: JourneySession, name: str) -> Markup | str:
    if current_user.has_role("admin"):
        return Markup('<a href="{}">{}</a>').format(
            url_for("journey.details_view", id=model.journey_id), model.journey.name
        )
    return model.journey.name


def _assigned(view: t.Any, context: t.Any, model: JourneySession, name: str) -> str:
    names = context.get("assigned_names") if context is not None else None
    user_id = (model.definition or {}).get("assigned_user_id")
    return (names or {}).get(user_id, "")


class JourneySessionView(StaffModelView):
    """Every journey session, newest first; a session's page."""

    noun = "Session"
    can_create = False
    can_edit = False
    can_view_details = True
    #: A session is an audit trail of what a visitor did: it is kept, not deleted.
    delete_roles = ()
    details_template = "admin/journeys/session.html"
    column_list = (
        "started_at",
        "name",
        "email",
        "journey",
        "status",
        "step_index",
        "record",
        "assigned",
        "last_seen_at",
    )
    column_labels = {
        "started_at": "Started",
        "name": "Visitor",
        "step_index": "Reached",
        "assigned": "Assigned to",
        "last_seen_at": "Last seen",
    }
    column_formatters = {
        "name": _name,
        "journey": _journey,
        "status": lambda v, c, m, n: status_badge(m.status),
        "step_index": lambda v, c, m, n: step_text(m),
        "record": record_link,
        "assigned": _assigned,
    }
    column_default_sort = ("started_at", True)
    column_sortable_list = ("started_at", "last_seen_at", "name")
    column_searchable_list = ("name", "email")
    column_filters: tuple[t.Any, ...] = (
        IntChoice(JourneySession.journey_id, "Journey", journey_options),
        EnumChoice(JourneySession.status, "Status", SessionStatus),
        AssignedTo(),
        OfficeDayBetween(JourneySession.started_at, "Started"),
    )

    def search_placeholder(self) -> str:
        return "Visitor's name or email"

    def get_query(self) -> t.Any:
        return (
            super()
            .get_query()
            .options(joinedload(JourneySession.journey), joinedload(JourneySession.record))
        )

    def get_one(self, id: t.Any) -> JourneySession | None:
        found = int_ids([id])
        if not found:
            return None
        return db.session.scalar(
            select(JourneySession)
            .where(JourneySession.id == found[0])
            .options(
                joinedload(JourneySession.journey),
                joinedload(JourneySession.record),
                joinedload(JourneySession.sign_request).joinedload(SignRequest.signed_document),
                joinedload(JourneySession.completion_document),
                selectinload(JourneySession.uploads).joinedload(JourneyUpload.document),
            )
        )

    def render(self, template: str, **kwargs: t.Any) -> t.Any:
        if template == self.list_template and kwargs.get("data"):
            ids = {(m.definition or {}).get("assigned_user_id") for m in kwargs["data"]}
            kwargs["assigned_names"] = _user_names(i for i in ids if isinstance(i, int))
        if template == self.details_template:
            session = kwargs["model"]
            assigned_id = (session.definition or {}).get("assigned_user_id")
            kwargs.update(
                session=session,
                steps_shown=shown_steps(session),
                step_text=step_text(session),
                status_badge=status_badge,
                trail_time=trail_time,
                assigned=db.session.get(User, assigned_id) if assigned_id else None,
                local_datetime=local_datetime,
            )
        return super().render(template, **kwargs)


def _user_names(ids: t.Iterable[int]) -> dict[int, str]:
    wanted = set(ids)
    if not wanted:
        return {}
    users = db.session.scalars(select(User).where(User.id.in_(wanted)))
    return {int(u.id): u.full_name for u in users}


class MyJourneySessionView(JourneySessionView):
    """The signed-in staff user's history: sessions of journeys assigned to them."""

    column_filters = (
        IntChoice(JourneySession.journey_id, "Journey", journey_options),
        EnumChoice(JourneySession.status, "Status", SessionStatus),
        OfficeDayBetween(JourneySession.started_at, "Started"),
    )

    def get_query(self) -> t.Any:
        return super().get_query().filter(assigned_to(current_user.id))

    def get_count_query(self) -> t.Any:
        return super().get_count_query().filter(assigned_to(current_user.id))


# -- the record page's Journeys tab -------------------------------------------------------


def sessions_of(record: Record) -> list[JourneySession]:
    listed = g.setdefault("record_journey_sessions", {})
    if record.id not in listed:
        listed[record.id] = list(
            db.session.scalars(
                select(JourneySession)
                .where(JourneySession.record_id == record.id)
                .options(joinedload(JourneySession.journey))
                .order_by(JourneySession.started_at.desc(), JourneySession.id.desc())
            )
        )
    return listed[record.id]


def count_of(record: Record) -> int:
    """The Journeys tab's badge: the record's sessions."""
    return len(sessions_of(record))


def tab_context(record: Record) -> dict[str, t.Any]:
    """What the record page's Journeys tab reads, as ``journeys_tab``."""
    return {
        "sessions": sessions_of(record),
        "status_badge": status_badge,
        "step_text": step_text,
        "local_datetime": local_datetime,
    }
