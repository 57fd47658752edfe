"""Field places on a PDF's pages, checked: what staff placed in the browser (or a saved
layout holds) becomes :class:`FieldSpec`s, or a sentence saying what to fix.

Places are fractions of their page (0 to 1, origin at the top left), so they do not depend
on the size a page image was drawn at.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from flask_babel import gettext as _

from app.services.errors import ValidationError
from models import SignFieldKind

#: The most fields one request may carry.
MAX_FIELDS = 200
#: How far past a page's edge a field may reach (rounding in the browser), as a fraction.
SLACK = 0.0001
#: Field labels are cut to this many characters.
MAX_LABEL = 120


@dataclass(frozen=True)
class FieldSpec:
    page: int
    x: float
    y: float
    width: float
    height: float
    kind: SignFieldKind
    #: Index into the request's (or the saved layout's) list of signers.
    signer: int
    required: bool = True
    label: str = ""

    def as_dict(self) -> dict[str, Any]:
        """As a saved layout keeps it (JSON)."""
        data = asdict(self)
        data["kind"] = self.kind.value
        return data


def _refuse(message: str) -> ValidationError:
    return ValidationError(message, field="fields")


def _number(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise _refuse(_("A field's %(what)s is not a number.", what=what))
    try:
        number = float(value)
    except ValueError:
        raise _refuse(_("A field's %(what)s is not a number.", what=what)) from None
    if not math.isfinite(number):
        raise _refuse(_("A field's %(what)s is not a number.", what=what))
    return number


def _whole(value: Any, what: str) -> int:
    number = _number(value, what)
    if number != int(number):
        raise _refuse(_("A field's %(what)s is not a whole number.", what=what))
    return int(number)


def _flag(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)


def _one(raw: Any, pages: Sequence[Sequence[float]], signer_count: int) -> FieldSpec:
    if not isinstance(raw, dict):
        raise _refuse(_("The fields could not be read: place them again."))
    try:
        kind = SignFieldKind(str(raw.get("kind", "")))
    except ValueError:
        raise _refuse(_("A field is of an unknown kind.")) from None
    page = _whole(raw.get("page"), "page")
    if not 0 <= page < len(pages):
        raise _refuse(_("A field is on page %(page)s, which the document lacks.", page=page + 1))
    x, y = _number(raw.get("x"), "place"), _number(raw.get("y"), "place")
    width, height = _number(raw.get("width"), "size"), _number(raw.get("height"), "size")
    if width <= 0 or height <= 0:
        raise _refuse(_("A field on page %(page)s has no size.", page=page + 1))
    if x < 0 or y < 0 or x + width > 1 + SLACK or y + height > 1 + SLACK:
        raise _refuse(_("A field on page %(page)s lies off the page.", page=page + 1))
    signer = _whole(raw.get("signer"), "signer")
    if not 0 <= signer < signer_count:
        raise _refuse(_("A field on page %(page)s has no signer: choose one.", page=page + 1))
    label = " ".join(str(raw.get("label") or "").split())[:MAX_LABEL]
    return FieldSpec(
        page=page,
        x=x,
        y=y,
        width=min(width, 1 - x),
        height=min(height, 1 - y),
        kind=kind,
        signer=signer,
        required=_flag(raw.get("required", True)),
        label=label,
    )


def parse_fields(
    raw: list[dict[str, Any]] | str, *, pages: Sequence[Sequence[float]], signer_count: int
) -> list[FieldSpec]:
    """The fields in ``raw`` (a list of objects, or that list as JSON), each checked against
    the document's ``pages`` (``[[width, height], ...]``) and the number of signers. The first
    field wrong is refused with a sentence (ValidationError, field ``fields``)."""
    if isinstance(raw, str):
        try:
            raw = json.loads(raw or "[]")
        except ValueError:
            raise _refuse(_("The fields could not be read: place them again.")) from None
    if not isinstance(raw, list):
        raise _refuse(_("The fields could not be read: place them again."))
    if len(raw) > MAX_FIELDS:
        raise _refuse(_("Place at most %(count)s fields.", count=MAX_FIELDS))
    return [_one(item, pages, signer_count) for item in raw]


def check_each_signer_signs(fields: Sequence[FieldSpec], signer_count: int) -> None:
    """Every signer has at least one signature field, or a sentence names the first who has
    none (counting from 1, in signing order)."""
    signing = {field.signer for field in fields if field.kind == SignFieldKind.SIGNATURE}
    for index in range(signer_count):
        if index not in signing:
            raise _refuse(
                _("Signer %(number)s has no signature field: place one.", number=index + 1)
            )
