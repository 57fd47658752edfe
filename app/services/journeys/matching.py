"""The record a journey's visitor is, once their PIN proved their email: the record with that
email (a client before a lead, the newest first), or a new lead assigned to the journey's
staff user. Their uploads, signed PDF and completion PDF land on it, and its activity shows
the session.

A new lead is saved like any other (:func:`app.services.records.save`), so the workflows that
start on a record created start for it; it is saved without consent to email or texts (the
visitor gave none), as a referred lead is.
"""

from __future__ import annotations

from sqlalchemy import case, func, select

from app.services import records
from app.services.journeys.progress import actor
from models import ContactMethod, JourneySession, Record, RecordKind, db

NAME_MAX = 80
#: A lead's last name when the visitor gave one word (a record needs both names).
NO_LAST_NAME = "—"


def find(email: str) -> Record | None:
    """The record whose email is ``email`` (any case): clients before leads, newest first."""
    return db.session.scalar(
        select(Record)
        .where(func.lower(Record.email) == email.lower())
        .order_by(
            case((Record.kind == RecordKind.CLIENT, 0), else_=1),
            Record.created_at.desc(),
            Record.id.desc(),
        )
        .limit(1)
    )


def split_name(name: str) -> tuple[str, str]:
    """First and last name from what the visitor typed ("Ana María López": "Ana", "María
    López")."""
    parts = name.split()
    first = parts[0] if parts else NO_LAST_NAME
    last = " ".join(parts[1:]) or NO_LAST_NAME
    return first[:NAME_MAX], last[:NAME_MAX]


def record_for(session: JourneySession) -> Record:
    """The session's record: the one it has, the one its email matches, or a new lead."""
    if session.record is not None:
        return session.record
    found = find(session.email)
    if found is None:
        found = _new_lead(session)
    session.record = found
    session.record_id = found.id
    db.session.flush()
    return found


def _new_lead(session: JourneySession) -> Record:
    definition = session.definition or {}
    first, last = split_name(session.name)
    lead = Record(
        kind=RecordKind.LEAD,
        first_name=first,
        last_name=last,
        email=session.email,
        source=f"Journey: {definition.get('name', '')}"[:80],
        # The journey's user now (the copy's may have left the office since).
        assigned_agent_id=session.journey.assigned_user_id,
        preferred_contact=ContactMethod.EMAIL,
        # They agreed to nothing but this journey: a workflow's email waits for consent.
        email_opt_in=False,
        sms_opt_in=False,
    )
    db.session.add(lead)
    records.save(lead, created=True, actor=actor(session))
    return lead
