"""What a signer hands in, checked before anything is kept: a drawn or typed signature (and
initials), the values of their own fields, and the draft a closed browser must not lose.

A drawn signature must be a PNG or JPEG by its bytes (never its name), at most
:data:`MAX_IMAGE_BYTES` and :data:`MAX_IMAGE_SIDE` pixels a side; it is decoded and written
again as a PNG, so nothing but its pixels is kept (no metadata, no trailing bytes).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from io import BytesIO
from typing import Any

import filetype
from flask_babel import gettext as _
from PIL import Image, UnidentifiedImageError

from app.services.errors import ValidationError
from models import SignatureStyle, SignField, SignFieldKind

#: The largest drawn signature or initials accepted, in bytes and in pixels a side.
MAX_IMAGE_BYTES = 512 * 1024
MAX_IMAGE_SIDE = 2000
IMAGE_TYPES = frozenset({"image/png", "image/jpeg"})
#: Longest typed signature and typed initials (the columns' sizes).
MAX_TYPED = 120
MAX_INITIALS = 20
#: Longest text a signer types into a text field.
MAX_TEXT = 500
#: Largest draft kept, as JSON (a drawn signature as a data URL fits with room to spare).
MAX_DRAFT_BYTES = 600 * 1024
TICKED = frozenset({"1", "on", "true", "yes"})
_DATA_URL = re.compile(r"^data:image/(png|jpeg);base64,([A-Za-z0-9+/=\s]*)$")


@dataclass(frozen=True)
class SignatureInput:
    """A signature (or initials) as the signer made it: ``image`` for a drawn one (PNG or
    JPEG bytes), ``text`` for a typed one."""

    style: str
    image: bytes | None = None
    text: str | None = None


@dataclass(frozen=True)
class CheckedSignature:
    style: SignatureStyle
    #: A PNG written afresh from the pixels (drawn), or None.
    image: bytes | None
    #: The typed text, or None.
    text: str | None


def image_from_data_url(value: str | None) -> bytes | None:
    """The bytes of a ``data:image/png;base64,...`` URL (what a signature pad exports), None
    when empty; ValidationError when it is something else or too large."""
    if not value:
        return None
    if len(value) > MAX_IMAGE_BYTES * 4 // 3 + 100:
        raise _too_large()
    found = _DATA_URL.match(value)
    if found is None:
        raise ValidationError(_("The signature must be a PNG or JPEG picture."), field="signature")
    try:
        return base64.b64decode("".join(found.group(2).split()), validate=True)
    except (binascii.Error, ValueError):
        raise ValidationError(
            _("The signature picture cannot be read: draw it again."), field="signature"
        ) from None


def _too_large(field: str = "signature") -> ValidationError:
    return ValidationError(
        _("The signature picture is too large: draw it again, or type your name."), field=field
    )


def clean_image(data: bytes, *, field: str = "signature") -> bytes:
    """A drawn signature as a fresh PNG of its pixels; refused unless a PNG or JPEG by its
    bytes, within the size limits, and not blank."""
    if len(data) > MAX_IMAGE_BYTES:
        raise _too_large(field)
    kind = filetype.guess(data[:8192])
    if kind is None or kind.mime not in IMAGE_TYPES:
        raise ValidationError(_("The signature must be a PNG or JPEG picture."), field=field)
    try:
        with Image.open(BytesIO(data)) as image:
            if image.width > MAX_IMAGE_SIDE or image.height > MAX_IMAGE_SIDE:
                raise _too_large(field)
            image.load()
            pixels = image.convert("RGBA")
    except (OSError, ValueError, Image.DecompressionBombError, UnidentifiedImageError):
        raise ValidationError(
            _("The signature picture cannot be read: draw it again."), field=field
        ) from None
    ink = _ink_box(pixels)
    if ink is None:
        raise ValidationError(_("Draw your signature in the box."), field=field)
    # Only the ink is kept (with a little paper round it): it fills its place on the page,
    # and a huge canvas with a dot on it is not stored as a huge picture.
    left, top, right, bottom = ink
    margin = 4
    pixels = pixels.crop(
        (
            max(0, left - margin),
            max(0, top - margin),
            min(pixels.width, right + margin),
            min(pixels.height, bottom + margin),
        )
    )
    out = BytesIO()
    pixels.save(out, format="PNG", optimize=True)
    return out.getvalue()


def _ink_box(image: Image.Image) -> tuple[int, int, int, int] | None:
    """The box around everything drawn (pixels both visible and darker than the paper), or
    None when nothing is."""
    white = Image.new("RGBA", image.size, (255, 255, 255, 255))
    grey = Image.alpha_composite(white, image).convert("L")
    return grey.point(lambda value: 255 if value < 200 else 0).getbbox()


def one_line(text: str | None) -> str:
    """Text as one line: spaces collapsed, control and invisible format characters (which
    could reorder what a reader sees) left out."""
    visible = "".join(
        char
        for char in (text or "")
        if unicodedata.category(char) not in ("Cc", "Cf") or char.isspace()
    )
    return " ".join(visible.split())


def clean_typed(text: str | None, *, limit: int, field: str) -> str:
    """A typed signature or initials: one line, spaces collapsed, 1 to ``limit`` characters."""
    value = one_line(text)
    if not value:
        raise ValidationError(_("Type your name to sign."), field=field)
    if len(value) > limit:
        raise ValidationError(
            _("Keep it under %(count)d characters.", count=limit + 1), field=field
        )
    return value


def check_signature(
    given: SignatureInput | None, *, initials: bool = False
) -> CheckedSignature | None:
    """A signature (or initials) checked and cleaned; None when none was given."""
    if given is None:
        return None
    field = "initials" if initials else "signature"
    try:
        style = SignatureStyle(given.style)
    except ValueError:
        raise ValidationError(_("Draw or type your signature."), field=field) from None
    if style == SignatureStyle.DRAWN:
        if not given.image:
            raise ValidationError(_("Draw your signature in the box."), field=field)
        return CheckedSignature(style, clean_image(given.image, field=field), None)
    limit = MAX_INITIALS if initials else MAX_TYPED
    return CheckedSignature(style, None, clean_typed(given.text, limit=limit, field=field))


# -- fields ------------------------------------------------------------------------------------


def _key(raw: object) -> int | None:
    try:
        return int(str(raw))
    except ValueError:
        return None


def clean_value(field: SignField, raw: object) -> str:
    """What a signer put in one of their fields: a checkbox is "1" or ""; text is one line
    of at most :data:`MAX_TEXT` characters."""
    text = "" if raw is None or isinstance(raw, dict | list) else str(raw)
    if field.kind == SignFieldKind.CHECKBOX:
        return "1" if text.strip().lower() in TICKED else ""
    value = one_line(text)
    if len(value) > MAX_TEXT:
        raise ValidationError(
            _(
                "%(label)s: keep it under %(count)d characters.",
                label=field.label or _("Text"),
                count=MAX_TEXT + 1,
            ),
            field=f"field-{field.id}",
        )
    return value


def fillable(fields: Sequence[SignField]) -> list[SignField]:
    """The fields a signer fills in themselves (text and checkboxes)."""
    return [f for f in fields if f.kind in (SignFieldKind.TEXT, SignFieldKind.CHECKBOX)]


def clean_values(fields: Sequence[SignField], values: Mapping[Any, object]) -> dict[int, str]:
    """The signer's values for their own text and checkbox fields, by field id; values for
    any other field are left out. A required field left empty is refused."""
    given = {_key(key): value for key, value in values.items()}
    cleaned: dict[int, str] = {}
    for field in fillable(fields):
        value = clean_value(field, given.get(field.id))
        if field.required and not value:
            message = (
                _("Tick the box: %(label)s", label=field.label)
                if field.kind == SignFieldKind.CHECKBOX and field.label
                else _("Tick the required box.")
                if field.kind == SignFieldKind.CHECKBOX
                else _("Fill in %(label)s.", label=field.label)
                if field.label
                else _("Fill in every required field.")
            )
            raise ValidationError(message, field=f"field-{field.id}")
        cleaned[field.id] = value
    return cleaned


# -- drafts ------------------------------------------------------------------------------------


def _draft_signature(raw: object) -> dict[str, str] | None:
    if not isinstance(raw, dict):
        return None
    style = raw.get("style")
    if style not in (SignatureStyle.DRAWN.value, SignatureStyle.TYPED.value):
        return None
    kept = {"style": str(style)}
    text = raw.get("text")
    if isinstance(text, str):
        kept["text"] = " ".join(text.split())[:MAX_TYPED]
    image = raw.get("image")
    if isinstance(image, str) and _DATA_URL.match(image[:40] + "A"):
        kept["image"] = image
    return kept


def clean_draft(fields: Sequence[SignField], data: Mapping[str, Any]) -> dict[str, Any]:
    """What may be kept of a half-finished signing: values of the signer's own text and
    checkbox fields (nothing else), and the signature and initials so far. Refused when its
    JSON is larger than :data:`MAX_DRAFT_BYTES`."""
    own = {field.id: field for field in fillable(fields)}
    values: dict[str, str] = {}
    raw_fields = data.get("fields")
    if isinstance(raw_fields, dict):
        for key, raw in raw_fields.items():
            field = own.get(_key(key) or 0)
            if field is not None and not isinstance(raw, dict | list):
                text = "" if raw is None else str(raw)
                values[str(field.id)] = (
                    clean_value(field, text)
                    if field.kind == SignFieldKind.CHECKBOX
                    else text[:MAX_TEXT]
                )
    draft: dict[str, Any] = {"fields": values}
    for name in ("signature", "initials"):
        found = _draft_signature(data.get(name))
        if found is not None:
            draft[name] = found
    if len(json.dumps(draft)) > MAX_DRAFT_BYTES:
        raise ValidationError(
            _("Too much to keep as a draft: draw the signature again, smaller."),
            field="signature",
        )
    return draft
