"""The portal's fields as configured, and their values on a record.

:func:`layout` resolves the admins' field rows (:mod:`app.services.portal_fields`) against the
built-in catalogue (:mod:`app.services.builtin_fields`) and the custom fields, once per
request. :class:`Values` reads a record's values of those fields; :func:`set_value` is the one
place a field's value is written (a custom field's through :mod:`app.services.custom_fields`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select

from app.services import custom_fields, field_types
from app.services.builtin_fields import BUILTIN_BY_KEY, SECTIONS, SIGN_IN_FIELDS, Builtin
from app.services.errors import ValidationError
from app.services.portal_credentials import contact_account, primary_account
from app.services.records import check_birth_date, check_contact_preference
from models import (
    AccountStatus,
    ChangeStatus,
    Contact,
    ContactMethod,
    ContactRole,
    CustomField,
    CustomFieldValue,
    FieldMode,
    PendingChange,
    PortalAccount,
    PortalField,
    Record,
    db,
)

EDITABLE = (FieldMode.OPTIONAL, FieldMode.MANDATORY, FieldMode.APPROVAL)
VISIBLE = (*EDITABLE, FieldMode.READ_ONLY)


@dataclass
class Field:
    """A field as configured for the portal, with what is needed to read and write it."""

    key: str
    label: str
    help_text: str
    mode: FieldMode
    section: str
    position: int
    type: field_types.FieldType
    settings: dict[str, Any]
    required: bool
    builtin: Builtin | None = None
    custom: CustomField | None = None

    @property
    def editable(self) -> bool:
        return self.mode in EDITABLE

    @property
    def visible(self) -> bool:
        return self.mode in VISIBLE

    @property
    def needs_approval(self) -> bool:
        return self.mode == FieldMode.APPROVAL


def layout() -> dict[str, list[Field]]:
    """Every configured field by section, in order (two queries)."""
    rows = db.session.scalars(select(PortalField).order_by(PortalField.position, PortalField.id))
    customs = {c.id: c for c in db.session.scalars(select(CustomField))}
    by_section: dict[str, list[Field]] = {section.key: [] for section in SECTIONS}
    for row in rows:
        resolved = _resolve(row, customs)
        if resolved is not None and resolved.section in by_section:
            by_section[resolved.section].append(resolved)
    return by_section


def _resolve(row: PortalField, customs: dict[int, CustomField]) -> Field | None:
    builtin = BUILTIN_BY_KEY.get(row.key)
    if builtin is not None:
        mode = row.mode
        return Field(
            row.key,
            row.label,
            row.help_text,
            mode,
            row.section,
            row.position,
            field_types.get(builtin.type),
            builtin.settings,
            required=mode == FieldMode.MANDATORY or builtin.always_required,
            builtin=builtin,
        )
    custom = customs.get(row.custom_field_id or 0)
    if custom is None or custom.archived:
        return None
    return Field(
        row.key,
        row.label,
        row.help_text or custom.help_text,
        row.mode,
        row.section,
        row.position,
        field_types.get(custom.field_type.value),
        custom.settings or {},
        required=row.mode == FieldMode.MANDATORY or custom.required,
        custom=custom,
    )


def find_field(key: str) -> Field | None:
    """The configured field of this key, in whichever section it is."""
    return next((f for fields in layout().values() for f in fields if f.key == key), None)


# -- values -----------------------------------------------------------------------------------


@dataclass
class Values:
    record: Record
    co_applicant: Contact | None
    custom: dict[int, str]
    pending: dict[str, PendingChange]

    def get(self, item: Field) -> Any:
        if item.builtin is not None:
            target = self.record if item.builtin.target == "record" else self.co_applicant
            return getattr(target, item.builtin.attribute) if target is not None else None
        assert item.custom is not None
        return item.type.from_storage(self.custom.get(item.custom.id))


def values_for(record: Record) -> Values:
    co_applicant = db.session.scalar(
        select(Contact).where(
            Contact.record_id == record.id, Contact.role == ContactRole.CO_APPLICANT
        )
    )
    custom = {
        value.custom_field_id: value.value
        for value in db.session.scalars(
            select(CustomFieldValue).where(CustomFieldValue.record_id == record.id)
        )
    }
    pending = {
        change.field_key: change
        for change in db.session.scalars(
            select(PendingChange).where(
                PendingChange.record_id == record.id, PendingChange.status == ChangeStatus.PENDING
            )
        )
    }
    return Values(record, co_applicant, custom, pending)


def comparable(value: Any) -> Any:
    if isinstance(value, str):
        return value.strip() or None
    if hasattr(value, "value") and not isinstance(value, Decimal | date):
        return value.value
    return value


def set_value(values: Values, item: Field, value: Any) -> None:
    if item.builtin is not None:
        if item.builtin.target == "co_applicant":
            if values.co_applicant is None:
                values.co_applicant = Contact(
                    record_id=values.record.id,
                    role=ContactRole.CO_APPLICANT,
                    first_name="",
                    last_name="",
                )
                db.session.add(values.co_applicant)
            target: Any = values.co_applicant
        else:
            target = values.record
        if item.builtin.attribute == "preferred_contact" and value is not None:
            value = ContactMethod(value)
        if isinstance(value, str):
            value = value.strip() or None
        if value is None and item.builtin.attribute in ("first_name", "last_name"):
            value = ""
        setattr(target, item.builtin.attribute, value)
        return
    assert item.custom is not None
    values.custom[item.custom.id] = custom_fields.set_value(values.record, item.custom, value) or ""


def sign_in_owner(item: Field, values: Values) -> PortalAccount | None:
    """The account that signs in with this field's value, if it is a sign-in field and that
    account has (or is invited to) portal access."""
    if item.key not in SIGN_IN_FIELDS or item.builtin is None:
        return None
    if item.builtin.target == "record":
        account = primary_account(values.record)
    elif values.co_applicant is not None and values.co_applicant.id is not None:
        account = contact_account(values.co_applicant)
    else:
        account = None
    if account is None or account.status == AccountStatus.DISABLED:
        return None
    return account


def check_sign_in_change(item: Field, values: Values, by: PortalAccount | None) -> bool:
    """Whether this change of a sign-in field must wait for a code; :class:`ValidationError`
    when ``by`` may not change it at all.

    The primary applicant's email and mobile are theirs alone: a contact person signed in to
    the same portal never changes them (with a code to a number of their own choosing, that
    would hand them the account). The co-applicant's phone, once the co-applicant has portal
    access of their own, is likewise the co-applicant's alone."""
    if item.key not in SIGN_IN_FIELDS or item.builtin is None or by is None:
        return False
    if item.builtin.target == "record":
        if not by.is_primary:
            raise ValidationError(
                _(
                    "Only %(name)s can change the %(field)s used to sign in to this portal. "
                    "Ask them, or your adviser.",
                    name=values.record.full_name,
                    field=item.label.lower(),
                ),
                field=item.key,
            )
        return True
    owner = sign_in_owner(item, values)
    if owner is None:
        return False  # no portal access rides on it
    if owner.id != by.id:
        raise ValidationError(
            _(
                "%(name)s signs in to the portal with this %(field)s: only they can change "
                "it. Ask them, or your adviser.",
                name=owner.person_name,
                field=item.label.lower(),
            ),
            field=item.key,
        )
    return True


def display_value(item: Field, value: Any) -> str:
    """A value as a person reads it (labels for choices, formatted dates and phones)."""
    if item.type.name == "choice" and value not in (None, ""):
        for option_value, option_label in field_types.choice_options(item.settings):
            if option_value == comparable(value):
                return option_label
    return item.type.display(value)


def storage(item: Field, value: Any) -> str | None:
    if hasattr(value, "value") and not isinstance(value, Decimal | date):
        value = value.value
    return item.type.to_storage(value)


def check_record(record: Record) -> None:
    check_birth_date(record.date_of_birth)
    check_contact_preference(
        record.preferred_contact or ContactMethod.EMAIL,
        email=record.email,
        mobile=record.mobile,
        phone=record.phone,
    )


def json_ready(value: Any) -> Any:
    if hasattr(value, "value") and not isinstance(value, Decimal | date):
        return value.value
    return value
