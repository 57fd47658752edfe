"""The portal's settings (one row): name, banner, office contact, sign-in methods and limits."""

from __future__ import annotations

import nh3
from flask import g, has_app_context

from app.services.errors import ValidationError
from models import PortalSettings, db

BANNER_TAGS = {"a", "b", "strong", "em", "i", "u", "br", "p", "ul", "ol", "li", "span"}

#: (field, lowest, highest, what it is) for the numeric settings.
LIMITS = (
    ("code_valid_minutes", 1, 60, "Code validity"),
    ("code_max_attempts", 1, 10, "Code attempts"),
    ("lockout_failures", 3, 20, "Failures before a pause"),
    ("lockout_minutes", 1, 1440, "Pause length"),
    ("session_idle_minutes", 5, 720, "Idle time before sign-out"),
    ("invitation_valid_days", 1, 60, "Invitation validity"),
)


def get_settings() -> PortalSettings:
    """The settings row, created with defaults on first use; cached for the request or job."""
    cached = g.get("portal_settings") if has_app_context() else None
    if cached is not None:
        return cached
    settings = db.session.get(PortalSettings, 1)
    if settings is None:
        settings = PortalSettings(id=1)
        db.session.add(settings)
        db.session.flush()
    if has_app_context():
        g.portal_settings = settings
    return settings


def sanitize_banner(html: str | None) -> str:
    """Keep simple formatting and links; drop scripts, styles, handlers and odd URL schemes."""
    return nh3.clean(
        html or "",
        tags=BANNER_TAGS,
        attributes={"a": {"href", "title"}},
        url_schemes={"http", "https", "mailto", "tel"},
        link_rel="noopener noreferrer",
    ).strip()


def clean_settings(settings: PortalSettings) -> PortalSettings:
    """Check and tidy settings before they are saved, or raise :class:`ValidationError`."""
    settings.portal_name = " ".join((settings.portal_name or "").split())
    if not settings.portal_name:
        raise ValidationError("Give the portal a name.", field="portal_name")
    settings.banner_html = sanitize_banner(settings.banner_html)
    for field, low, high, label in LIMITS:
        value = getattr(settings, field)
        if value is None or not low <= int(value) <= high:
            raise ValidationError(f"{label} must be between {low} and {high}.", field=field)
    methods = (
        settings.allow_link_sign_in,
        settings.allow_password_sign_in,
        settings.allow_email_code_sign_in,
        settings.allow_sms_code_sign_in,
    )
    if not any(methods):
        raise ValidationError(
            "Keep at least one way for clients to sign in.", field="allow_link_sign_in"
        )
    if has_app_context():
        g.pop("portal_settings", None)
    return settings
