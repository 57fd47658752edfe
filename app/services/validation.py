"""Checks and normalisers for values people type: email addresses, phone numbers, colours,
ZIP codes, states, and the control characters no typed value may carry.

Each returns the normalised value or raises :class:`ValidationError` with a message that says
what to fix. Forms wrap them (one rule, one place) rather than re-implementing them.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from typing import Any

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from sqlalchemy import func, select

from app.services.errors import ValidationError
from models import db

_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")

#: What a single-line value may not hold: C0 controls (tab and line breaks included), DEL,
#: C1 controls (NEL among them) and the Unicode line and paragraph separators. One of these
#: in a name ends up in a mail header, where it breaks (or forges) the message.
SINGLE_LINE_FORBIDDEN = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
#: What a multi-line value (notes, long text) may not hold: the same, less tab, LF and CR.
MULTI_LINE_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029]")
#: JSON Schema patterns saying the same (ECMA-262 syntax, as OpenAPI documents use).
SINGLE_LINE_PATTERN = "^[^\\u0000-\\u001f\\u007f-\\u009f\\u2028\\u2029]*$"
MULTI_LINE_PATTERN = (
    "^[^\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f\\u007f-\\u009f\\u2028\\u2029]*$"
)

_LINE_BREAKS = "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"


def visible(text: str | None) -> str:
    """``text`` without direction-changing or other invisible format characters (Unicode
    category Cf): they reorder or hide what a reader sees, on a page, in an email, in a PDF."""
    return "".join(char for char in (text or "") if unicodedata.category(char) != "Cf")


def check_single_line(value: str | None) -> str | None:
    """The value unchanged, or ValidationError if it holds a line break, a tab or another
    control character (see :data:`SINGLE_LINE_FORBIDDEN`)."""
    if value is None:
        return None
    found = SINGLE_LINE_FORBIDDEN.search(value)
    if found is None:
        return value
    if found.group() in _LINE_BREAKS:
        raise ValidationError("Keep this to one line: remove the line break.")
    if found.group() == "\t":
        raise ValidationError("Remove the tab: use spaces instead.")
    raise ValidationError(
        f"Remove the invisible control character (U+{ord(found.group()):04X}) from this value."
    )


def check_multi_line(value: str | None) -> str | None:
    """The value unchanged, or ValidationError if it holds a control character other than
    tab and line breaks (a NUL byte, an escape, ...)."""
    if value is None:
        return None
    found = MULTI_LINE_FORBIDDEN.search(value)
    if found is None:
        return value
    raise ValidationError(
        f"Remove the invisible control character (U+{ord(found.group()):04X}) from this text."
    )


def header_safe(value: str | None) -> str:
    """Text fit for a mail header (a display name, a subject): every control character and
    line separator becomes a space, runs of spaces one. For rows saved before values were
    checked, so that one bad name never stops a client's mail."""
    if not value:
        return ""
    return " ".join(SINGLE_LINE_FORBIDDEN.sub(" ", value).split())


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
    return _formatted_phone(value)


@functools.lru_cache(maxsize=4096)
def _formatted_phone(value: str) -> str:
    """A pure function of the text, and parsing costs a tenth of a millisecond: pages show
    the same few numbers (the office's, the agent's) on every request."""
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


_US_ZIP = re.compile(r"^\d{5}(?:-\d{4})?$")
_POSTAL_CODE = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9 -]{0,14}[A-Za-z0-9])?$")

#: Two-letter codes of the US states, the District of Columbia, the territories and the
#: armed forces' postal "states" (USPS), with their names.
US_STATES: dict[str, str] = {
    "AL": "Alabama", "AK": "Alaska", "AZ": "Arizona", "AR": "Arkansas", "CA": "California",
    "CO": "Colorado", "CT": "Connecticut", "DE": "Delaware", "DC": "District of Columbia",
    "FL": "Florida", "GA": "Georgia", "HI": "Hawaii", "ID": "Idaho", "IL": "Illinois",
    "IN": "Indiana", "IA": "Iowa", "KS": "Kansas", "KY": "Kentucky", "LA": "Louisiana",
    "ME": "Maine", "MD": "Maryland", "MA": "Massachusetts", "MI": "Michigan", "MN": "Minnesota",
    "MS": "Mississippi", "MO": "Missouri", "MT": "Montana", "NE": "Nebraska", "NV": "Nevada",
    "NH": "New Hampshire", "NJ": "New Jersey", "NM": "New Mexico", "NY": "New York",
    "NC": "North Carolina", "ND": "North Dakota", "OH": "Ohio", "OK": "Oklahoma",
    "OR": "Oregon", "PA": "Pennsylvania", "RI": "Rhode Island", "SC": "South Carolina",
    "SD": "South Dakota", "TN": "Tennessee", "TX": "Texas", "UT": "Utah", "VT": "Vermont",
    "VA": "Virginia", "WA": "Washington", "WV": "West Virginia", "WI": "Wisconsin",
    "WY": "Wyoming", "AS": "American Samoa", "GU": "Guam", "MP": "Northern Mariana Islands",
    "PR": "Puerto Rico", "VI": "U.S. Virgin Islands", "UM": "U.S. Minor Outlying Islands",
    "FM": "Micronesia", "MH": "Marshall Islands", "PW": "Palau",
    "AA": "Armed Forces Americas", "AE": "Armed Forces Europe", "AP": "Armed Forces Pacific",
}  # fmt: skip
_STATE_BY_NAME = {name.lower(): code for code, name in US_STATES.items()}


def _is_us(country: str | None) -> bool:
    return (country or "US").strip().upper() in ("US", "USA")


def normalise_postal_code(value: str | None, country: str | None = "US") -> str | None:
    """A US ZIP code (``12345`` or ``12345-6789``) for US addresses; elsewhere letters,
    digits, spaces and hyphens (``SW1A 1AA``). Empty becomes ``None``."""
    if value is None or not value.strip():
        return None
    text = " ".join(value.split())
    if _is_us(country):
        if not _US_ZIP.match(text):
            raise ValidationError("Enter a ZIP code of 5 digits, or 5 + 4 like 20500-0003.")
        return text
    if not _POSTAL_CODE.match(text):
        raise ValidationError("Enter a postal code of letters, digits, spaces and hyphens.")
    return text.upper()


def normalise_state(value: str | None, country: str | None = "US") -> str | None:
    """For US addresses the two-letter USPS code (``ca``, ``California`` -> ``CA``); elsewhere
    a region name on one line. Empty becomes ``None``."""
    if value is None or not value.strip():
        return None
    text = " ".join(value.split())
    if not _is_us(country):
        return check_single_line(text)
    code = text.upper() if text.upper() in US_STATES else _STATE_BY_NAME.get(text.lower())
    if code is None:
        raise ValidationError("Enter a US state or territory as its two-letter code, e.g. CA.")
    return code
