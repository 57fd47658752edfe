"""Checks and normalisers for values people type: email addresses, phone numbers, colours.

Each returns the normalised value or raises :class:`ValidationError` with a message that says
what to fix. Forms wrap them (one rule, one place) rather than re-implementing them.
"""

from __future__ import annotations

import re
from typing import Any

import phonenumbers
from email_validator import EmailNotValidError, validate_email

from app.services.errors import ValidationError

_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")


def normalise_email(value: str | None) -> str | None:
    """A syntactically valid address, lower-cased domain; empty becomes ``None``."""
    if value is None or not value.strip():
        return None
    try:
        result = validate_email(value.strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        raise ValidationError(f"Enter a valid email address ({exc}).") from None
    return result.normalized


def normalise_phone(value: str | None, region: str | None = "US") -> str | None:
    """A phone number in E.164 (``+12025550143``); empty becomes ``None``."""
    if value is None or not value.strip():
        return None
    try:
        number = phonenumbers.parse(value, (region or "US").upper())
    except phonenumbers.NumberParseException:
        raise ValidationError(
            "Enter a phone number with its area code, e.g. (202) 555-0143 or +44 20 7946 0958."
        ) from None
    if not phonenumbers.is_possible_number(number):
        raise ValidationError("This phone number has the wrong number of digits for its country.")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def format_phone(value: str | None) -> str:
    """E.164 to the national or international form people read."""
    if not value:
        return ""
    try:
        number = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException:
        return value
    fmt = (
        phonenumbers.PhoneNumberFormat.NATIONAL
        if number.country_code == 1
        else phonenumbers.PhoneNumberFormat.INTERNATIONAL
    )
    return phonenumbers.format_number(number, fmt)


def check_unique_name(
    name: str | None,
    column: Any,
    *,
    what: str,
    max_length: int,
    exclude_id: int | None = None,
) -> str:
    """A trimmed name (inner spaces collapsed) that no other row uses, compared without regard
    to case. ``column`` is the model's name column, e.g. ``Tag.name``."""
    from sqlalchemy import func, select

    from models import db

    cleaned = " ".join((name or "").split())
    if not cleaned:
        raise ValidationError(f"A {what} needs a name.", field="name")
    if len(cleaned) > max_length:
        raise ValidationError(
            f"Keep {what} names to {max_length} characters or fewer.", field="name"
        )
    model = column.class_
    query = select(model.id).where(func.lower(column) == cleaned.lower())
    if exclude_id is not None:
        query = query.where(model.id != exclude_id)
    with db.session.no_autoflush:  # the row being saved may already be in the session
        taken = db.session.scalar(query) is not None
    if taken:
        raise ValidationError(f"There is already a {what} called {cleaned!r}.", field="name")
    return cleaned


def check_colour(value: str | None) -> str:
    if not value or not _COLOUR.match(value.strip()):
        raise ValidationError("Enter a colour as #rrggbb, e.g. #2a7ab0.")
    return value.strip().lower()
