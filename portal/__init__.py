"""The client portal (``/portal/``) and its read-only staff preview (``/portal/preview/<id>/``).

Both blueprints show the same screens (portal/screens.py); the preview refuses anything but
GET. The portal has its own templates and assets, not the staff panel's.
"""

from flask import Blueprint

bp = Blueprint(
    "portal",
    __name__,
    url_prefix="/portal",
    template_folder="templates",
    static_folder="static",
    static_url_path="/assets",
)

preview_bp = Blueprint("portal_preview", __name__, url_prefix="/portal/preview/<int:record_id>")

from portal import api, screens, session, views  # noqa: E402,F401 - registers the routes
