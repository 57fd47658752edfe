"""The client portal blueprint (``/portal/``): its own templates and assets, not the admin's."""

from flask import Blueprint

bp = Blueprint(
    "portal",
    __name__,
    url_prefix="/portal",
    template_folder="templates",
    static_folder="static",
    static_url_path="/assets",
)

from portal import views  # noqa: E402,F401 - registers the routes
