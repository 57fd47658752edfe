""" "Finish later": a visitor halfway through asks for the emailed link back to the step they
reached (after a fresh PIN), rather than waiting for the one a day of silence brings."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app, redirect, render_template
from flask_babel import format_date

from app import transactions
from app.services.errors import ServiceError
from app.services.journeys import abandoning
from models import SessionStatus
from portal.journeys import journeys_bp, limits
from portal.journeys.framing import closed, journey_or_404, session_or_404, where_next
from portal.signing.link import masked

#: Links asked for per session (the service allows three in all).
LATER_LIMIT = "5 per hour"


@journeys_bp.post("/<slug>/s/<public_id>/later")
@limits.apply([limits.per_session(LATER_LIMIT, "later")])
def later(slug: str, public_id: str) -> Any:
    if not journey_or_404(slug).active:
        return closed()
    session = session_or_404(slug, public_id)
    if session.status != SessionStatus.IN_PROGRESS:
        return redirect(where_next(session))
    error, until = "", None
    try:
        with transactions.attempt():
            until = abandoning.finish_later(session)
    except ServiceError as refused:
        error = str(refused)
    zone = ZoneInfo(current_app.config["PORTICO_TIMEZONE"])
    return render_template(
        "journeys/later.html",
        session=session,
        sent_to=masked(session.email),
        until=format_date(until.astimezone(zone).date(), "long") if until else "",
        error=error,
        carry_on=where_next(session),
    ), (422 if error else 200)
