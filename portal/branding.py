"""The office's branding for the portal's pages: colours as a style sheet, and the logo."""

from __future__ import annotations

from typing import Any

from flask import abort, current_app

from app.extensions import limiter
from app.services.portal_settings import branding_css as branding_css_text
from app.services.portal_settings import get_settings
from app.services.portal_settings import logo as office_logo
from portal import bp


@bp.get("/branding.css")
@limiter.exempt
def branding_css() -> Any:
    settings = get_settings()
    response = current_app.response_class(branding_css_text(settings), mimetype="text/css")
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


@bp.get("/branding/logo")
@limiter.exempt
def logo() -> Any:
    found = office_logo(get_settings())
    if found is None:
        abort(404)
    response = current_app.response_class(found.data, mimetype=found.content_type)
    # The address carries the upload time (?v=), so a new logo is a new address.
    response.headers["Cache-Control"] = "public, max-age=3600"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'"
    return response
