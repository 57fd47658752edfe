"""The portal's settings (one row): name, banner, office contact, sign-in methods and limits,
the modules that are on, branding.

The settings are read here and nowhere else: :func:`sign_in_methods` is which ways of signing
in are open (the sign-in services refuse the others), :func:`module_enabled` whether a part of
the portal is on (pages, the JSON API and jobs ask it)."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from pathlib import Path

import filetype
import nh3
from flask import current_app, g, has_app_context

from app.services import portal_settings_cache
from app.services.errors import NotFound, ValidationError
from app.services.validation import check_colour, normalise_email, normalise_phone
from app.storage import UploadRule, storage
from app.storage.rules import KEY
from models import PortalSettings, db, utcnow

_COLOUR = re.compile(r"^#[0-9a-f]{6}$")

BANNER_TAGS = {"a", "b", "strong", "em", "i", "u", "br", "p", "ul", "ol", "li", "span"}

#: (field, lowest, highest, what it is) for the numeric settings.
LIMITS = (
    ("code_valid_minutes", 1, 60, "Code validity"),
    ("code_max_attempts", 1, 10, "Code attempts"),
    ("lockout_failures", 3, 20, "Failures before a pause"),
    ("lockout_minutes", 1, 1440, "Pause length"),
    ("session_idle_minutes", 5, 720, "Idle time before sign-out"),
    ("invitation_valid_days", 1, 60, "Invitation validity"),
    ("review_task_threshold", 0, 5, "The rating that makes a follow-up task"),
)


@dataclass(frozen=True)
class Module:
    """A part of the portal an admin can switch on or off."""

    #: What the portal calls it (:func:`module_enabled`): a care list's key for the lists.
    key: str
    field: str
    label: str
    #: The portal has the feature. Until then its switch is not shown in the settings: the
    #: feature that lands sets this (a test checks each shown module is read by the portal).
    built: bool = True


MODULES = (
    Module("prescriptions", "module_rx", "Prescriptions (Rx) module"),
    Module("providers", "module_providers", "Providers module"),
    Module("reviews", "module_reviews", "Reviews module"),
    Module("uploads", "module_uploads", "Allow clients to share documents"),
    Module("certificates", "module_certificates", "Certificates module"),
)
MODULE_BY_KEY = {module.key: module for module in MODULES}
#: The settings fields of the modules the portal has.
BUILT_MODULES = tuple(module.field for module in MODULES if module.built)

#: The ways of signing in (the keys :func:`sign_in_methods` answers with), and their switches.
SIGN_IN_SWITCHES = {
    "link": "allow_link_sign_in",
    "password": "allow_password_sign_in",
    "email_code": "allow_email_code_sign_in",
    "sms_code": "allow_sms_code_sign_in",
}


portal_settings_cache.install()


def read_settings() -> PortalSettings:
    """The settings to read and not change: this process's copy when it is current (no
    SELECT, nothing added to the session), else :func:`get_settings`'s row."""
    cached = g.get("portal_settings") if has_app_context() else None
    return cached or portal_settings_cache.current_copy() or get_settings()


def get_settings() -> PortalSettings:
    """The settings row, created with defaults on first use; cached for the request or job,
    and between requests in each process until any process commits a change
    (:mod:`app.services.portal_settings_cache`). It is the session's row: changes to it are
    saved with the request."""
    cached = g.get("portal_settings") if has_app_context() else None
    if cached is not None:
        return cached
    settings = portal_settings_cache.load()
    if settings is None:
        settings = PortalSettings(id=1)
        db.session.add(settings)
        db.session.flush()
    if has_app_context():
        g.portal_settings = settings
    return settings


def module_enabled(key: str) -> bool:
    """Whether the portal module ``key`` (``prescriptions``, ``providers``, ...) is on: built,
    and switched on in the settings. An unknown key is off."""
    module = MODULE_BY_KEY.get(key)
    return module is not None and module.built and bool(getattr(get_settings(), module.field))


