"""Custom fields: admins define them, staff fill them on records, the portal shows them when
a portal field row says so."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import func, select
from wtforms.fields.core import UnboundField

from app.services import field_types
from app.services.errors import ValidationError
from models import (
    CustomField,
    CustomFieldValue,
    FieldMode,
    PortalField,
    Record,
    db,
)

_KEY = re.compile(r"^[a-z][a-z0-9_]{0,59}$")
#: A custom field's key in forms and in the portal's field rows: ``custom_<key>``.
CUSTOM_PREFIX = "custom_"


def custom_key(field: CustomField) -> str:
    return f"{CUSTOM_PREFIX}{field.key}"


def check_custom_field(field: CustomField, *, is_new: bool) -> CustomField:
    """Tidy and check a custom field before it is saved, or raise ValidationError."""
    field.label = " ".join((field.label or "").split())
    if not field.label:
        raise ValidationError("Give the field a label.", field="label")
    if is_new:
        field.key = (field.key or "").strip().lower()
        if not _KEY.match(field.key):
            raise ValidationError(
                "The key starts with a letter and has only lower-case letters, digits and "
                "underscores, e.g. pet_name.",
                field="key",
            )
        with db.session.no_autoflush:
            taken = db.session.scalar(select(CustomField.id).where(CustomField.key == field.key))
        if taken is not None:
            raise ValidationError("Another custom field has this key.", field="key")
    field.settings = field_types.get(field.field_type.value).check_settings(field.settings or {})
    return field


def save(field: CustomField, settings: dict[str, Any], *, is_new: bool) -> CustomField:
    """An admin's definition of a custom field, as the form gave it: settings tidied for its
    type (empty ones left out), checked (:func:`check_custom_field`); a new field gets its
    portal field row (:func:`add_portal_row`)."""
    field.settings = {name: value for name, value in settings.items() if value not in (None, "")}
    check_custom_field(field, is_new=is_new)
    field.help_text = (field.help_text or "").strip()
    if is_new:
        add_portal_row(field)
    return field


def add_portal_row(field: CustomField) -> PortalField:
    """Every custom field gets a portal field row: hidden until an admin decides otherwise."""
    row = PortalField(
        key=custom_key(field),
        section="additional",
        label=field.label,
        help_text="",
        mode=FieldMode.HIDDEN,
        position=1000,
        custom_field=field,
    )
    db.session.add(row)
    db.session.flush()
    return row


def values_in_use(field: CustomField) -> int:
    return (
        db.session.scalar(
            select(func.count())
            .select_from(CustomFieldValue)
            .where(CustomFieldValue.custom_field_id == field.id)
        )
        or 0
    )


def check_delete(field: CustomField) -> None:
    """A field that records hold values for is archived, not deleted."""
    count = values_in_use(field)
    if count:
        raise ValidationError(
            f"{count} record(s) have a value for {field.label}. Tick Archived instead: the "
            "values are kept and the field disappears from forms and the portal."
        )


def active_fields() -> list[CustomField]:
    return list(
        db.session.scalars(
            select(CustomField).where(CustomField.archived.is_(False)).order_by(CustomField.label)
        )
    )


def form_name(field: CustomField) -> str:
    return f"{custom_key(field)}"


def staff_form_fields(record: Record | None) -> dict[str, UnboundField]:
    """The custom fields for the staff record form, validated by their types."""
    context = {"country": record.country if record else "US"}
    return {
        form_name(field): field_types.get(field.field_type.value).field(
            field.label, field.help_text, field.required, field.settings or {}, context
        )
        for field in active_fields()
    }


def values_of(record: Record) -> dict[CustomField, Any]:
    """The record's custom values (Python form), for every active field."""
    stored = {
        value.custom_field_id: value.value
        for value in db.session.scalars(
            select(CustomFieldValue).where(CustomFieldValue.record_id == record.id)
        )
    }
    return {
        field: field_types.get(field.field_type.value).from_storage(stored.get(field.id))
        for field in active_fields()
    }


def display_values(record: Record) -> list[tuple[str, str]]:
    return [
        (field.label, field_types.get(field.field_type.value).display(value))
        for field, value in values_of(record).items()
        if value not in (None, "")
    ]


def set_values(record: Record, values: dict[str, Any]) -> None:
    """Store values given by form name (``custom_<key>``); empty values are removed."""
    existing = {
        value.custom_field_id: value
        for value in db.session.scalars(
            select(CustomFieldValue).where(CustomFieldValue.record_id == record.id)
        )
    }
    for field in active_fields():
        name = form_name(field)
        if name in values:
            _write(record, field, values[name], existing.get(field.id))


def set_value(record: Record, field: CustomField, value: Any) -> str | None:
    """Store one field's value (Python form) on the record; empty removes it. Returns the
    text stored."""
    row = db.session.scalar(
        select(CustomFieldValue).where(
            CustomFieldValue.record_id == record.id,
            CustomFieldValue.custom_field_id == field.id,
        )
    )
    return _write(record, field, value, row)


def _write(
    record: Record, field: CustomField, value: Any, row: CustomFieldValue | None
) -> str | None:
    stored = field_types.get(field.field_type.value).to_storage(value)
    if stored is None:
        if row is not None:
            db.session.delete(row)
    elif row is None:
        db.session.add(
            CustomFieldValue(record_id=record.id, custom_field_id=field.id, value=stored)
        )
    else:
        row.value = stored
    return stored
