"""Field types: one class per type, each knowing its settings, its WTForms field and validators,
and how its values are stored and shown; found by name (:func:`get`).

Portal forms and the staff record form are built from these per request; the WTForms form they
make is the only validator. Values are kept in Python form on the record (``date``, ``bool``,
``Decimal``) and as canonical text for custom fields (``2026-01-31``, ``true``, ``12.5``).
Adding a type adds a class to one of the modules here and to :data:`REGISTRY`.
"""

from __future__ import annotations

from app.services.field_types.base import FieldType, LongTextType, TextType
from app.services.field_types.choices import ChoiceType, YesNoType, choice_options
from app.services.field_types.contact import EmailType, PhoneType, PostalCodeType, StateType
from app.services.field_types.form_text import (
    check_form_text,
    is_multi_line,
    plain_text,
    service_validator,
)
from app.services.field_types.numbers import DateType, NumberType

__all__ = [
    "REGISTRY",
    "FieldType",
    "check_form_text",
    "choice_options",
    "get",
    "is_multi_line",
    "plain_text",
    "service_validator",
]

#: Every field type by name.
REGISTRY: dict[str, FieldType] = {
    field_type.name: field_type
    for field_type in (
        TextType(),
        LongTextType(),
        NumberType(),
        DateType(),
        YesNoType(),
        ChoiceType(),
        EmailType(),
        PhoneType(),
        PostalCodeType(),
        StateType(),
    )
}


def get(name: str) -> FieldType:
    return REGISTRY[name]
