"""What every journey request shares: the journey its address names (loaded once), who may
show it in a frame, the CSRF check of its forms, the journey cookie written back, the office's
branding in its templates, and its own 404 and error pages (in the journey's layout, which
has no portal navigation).

``frame-ancestors`` is the journey's *current* list of sites (removing a site takes effect at
once, for open sessions too) plus the office itself; everything else in the strict policy,
the per-request nonce included, is the app's (:mod:`app.headers`).
"""

from __future__ import annotations

from typing import Any

from flask import Response, abort, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.exceptions import HTTPException

from app.errors import document_request_limit
from app.services.errors import NotFound
from app.services.journeys import definitions, visitors
from app.services.portal_settings import get_settings
from models import Journey, JourneySession, SessionStatus
from portal.journeys import cookie, journeys_bp


def journey_or_404(slug: str) -> Journey:
    """The journey at ``/f/<slug>`` (an inactive one too: its pages say it is closed)."""
    found = g.get("journey")
    if found is None or found.slug != slug:
        try:
            found = definitions.get_active(slug)
        except NotFound:
            abort(404)
        g.journey = found
    return found


def frame_ancestors(journey: Journey | None) -> str:
    """Who may show the page in a frame: the office, and the journey's allowed sites."""
    origins = definitions.origins(journey) if journey is not None else []
    return " ".join(["'self'", *origins])


@journeys_bp.before_request
def _before() -> None:
    slug = (request.view_args or {}).get("slug")
    journey = None
    if slug is not None:
        try:
            journey = journey_or_404(str(slug))
        except HTTPException:
            journey = None  # the view answers with the 404 page
    g.frame_ancestors = frame_ancestors(journey)
    if request.method == "POST":
        public_id = (request.view_args or {}).get("public_id")
        if request.endpoint == "journeys.step" and public_id in cookie.bound():
            # An upload step's files, each within the documents' limit, for the browser
            # holding the session (set before anything reads the body).
            request.max_content_length = document_request_limit()
        cookie.check_csrf()


@journeys_bp.after_request
def _after(response: Response) -> Response:
    return cookie.save(response)


@journeys_bp.context_processor
def _context() -> dict[str, Any]:
    return {
        "portal_settings": get_settings(),
        "journey": g.get("journey"),
        "journey_csrf_token": cookie.csrf_token,
    }


def _error(error: HTTPException) -> Any:
    code = error.code or 400
    titles = {
        400: _("This form has expired"),
        404: _("This page does not exist"),
        413: _("The files are too large"),
        429: _("Too many attempts"),
    }
    messages = {
        404: _("This address does not lead anywhere. Check the link you were given."),
        405: _("This page cannot be used that way."),
        413: _("Send smaller files, or fewer at a time."),
        429: _("Please wait a few minutes and try again."),
    }
    message = messages.get(code) or error.description or ""
    if code == 400 and error.description:
        message = error.description  # written for the case (an expired form)
    title = titles.get(code, _("Something is not right"))
    return render_template(
        "journeys/error.html",
        title=title,
        message=message,
        new_tab=code == 400 and cookie.missing(),
    ), code


for _code in (400, 404, 405, 413, 429):
    journeys_bp.register_error_handler(_code, _error)


# -- the visitor's session -----------------------------------------------------------------------


def session_or_404(slug: str, public_id: str, *, pending_ok: bool = False) -> JourneySession:
    """The session ``public_id`` of the journey at ``slug``, if this browser holds it (or,
    with ``pending_ok``, asked to resume it); 404 for anyone else."""
    journey = journey_or_404(slug)
    held = cookie.bound() + (cookie.pending() if pending_ok else [])
    try:
        return visitors.for_browser(journey, public_id, held)
    except NotFound:
        abort(404)


def where_next(session: JourneySession) -> str:
    """The page the visitor goes on at: the step reached, or the ending page."""
    if session.status == SessionStatus.COMPLETED:
        return url_for("journeys.done", slug=session.journey.slug, public_id=session.public_id)
    if session.verified_at is None:
        return url_for("journeys.pin", slug=session.journey.slug, public_id=session.public_id)
    return url_for(
        "journeys.step",
        slug=session.journey.slug,
        public_id=session.public_id,
        index=session.step_index,
    )


def closed() -> Any:
    """The polite page of a journey that is switched off."""
    return render_template("journeys/closed.html")


def step_defs(session: JourneySession) -> list[dict[str, Any]]:
    return list(session.definition.get("steps") or [])


def open_step(slug: str, public_id: str, index: int) -> tuple[JourneySession, dict[str, Any]] | Any:
    """The session and its step ``index``, or the answer that sends the visitor elsewhere
    (the PIN, the step reached, the ending page, the closed page)."""
    journey = journey_or_404(slug)
    if not journey.active:
        return closed()
    session = session_or_404(slug, public_id)
    if session.status == SessionStatus.ABANDONED:
        return redirect(url_for("journeys.welcome", slug=slug, restart="ended"))
    if session.verified_at is None or session.status == SessionStatus.COMPLETED:
        return redirect(where_next(session))
    defs = step_defs(session)
    if index >= len(defs):
        abort(404)
    if index > session.step_index:
        return redirect(where_next(session))
    # The visitor is here (at most one write a minute): a session nobody sees is abandoned.
    visitors.touch(session, request.remote_addr)
    return session, defs[index]


def progress(session: JourneySession, index: int) -> dict[str, Any]:
    """What the progress line above a step shows."""
    defs = step_defs(session)
    return {"steps": defs, "index": index, "reached": session.step_index}