def sign_in_methods() -> dict[str, bool]:
    """Which ways of signing in the settings allow: ``link`` (personal link and password),
    ``password`` (email address and password), ``email_code``, ``sms_code``."""
    settings = get_settings()
    return {method: bool(getattr(settings, field)) for method, field in SIGN_IN_SWITCHES.items()}


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
    for field, check in (("office_email", normalise_email), ("office_phone", normalise_phone)):
        try:
            setattr(settings, field, check(getattr(settings, field)))
        except ValidationError as exc:
            raise ValidationError(exc.message, field=field) from None
    settings.banner_html = sanitize_banner(settings.banner_html)
    try:
        settings.brand_colour = check_colour(settings.brand_colour)
    except ValidationError as exc:
        raise ValidationError(exc.message, field="brand_colour") from None
    for field, low, high, label in LIMITS:
        value = getattr(settings, field)
        if value is None or not low <= int(value) <= high:
            raise ValidationError(f"{label} must be between {low} and {high}.", field=field)
    if not any(getattr(settings, field) for field in SIGN_IN_SWITCHES.values()):
        raise ValidationError(
            "Keep at least one way for clients to sign in.", field="allow_link_sign_in"
        )
    if has_app_context():
        g.pop("portal_settings", None)
    return settings


def save_settings(
    settings: PortalSettings, *, logo: bytes | None = None, remove_logo: bool = False
) -> PortalSettings:
    """An admin's edit of the settings: checked and tidied (:func:`clean_settings`), with the
    logo uploaded (its bytes) or removed."""
    clean_settings(settings)
    if remove_logo:
        delete_logo(settings)
    elif logo is not None:
        store_logo(settings, logo)
    return settings


# -- branding -----------------------------------------------------------------------------------

LOGO_TYPES = {"image/png": "png", "image/jpeg": "jpg", "image/webp": "webp", "image/gif": "gif"}
LOGO_CONTENT_TYPES = {extension: mime for mime, extension in LOGO_TYPES.items()}
LOGO_MAX_BYTES = 1024 * 1024
#: The storage's rule for logos: the types above, the size above.
LOGOS = UploadRule("logos", frozenset(LOGO_TYPES), LOGO_MAX_BYTES)


def _legacy_folder() -> Path:
    """Where logos were kept before files moved to the storage (read and removed, never
    written)."""
    return Path(current_app.config["PORTICO_INSTANCE_PATH"]) / "uploads" / "branding"


@dataclass(frozen=True)
class Logo:
    data: bytes
    content_type: str


def store_logo(settings: PortalSettings, data: bytes) -> str:
    """Keep an uploaded logo after checking what it really is (not what it claims to be):
    PNG, JPEG, WebP or GIF, at most 1 MB. SVG is refused: it can carry scripts. It goes to the
    file storage (shared by every web host when that is S3), under a random key."""
    if len(data) > LOGO_MAX_BYTES:
        raise ValidationError(
            f"The logo is larger than {_size(LOGO_MAX_BYTES)}; use a smaller image.",
            field="logo_upload",
        )
    kind = filetype.guess(data)
    if kind is None or kind.mime not in LOGO_TYPES:
        raise ValidationError(
            "Upload the logo as a PNG, JPEG, WebP or GIF image.", field="logo_upload"
        )
    stored = storage().put(io.BytesIO(data), LOGOS, field="logo_upload")
    _forget_logo(settings)
    settings.logo_file = f"{stored.key}.{LOGO_TYPES[stored.content_type]}"
    settings.logo_updated_at = utcnow()
    return settings.logo_file


def _size(count: int) -> str:
    if count >= 1024 * 1024:
        return f"{count / (1024 * 1024):g} MB"
    if count >= 1024:
        return f"{count / 1024:g} KB"
    return f"{count} bytes"


def delete_logo(settings: PortalSettings) -> None:
    _forget_logo(settings)
    settings.logo_file = None
    settings.logo_updated_at = utcnow()


def _forget_logo(settings: PortalSettings) -> None:
    key, _, _extension = (settings.logo_file or "").partition(".")
    if KEY.match(key):
        storage().delete(key)
    elif settings.logo_file:
        (_legacy_folder() / Path(settings.logo_file).name).unlink(missing_ok=True)


def logo(settings: PortalSettings) -> Logo | None:
    """The logo's bytes and type, or None when there is none (or its file is gone)."""
    key, _, extension = (settings.logo_file or "").partition(".")
    content_type = LOGO_CONTENT_TYPES.get(extension)
    if content_type is None:
        return None
    try:
        if KEY.match(key):
            with storage().open(key) as stream:
                return Logo(stream.read(LOGO_MAX_BYTES + 1), content_type)
        legacy = _legacy_folder() / Path(settings.logo_file or "").name
        return Logo(legacy.read_bytes(), content_type) if legacy.is_file() else None
    except (NotFound, OSError):
        return None


def branding_css(settings: PortalSettings) -> str:
    colour = settings.brand_colour if _COLOUR.match(settings.brand_colour or "") else "#1a5d96"
    return f":root {{ --pt-brand: {colour}; }}\n"
