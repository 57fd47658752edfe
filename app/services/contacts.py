"""Contacts of a record: co-applicant and contact persons."""

from __future__ import annotations

from sqlalchemy import select

from app.services.errors import ValidationError
from app.services.record_checks import check_birth_date
from app.services.validation import normalise_email, normalise_phone
from models import Contact, ContactRole, Record, db


def clean_contact(contact: Contact, country: str = "US") -> Contact:
    contact.first_name = (contact.first_name or "").strip()
    contact.last_name = (contact.last_name or "").strip()
    if not contact.first_name or not contact.last_name:
        raise ValidationError("Each contact needs a first and a last name.")
    try:
        contact.email = normalise_email(contact.email)
        contact.phone = normalise_phone(contact.phone, country)
        check_birth_date(contact.date_of_birth)
    except ValidationError as exc:
        raise ValidationError(f"{contact.full_name}: {exc.message}") from None
    contact.relationship_to_record = (contact.relationship_to_record or "").strip() or None
    return contact


def clean_contacts(record: Record) -> None:
    """Check every contact of a record; a record has at most one co-applicant."""
    co_applicants = [c for c in record.contacts if c.role == ContactRole.CO_APPLICANT]
    if len(co_applicants) > 1:
        raise ValidationError("A record has one co-applicant; make the others contact persons.")
    for contact in record.contacts:
        clean_contact(contact, record.country or "US")


def co_applicant(record: Record) -> Contact | None:
    return next((c for c in record.contacts if c.role == ContactRole.CO_APPLICANT), None)


def of_record(record: Record) -> list[Contact]:
    """The people on a record, as the client's portal home lists them: co-applicant first."""
    return list(
        db.session.scalars(
            select(Contact).where(Contact.record_id == record.id).order_by(Contact.role, Contact.id)
        )
    )
