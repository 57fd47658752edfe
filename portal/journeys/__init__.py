"""Self-service journeys for visitors at ``/f/<slug>``: no portal account, no portal
navigation, the office's branding, and shown inside a frame on the sites each journey allows.

:mod:`.cookie` is this browser's journey cookie (the sessions it may open, and the secret of
its forms' CSRF tokens: the journey's forms do not use the Flask session, whose cookie a
browser withholds from a frame on another site); :mod:`.framing` loads the journey a request
names and says which sites may frame it; :mod:`.limits` the rate limits; :mod:`.pages` the
welcome, PIN, resume, closed and ending pages; :mod:`.steps` the form, upload and review steps;
:mod:`.signing` the signature step. Every rule is the services' (:mod:`app.services.journeys`);
these pages parse, call and render.
"""

from flask import Blueprint

from app.extensions import csrf

journeys_bp = Blueprint(
    "journeys",
    __name__,
    url_prefix="/f",
    template_folder="templates",
    static_folder="static",
    static_url_path="/assets",
)
# The journey cookie carries the CSRF secret of these forms (portal.journeys.cookie).
csrf.exempt(journeys_bp)

from portal.journeys import framing, later, pages, signing, steps  # noqa: E402,F401
