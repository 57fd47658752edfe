"""The client portal (``/portal/``) and its read-only staff preview (``/portal/preview/<id>/``).

The portal is organised by what the client does, one module (or small package) per feature
with its pages and its JSON routes side by side: signin, home, details, care_lists. Shared:
guards (who may see what), limits (rate limits), api and openapi (JSON bodies, errors and the
OpenAPI document built from the routes), navigation (client screens, on the portal and on the
preview, so staff see exactly what the client sees; the preview refuses anything but GET).
The portal has its own templates and assets, not the staff panel's.
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

# Importing the features registers their routes.
import portal.reviews  # noqa: E402,F401
from portal import (  # noqa: E402,F401
    branding,
    care_lists,
    certificates,
    documents,
    home,
    openapi,
    referral,
    requests,
    session,
    surveys,
)
from portal.details import contact_changes, sections  # noqa: E402,F401
from portal.signin import codes, confirm, passwords  # noqa: E402,F401
from portal.signing import link, pages  # noqa: E402,F401
