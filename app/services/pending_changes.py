"""Changes that wait for staff: a client proposes a new value for a field that needs approval
(:func:`propose`), and staff approve or reject it, field by field (:func:`approve`,
:func:`reject`). The client sees each decision once, on the details page
(:func:`decisions_to_show`, :func:`acknowledge`).

While a proposal waits, the client's form shows it (:func:`shown_value`): sending it back
unchanged keeps it waiting, a new value replaces it, and the value on file withdraws it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from app.services import events
from app.services.builtin_fields import SIGN_IN_FIELDS
from app.services.contact_changes import notice_key, tell_old_contact
from app.services.errors import ValidationError
from app.services.events import Actor
from app.services.field_values import (
    Field,
    Values,
    check_record,
    comparable,
    find_field,
    set_value,
    storage,
    values_for,
)
from app.services.portal_accounts import sync_login_email
from models import ChangeStatus, PendingChange, Record, User, db, utcnow


def propose(
    record: Record,
    values: Values,
    item: Field,
    new: Any,
    old_text: str,
    new_text: str,
    actor: Actor,
) -> bool:
    """Hold the client's new value of ``item`` for staff; a newer proposal replaces an older
    one. False when it is the same proposal again (nothing changes)."""
    previous = values.pending.get(item.key)
    if previous is not None:
        if comparable(proposed_value(item, previous)) == comparable(new):
            return False
        previous.status = ChangeStatus.SUPERSEDED
    change = PendingChange(
        record_id=record.id,
        field_key=item.key,
        field_label=item.label,
        old_display=old_text,
        new_value=storage(item, new),
        new_display=new_text,
        proposed_by_account_id=actor.account_id,
        proposed_by_label=actor.label,
        status=ChangeStatus.PENDING,
    )
    db.session.add(change)
    values.pending[item.key] = change
    return True


def waiting(values: Values, item: Field) -> PendingChange | None:
    """The client's proposal of ``item`` waiting for staff, if the field needs approval."""
    return values.pending.get(item.key) if item.needs_approval else None


def proposed_value(item: Field, change: PendingChange) -> Any:
    return item.type.from_storage(change.new_value)


def shown_value(values: Values, item: Field) -> Any:
    """What the client's form shows: the proposal waiting for staff, else what is on file (so
    a section saved again sends the proposal back, not the value it would replace)."""
    change = waiting(values, item)
    return values.get(item) if change is None else proposed_value(item, change)


def withdraw(values: Values, item: Field) -> PendingChange | None:
    """The client put back the value on file: their proposal of ``item`` waiting is dropped
    (returned, for the log and the message; None when there was none)."""
    existing = waiting(values, item)
    if existing is not None:
        existing.status = ChangeStatus.SUPERSEDED
        del values.pending[item.key]
    return existing


def approve(change: PendingChange, by: User) -> None:
    """Write the proposed value to the record and tell the client."""
    if change.status != ChangeStatus.PENDING:
        raise ValidationError("This change was already decided.")
    item = find_field(change.field_key)
    if item is None:
        raise ValidationError(
            f"The field {change.field_label} no longer exists; reject the change instead."
        )
    values = values_for(change.record)
    old_value = storage(item, values.get(item))
    set_value(values, item, item.type.from_storage(change.new_value))
    if item.builtin is not None and item.builtin.target == "record":
        check_record(change.record)
    if item.key in SIGN_IN_FIELDS and old_value != change.new_value:
        tell_old_contact(
            change.record,
            key=notice_key(change.record_id, item.key, approval_id=change.id),
            channel=SIGN_IN_FIELDS[item.key],
            old_value=old_value,
            field_label=change.field_label,
            new_display=change.new_display,
            person_name=change.record.full_name,
        )
    change.status = ChangeStatus.APPROVED
    change.decided_at = utcnow()
    change.decided_by_id = by.id
    events.emit(
        "staff.change.approved",
        actor=Actor.staff(by),
        record=change.record,
        details={"changes": {change.field_label: [change.old_display, change.new_display]}},
    )
    if change.field_key == "email":
        sync_login_email(change.record)


def reject(change: PendingChange, by: User, reason: str | None = None) -> None:
    """Turn the proposal down (with a reason the client sees, if given)."""
    if change.status != ChangeStatus.PENDING:
        raise ValidationError("This change was already decided.")
    change.status = ChangeStatus.REJECTED
    change.decided_at = utcnow()
    change.decided_by_id = by.id
    change.reason = (reason or "").strip() or None
    details: dict[str, Any] = {
        "changes": {change.field_label: [change.old_display, change.new_display]}
    }
    if change.reason:
        details["reason"] = change.reason
    events.emit(
        "staff.change.rejected", actor=Actor.staff(by), record=change.record, details=details
    )


def decide(change: PendingChange, by: User, *, approved: bool, reason: str | None = None) -> None:
    """A staff member's decision on one change: :func:`approve` or :func:`reject`."""
    if approved:
        approve(change, by)
    else:
        reject(change, by, reason)


def decisions_to_show(record: Record) -> list[PendingChange]:
    """Decisions the client has not seen yet (shown once on the details page)."""
    return list(
        db.session.scalars(
            select(PendingChange)
            .where(
                PendingChange.record_id == record.id,
                PendingChange.status.in_((ChangeStatus.APPROVED, ChangeStatus.REJECTED)),
                PendingChange.acknowledged.is_(False),
            )
            .order_by(PendingChange.decided_at)
        )
    )


def acknowledge(changes: list[PendingChange]) -> None:
    for change in changes:
        change.acknowledged = True
