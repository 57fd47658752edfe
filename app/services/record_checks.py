"""The checks every record goes through, from the staff form or the portal: names, contact
details, a believable date of birth, a contact preference the record can use."""

from __future__ import annotations

from datetime import date

from app.services.errors import ValidationError
from app.services.validation import (
    normalise_email,
    normalise_phone,
    normalise_postal_code,
    normalise_state,
)
from models import ContactMethod, Record, RecordKind

EARLIEST_BIRTH_DATE = date(1900, 1, 1)


def check_birth_date(value: date | None) -> date | None:
    if value is None:
        return None
    if value > date.today():
        raise ValidationError("A date of birth cannot be in the future.", field="date_of_birth")
    if value < EARLIEST_BIRTH_DATE:
        raise ValidationError("Check the year of this date of birth.", field="date_of_birth")
    return value


def check_contact_preference(
    preferred: ContactMethod, *, email: str | None, mobile: str | None, phone: str | None
) -> None:
    """The way a client prefers to be reached must be one the record can use."""
    if preferred == ContactMethod.SMS and not mobile:
        raise ValidationError("Add a mobile number to prefer text messages.", field="mobile")
    if preferred == ContactMethod.EMAIL and not email:
        raise ValidationError("Add an email address to prefer email.", field="email")
    if preferred == ContactMethod.PHONE and not (phone or mobile):
        raise ValidationError("Add a phone number to prefer calls.", field="phone")


def clean_record(record: Record) -> Record:
    """Normalise a record in place before it is saved, or raise :class:`ValidationError`.

    Names are trimmed, email addresses and phone numbers normalised (phones to E.164 using the
    record's country), ZIP codes and states checked (US ones: 5 or 5+4 digits, a two-letter
    code), and contact preferences must be reachable.
    """
    record.first_name = (record.first_name or "").strip()
    record.last_name = (record.last_name or "").strip()
    if not record.first_name:
        raise ValidationError("Enter a first name.", field="first_name")
    if not record.last_name:
        raise ValidationError("Enter a last name.", field="last_name")
    record.company_name = (record.company_name or "").strip() or None
    record.country = (record.country or "US").strip().upper()
    for field in ("email",):
        try:
            setattr(record, field, normalise_email(getattr(record, field)))
        except ValidationError as exc:
            raise ValidationError(exc.message, field=field) from None
    for field, check in (
        ("phone", normalise_phone),
        ("mobile", normalise_phone),
        ("postal_code", normalise_postal_code),
        ("state", normalise_state),
    ):
        try:
            setattr(record, field, check(getattr(record, field), record.country))
        except ValidationError as exc:
            raise ValidationError(exc.message, field=field) from None
    check_birth_date(record.date_of_birth)
    check_contact_preference(
        record.preferred_contact or ContactMethod.EMAIL,
        email=record.email,
        mobile=record.mobile,
        phone=record.phone,
    )
    if record.kind is None:
        record.kind = RecordKind.LEAD
    return record
