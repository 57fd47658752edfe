"""The built-in portal fields: the record's (and the co-applicant's) own attributes a portal
can show, each with its section, type, settings and default mode; and the portal's sections.

Data only: :mod:`app.services.portal_fields` keeps the admins' configuration of them and
:mod:`app.services.field_values` reads and writes their values.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from models import Channel, ContactMethod, FieldMode


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    event_key: str
    intro: str = ""


SECTIONS: tuple[Section, ...] = (
    Section("personal", "Personal details", "portal.profile.updated"),
    Section("contact", "Phone and email", "portal.profile.updated"),
    Section("address", "Address", "portal.profile.updated"),
    Section(
        "preferences",
        "Contact preferences",
        "portal.contact_preferences.updated",
        "How we may contact you.",
    ),
    Section(
        "co_applicant",
        "Co-applicant",
        "portal.co_applicant.updated",
        "The person who applies with you, if anyone.",
    ),
    Section("additional", "More about you", "portal.profile.updated"),
)
SECTION_BY_KEY = {section.key: section for section in SECTIONS}


@dataclass(frozen=True)
class Builtin:
    """A record (or co-applicant) attribute offered to the portal."""

    key: str
    label: str
    section: str
    type: str
    target: str  # "record" or "co_applicant"
    attribute: str
    mode: FieldMode
    settings: dict[str, Any] = field(default_factory=dict)
    #: The data itself cannot be empty (a record always has names).
    always_required: bool = False


_METHODS = {"options": [(m.value, m.label) for m in ContactMethod]}
_BIRTH = {"min": "1900-01-01", "max": "today"}

BUILTIN: tuple[Builtin, ...] = (
    Builtin(
        "first_name",
        "First name",
        "personal",
        "text",
        "record",
        "first_name",
        FieldMode.APPROVAL,
        {"max_length": 80},
        always_required=True,
    ),
    Builtin(
        "last_name",
        "Last name",
        "personal",
        "text",
        "record",
        "last_name",
        FieldMode.APPROVAL,
        {"max_length": 80},
        always_required=True,
    ),
    Builtin(
        "company_name",
        "Company",
        "personal",
        "text",
        "record",
        "company_name",
        FieldMode.READ_ONLY,
        {"max_length": 160},
    ),
    Builtin(
        "date_of_birth",
        "Date of birth",
        "personal",
        "date",
        "record",
        "date_of_birth",
        FieldMode.READ_ONLY,
        _BIRTH,
    ),
    Builtin("email", "Email address", "contact", "email", "record", "email", FieldMode.APPROVAL),
    Builtin("phone", "Phone", "contact", "phone", "record", "phone", FieldMode.OPTIONAL),
    Builtin("mobile", "Mobile phone", "contact", "phone", "record", "mobile", FieldMode.OPTIONAL),
    Builtin(
        "address_line1",
        "Street address",
        "address",
        "text",
        "record",
        "address_line1",
        FieldMode.OPTIONAL,
        {"max_length": 160},
    ),
    Builtin(
        "address_line2",
        "Apartment, suite (optional)",
        "address",
        "text",
        "record",
        "address_line2",
        FieldMode.OPTIONAL,
        {"max_length": 160},
    ),
    Builtin(
        "city", "City", "address", "text", "record", "city", FieldMode.OPTIONAL, {"max_length": 80}
    ),
    Builtin(
        "state",
        "State",
        "address",
        "state",
        "record",
        "state",
        FieldMode.OPTIONAL,
    ),
    Builtin(
        "postal_code",
        "ZIP code",
        "address",
        "postal_code",
        "record",
        "postal_code",
        FieldMode.OPTIONAL,
    ),
    Builtin(
        "preferred_contact",
        "I prefer to be contacted by",
        "preferences",
        "choice",
        "record",
        "preferred_contact",
        FieldMode.OPTIONAL,
        _METHODS,
        always_required=True,
    ),
    Builtin(
        "email_opt_in",
        "Email me news and reminders",
        "preferences",
        "yes_no",
        "record",
        "email_opt_in",
        FieldMode.OPTIONAL,
    ),
    Builtin(
        "sms_opt_in",
        "Text me reminders",
        "preferences",
        "yes_no",
        "record",
        "sms_opt_in",
        FieldMode.OPTIONAL,
    ),
    Builtin(
        "co_applicant_first_name",
        "First name",
        "co_applicant",
        "text",
        "co_applicant",
        "first_name",
        FieldMode.OPTIONAL,
        {"max_length": 80},
    ),
    Builtin(
        "co_applicant_last_name",
        "Last name",
        "co_applicant",
        "text",
        "co_applicant",
        "last_name",
        FieldMode.OPTIONAL,
        {"max_length": 80},
    ),
    Builtin(
        "co_applicant_relationship",
        "Relationship to you",
        "co_applicant",
        "text",
        "co_applicant",
        "relationship_to_record",
        FieldMode.OPTIONAL,
        {"max_length": 40},
    ),
    Builtin(
        "co_applicant_date_of_birth",
        "Date of birth",
        "co_applicant",
        "date",
        "co_applicant",
        "date_of_birth",
        FieldMode.OPTIONAL,
        _BIRTH,
    ),
    Builtin(
        "co_applicant_email",
        "Email address",
        "co_applicant",
        "email",
        "co_applicant",
        "email",
        FieldMode.OPTIONAL,
    ),
    Builtin(
        "co_applicant_phone",
        "Phone",
        "co_applicant",
        "phone",
        "co_applicant",
        "phone",
        FieldMode.OPTIONAL,
    ),
)
BUILTIN_BY_KEY = {builtin.key: builtin for builtin in BUILTIN}


#: Fields someone signs in with: the primary applicant's email and mobile open the record's
#: own account; the co-applicant's phone opens the co-applicant's account (sign-in by text).
SIGN_IN_FIELDS: dict[str, Channel] = {
    "email": Channel.EMAIL,
    "mobile": Channel.SMS,
    "co_applicant_phone": Channel.SMS,
}
