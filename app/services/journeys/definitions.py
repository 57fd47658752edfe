"""What admins save about a journey, checked and tidied (admin views call these in their
``on_model_change``), and the copy of a journey a visitor's session keeps.

A journey's ``version`` goes up whenever it or one of its steps or fields changes; a session
keeps the version it started on and a :func:`snapshot` of the journey as it was, so an admin
editing it while visitors are halfway changes nothing for them. The sites allowed to embed a
journey are read from the journey itself (:func:`origins`), never from a snapshot: removing a
site takes effect at once (the redirect and the embedding sites are checked in
:mod:`.addresses`, re-exported here).
"""

from __future__ import annotations

import re
from typing import Any

import nh3
from flask_babel import gettext as _
from sqlalchemy import func, inspect, select

from app.services import question_forms
from app.services.errors import NotFound, ValidationError
from app.services.journeys.addresses import (
    allowed_host,
    allowed_redirect,
    check_redirect,
    origins,
    parse_origins,
)
from app.services.portal_settings import BANNER_TAGS
from app.services.validation import check_multi_line, check_single_line, visible
from models import Journey, JourneyField, JourneyStep, SignerRole, StepKind, User, db

__all__ = [
    "allowed_host",
    "allowed_redirect",
    "bump_version",
    "check_redirect",
    "clean_field",
    "clean_journey",
    "clean_slug",
    "clean_step",
    "get_active",
    "origins",
    "parse_origins",
    "sanitize_rich_text",
    "snapshot",
]

#: lower-case letters, digits and single hyphens between them.
SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
SLUG_LENGTH = range(3, 61)
#: Slugs that are, or could become, addresses of their own under /f/.
RESERVED_SLUGS = frozenset(
    {"assets", "static", "api", "admin", "embed", "new", "resume", "s", "session", "sessions"}
)
#: The numbers a journey may set (the table's CHECK constraints say the same).
RANGES = (
    ("pin_minutes", 1, 1440, "A PIN's validity must be between 1 and 1,440 minutes."),
    ("pin_attempts", 1, 20, "PIN attempts must be between 1 and 20."),
    ("resume_days", 0, 90, "Resume days must be between 0 and 90."),
)
#: Formatting the opening and closing screens may keep: the portal banner's, and headings.
RICH_TAGS = BANNER_TAGS | {"h2", "h3", "h4", "blockquote"}
RICH_TEXT_MAX = 20_000
#: A file slot of an upload step.
FILE = "file"


def sanitize_rich_text(html: str | None) -> str:
    """Keep simple formatting, headings and links; drop scripts, styles, handlers, images and
    odd URL schemes."""
    return nh3.clean(
        html or "",
        tags=RICH_TAGS,
        attributes={"a": {"href", "title"}},
        url_schemes={"http", "https", "mailto", "tel"},
        link_rel="noopener noreferrer",
    ).strip()


# -- versions ---------------------------------------------------------------------------------

#: Columns whose change is not a change of what visitors go through.
_BOOKKEEPING = frozenset({"version", "created_at", "updated_at"})


def _changed(item: Any) -> bool:
    state = inspect(item)
    if state.transient or state.pending:
        return True
    collections = {r.key for r in state.mapper.relationships if r.uselist}
    return any(
        attr.history.has_changes()
        for attr in state.attrs
        if attr.key not in _BOOKKEEPING and attr.key not in collections
    )


def bump_version(journey: Journey) -> None:
    """The journey changed: its version goes up once per save (calling again before the
    flush changes nothing). Sessions already started keep their own copy."""
    if inspect(journey).persistent and not inspect(journey).attrs.version.history.has_changes():
        journey.version = (journey.version or 1) + 1


# -- the journey ------------------------------------------------------------------------------


def _single_line(value: str | None, field: str, *, missing: str, most: int) -> str:
    try:
        text = " ".join(visible(check_single_line(value)).split())
    except ValidationError as exc:
        raise ValidationError(exc.message, field=field) from None
    if not text:
        raise ValidationError(missing, field=field)
    if len(text) > most:
        raise ValidationError(f"Keep it to {most} characters or fewer.", field=field)
    return text


def clean_slug(journey: Journey) -> str:
    slug = (journey.slug or "").strip().lower()
    if len(slug) not in SLUG_LENGTH or not SLUG.match(slug):
        raise ValidationError(
            "The address needs 3 to 60 lower-case letters, digits and hyphens "
            "(e.g. renew-your-policy).",
            field="slug",
        )
    if slug in RESERVED_SLUGS:
        raise ValidationError(f"{slug!r} is kept for the app's own pages.", field="slug")
    query = select(Journey.id).where(func.lower(Journey.slug) == slug)
    if journey.id is not None:
        query = query.where(Journey.id != journey.id)
    with db.session.no_autoflush:
        if db.session.scalar(query) is not None:
            raise ValidationError("Another journey has this address.", field="slug")
    return slug


def clean_journey(journey: Journey) -> None:
    """Tidy a journey an admin saves, or raise ValidationError naming the field; its version
    goes up when anything changed."""
    # Nothing is flushed while checking: a flush would clear what changed, and with it
    # the reason to bump the version.
    with db.session.no_autoflush:
        journey.name = _single_line(
            journey.name, "name", missing="Give the journey a name.", most=120
        )
        journey.slug = clean_slug(journey)
        user = journey.assigned_user or (
            db.session.get(User, journey.assigned_user_id) if journey.assigned_user_id else None
        )
        if user is None or not user.active:
            raise ValidationError(
                "Choose the staff member (an active one) whose history the sessions appear in.",
                field="assigned_user",
            )
        for field, low, high, message in RANGES:
            value = getattr(journey, field)
            if value is None:  # not given: the column's default, as the insert would write
                value = Journey.__table__.c[field].default.arg
                setattr(journey, field, value)
            if not isinstance(value, int) or not low <= value <= high:
                raise ValidationError(message, field=field)
        for field in ("opening_html", "closing_html"):
            text = sanitize_rich_text(getattr(journey, field))
            if len(text) > RICH_TEXT_MAX:
                raise ValidationError("This text is too long.", field=field)
            setattr(journey, field, text)
        journey.redirect_url = check_redirect(journey.redirect_url)
        journey.embed_origins = "\n".join(parse_origins(journey.embed_origins))
        if _changed(journey):
            bump_version(journey)


