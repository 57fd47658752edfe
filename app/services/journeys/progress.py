"""What every part of a visitor's session shares: who they are as an actor, the session's
audit trail, the funnel's milestones, and which step a visitor may open. :mod:`.visitors`
re-exports the intents among them; callers use them from there.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from flask_babel import gettext as _
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from app.services.actors import CLIENT, Actor
from app.services.errors import NotFound
from models import JourneyMilestone, JourneySession, SessionStatus, db, utcnow

#: ``last_seen_at`` is written at most this often (each page a visitor opens would write it).
TOUCH_EVERY = timedelta(minutes=1)


def actor(session: JourneySession) -> Actor:
    """The visitor as the actor of their session's events (a client without an account)."""
    return Actor(CLIENT, session.name, email=session.email)


def log(session: JourneySession, what: str, ip: str | None, at: datetime | None = None) -> None:
    """Append ``what`` (a short English sentence) to the session's audit trail, with the
    time and the address it came from."""
    when = at or utcnow()
    entry = {"at": when.isoformat(timespec="seconds"), "what": what, "ip": ip or "-"}
    # A new list: the JSON column only notices an assignment.
    session.trail = [*(session.trail or []), entry]


def milestone(session: JourneySession, stage: str, at: datetime | None = None) -> None:
    """The session reached ``stage`` (``started``, ``verified``, ``step:<index>``,
    ``completed``, ``abandoned``): written once, a second time changes nothing."""
    if session.id is None:
        db.session.flush()
    row: dict[str, Any] = {
        "journey_id": session.journey_id,
        "session_id": session.id,
        "stage": stage,
        "at": at or utcnow(),
    }
    if db.session.get_bind().dialect.name == "postgresql":
        statement: Any = postgresql_insert(JourneyMilestone).on_conflict_do_nothing()
    else:
        statement = sqlite_insert(JourneyMilestone).on_conflict_do_nothing()
    db.session.execute(statement.values(**row))


def touch(session: JourneySession, ip: str | None, now: datetime | None = None) -> None:
    """The visitor is here: ``last_seen_at`` (at most once a minute) and their address."""
    now = now or utcnow()
    if session.last_seen_at is None or now - session.last_seen_at >= TOUCH_EVERY:
        session.last_seen_at = now
        if ip:
            session.ip = ip[:45]
        db.session.flush()


def steps_of(session: JourneySession) -> list[dict[str, Any]]:
    return list((session.definition or {}).get("steps") or [])


def step_def(session: JourneySession, index: int) -> dict[str, Any]:
    """The step ``index`` of the session's copy, if the visitor may open it (it is done, or it
    is the first not done), else NotFound."""
    steps = steps_of(session)
    if not 0 <= index < len(steps) or index > session.step_index:
        raise NotFound(_("This page does not exist."))
    return steps[index]


def check_open(session: JourneySession) -> None:
    """Steps are for a verified session still going (not waiting for its PIN, not ended)."""
    if session.status != SessionStatus.IN_PROGRESS:
        raise NotFound(_("This page does not exist."))