# -- steps and fields -------------------------------------------------------------------------


def clean_step(step: JourneyStep) -> None:
    """Tidy a step an admin saves: a title, plain intro text, and what its kind needs (a
    signature step: a saved e-sign layout signed by one person, the visitor; one signature
    step per journey). The journey's version goes up."""
    with db.session.no_autoflush:  # see clean_journey
        step.title = _single_line(step.title, "title", missing="Give the step a title.", most=120)
        try:
            step.intro = (check_multi_line(visible(step.intro)) or "").strip()
        except ValidationError as exc:
            raise ValidationError(exc.message, field="intro") from None
        try:
            step.kind = StepKind(step.kind)
        except ValueError:
            raise ValidationError("Choose the kind of step.", field="kind") from None
        if step.kind == StepKind.SIGN:
            template = step.sign_template
            if template is None:
                raise ValidationError(
                    "Choose the saved e-sign layout to sign.", field="sign_template"
                )
            if list(template.signer_roles) != [SignerRole.PRIMARY.value]:
                raise ValidationError(
                    f"The saved layout {template.name} has more than one signer: a journey's "
                    "visitor signs alone.",
                    field="sign_template",
                )
            journey = step.journey
            others = [s for s in (journey.steps if journey else []) if s is not step]
            if any(s.kind == StepKind.SIGN for s in others):
                raise ValidationError("A journey has one signature step at most.", field="kind")
        else:
            step.sign_template = None
            step.sign_template_id = None
        if step.kind in (StepKind.SIGN, StepKind.REVIEW) and [
            f for f in step.fields if not f.archived
        ]:
            raise ValidationError("This kind of step has no questions or slots.", field="kind")
        if step.journey is not None and _changed(step):
            bump_version(step.journey)


def clean_field(field: JourneyField) -> None:
    """Tidy a question of a form step (a field type of the survey questions, checked the same
    way) or a slot of an upload step (type "file": a label, required or not). The journey's
    version goes up."""
    with db.session.no_autoflush:  # see clean_journey
        step = field.step
        if step is None or step.kind not in (StepKind.FORM, StepKind.UPLOAD):
            raise ValidationError(
                "Only form and upload steps have questions or slots.", field="step"
            )
        field.help_text = (visible(field.help_text) or "").strip()
        if step.kind == StepKind.UPLOAD:
            field.field_type = field.field_type or FILE
            question_forms.check_row(
                field,
                {},
                (FILE,),
                wrong_type="An upload step's slots are files.",
                missing_label="Name the slot (e.g. Front of driver's licence).",
            )
        else:
            question_forms.check_row(
                field,
                field.settings or {},
                question_forms.QUESTION_TYPES,
                wrong_type="Choose one of the question types offered.",
                missing_label="Give the question.",
            )
        if len(field.label) > 200:
            raise ValidationError("Keep it to 200 characters or fewer.", field="label")
        if step.journey is not None and _changed(field):
            bump_version(step.journey)


# -- what a session keeps ---------------------------------------------------------------------


def _field(field: JourneyField) -> dict[str, Any]:
    return {
        "id": field.id,
        "label": field.label,
        "help_text": field.help_text or "",
        "field_type": field.field_type,
        "settings": dict(field.settings or {}),
        "required": bool(field.required),
    }


def _step(index: int, step: JourneyStep) -> dict[str, Any]:
    item: dict[str, Any] = {
        "index": index,
        "id": step.id,
        "kind": StepKind(step.kind).value,
        "title": step.title,
        "intro": step.intro or "",
        "fields": [_field(f) for f in step.fields if not f.archived],
    }
    if step.kind == StepKind.SIGN:
        if step.sign_template is None:
            raise ValidationError(_("This journey is not ready: ask the office."))
        item["sign_template_id"] = step.sign_template.id
        item["sign_template_name"] = step.sign_template.name
    return item


def snapshot(journey: Journey) -> dict[str, Any]:
    """The journey as a session keeps it (plain JSON): its settings and its steps in order,
    archived questions left out. A journey without steps is refused."""
    if not journey.steps:
        raise ValidationError(_("This journey is not ready: ask the office."))
    return {
        "name": journey.name,
        "slug": journey.slug,
        "version": journey.version,
        "closing_html": journey.closing_html or "",
        "send_copy": bool(journey.send_copy),
        "redirect_url": journey.redirect_url or None,
        "resume_days": journey.resume_days,
        "pin_minutes": journey.pin_minutes,
        "pin_attempts": journey.pin_attempts,
        "assigned_user_id": journey.assigned_user_id,
        "steps": [_step(index, step) for index, step in enumerate(journey.steps)],
    }


def get_active(slug: str) -> Journey:
    """The journey at /f/<slug> (inactive ones too: the page says it is closed), or
    NotFound."""
    journey = db.session.scalar(select(Journey).where(Journey.slug == (slug or "").lower()))
    if journey is None:
        raise NotFound(_("This page does not exist."))
    return journey
