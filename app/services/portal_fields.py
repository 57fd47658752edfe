"""The configurable portal: which record fields clients see and edit, and how; and saving what
a client changes.

Every built-in field (:mod:`app.services.builtin_fields`) and every custom field has a
:class:`PortalField` row that admins edit: label, help text, section, order and mode
(optional, mandatory, read-only, hidden, needs approval). :func:`field_values.layout` reads the
rows once per request; :func:`portal_forms.section_form` builds the section's WTForms form from
them, and that form is the only validator; the HTML page and the JSON API both go through
:func:`save_section`. A change to a field that needs approval waits for staff
(:mod:`app.services.pending_changes`); a new sign-in email or mobile waits for its code
(:mod:`app.services.contact_changes`).

A submission that tries to set a field the client may not edit (read-only, hidden, or not in
the section) is refused as a whole: nothing is saved.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select

from app.services import contact_changes, defaults, events, pending_changes, portal_accounts
from app.services.builtin_fields import (
    BUILTIN,
    BUILTIN_BY_KEY,
    SECTION_BY_KEY,
    SIGN_IN_FIELDS,
    Section,
)
from app.services.errors import ValidationError
from app.services.events import Actor
from app.services.field_values import (
    Field,
    Values,
    check_record,
    check_sign_in_change,
    comparable,
    display_value,
    layout,
    set_value,
    storage,
    values_for,
)
from app.services.portal_forms import SectionForm
from app.services.validation import check_multi_line, check_single_line
from models import ContactChange, FieldMode, PortalAccount, PortalField, Record, db

# -- configuration ----------------------------------------------------------------------------


def _shipped() -> dict[str, dict[str, object]]:
    return {
        builtin.key: {
            "section": builtin.section,
            "label": builtin.label,
            "help_text": "",
            "mode": builtin.mode,
            "position": position * 10,
        }
        for position, builtin in enumerate(BUILTIN)
    }


def ensure_defaults() -> list[str]:
    """Create the rows of built-in fields that are missing (never touch edited ones)."""
    return defaults.restore(PortalField, "key", _shipped(), missing_only=True)


@dataclass
class RowChange:
    key: str
    label: str
    help_text: str
    section: str
    mode: str
    position: int


def update_config(changes: list[RowChange]) -> int:
    """Apply the admin's edits to the field rows; returns how many rows changed."""
    rows = {row.key: row for row in db.session.scalars(select(PortalField))}
    changed = 0
    for change in changes:
        row = rows.get(change.key)
        if row is None:
            continue
        label = " ".join((change.label or "").split())
        if not label:
            raise ValidationError(f"{row.label}: a field needs a label.", field=change.key)
        try:
            check_single_line(label)
            check_multi_line(change.help_text)
        except ValidationError as exc:
            raise ValidationError(f"{row.label}: {exc.message}", field=change.key) from None
        if change.section not in SECTION_BY_KEY:
            raise ValidationError(f"{label}: choose one of the sections.", field=change.key)
        try:
            mode = FieldMode(change.mode)
        except ValueError:
            raise ValidationError(f"{label}: choose a mode.", field=change.key) from None
        builtin = BUILTIN_BY_KEY.get(row.key)
        if builtin is not None and builtin.section != change.section:
            raise ValidationError(
                f"{label}: built-in fields stay in their own section.", field=change.key
            )
        new = (label, (change.help_text or "").strip(), change.section, mode, change.position)
        if (row.label, row.help_text, row.section, row.mode, row.position) != new:
            row.label, row.help_text, row.section, row.mode, row.position = new
            changed += 1
    db.session.flush()
    return changed


def config_rows() -> list[PortalField]:
    return list(
        db.session.scalars(
            select(PortalField).order_by(PortalField.section, PortalField.position, PortalField.id)
        )
    )


def restore_defaults(keys: list[str] | None = None) -> list[str]:
    """Put the shipped settings back on the built-in fields ``keys`` (all when None)."""
    return defaults.restore(PortalField, "key", _shipped(), keys)


# -- saving -----------------------------------------------------------------------------------


@dataclass
class SaveResult:
    saved: dict[str, tuple[str, str]] = field(default_factory=dict)
    pending: dict[str, str] = field(default_factory=dict)
    #: Sign-in address or number changes waiting for the code sent to the new one.
    verifying: list[ContactChange] = field(default_factory=list)
    #: Sign-in fields the signed-in person may not change, with why; nothing was saved then.
    refused: dict[str, str] = field(default_factory=dict)
    #: Proposals the client withdrew by putting back the value on file: label, proposed value.
    withdrawn: dict[str, str] = field(default_factory=dict)
    #: Proposals a new one replaced: label, the value proposed before.
    replaced: dict[str, str] = field(default_factory=dict)

    @property
    def changed(self) -> bool:
        return bool(self.saved or self.pending or self.verifying or self.withdrawn)


def save_section(
    record: Record,
    section_key: str,
    form: SectionForm,
    actor: Actor,
    *,
    only: set[str] | None = None,
    signed_in_at: datetime | None = None,
) -> SaveResult:
    """Apply a validated form: direct changes go on the record, changes to fields that need
    approval wait as :class:`PendingChange` rows, and a new email address or mobile number
    someone signs in with waits for the code sent to it (:func:`confirm_contact_change`).
    ``only`` limits it to the keys a JSON PATCH sent. Emits the section's event with old and
    new values (flushes; the caller commits). When the signed-in person may not change a
    sign-in field, nothing is saved: ``refused`` says why, and the attempt is logged (commit
    it too). ``signed_in_at`` is when the session signed in: a new sign-in email or mobile
    needs a recent one (:class:`contact_changes.FreshSignInNeeded`, and
    :class:`one_time_codes.TooManyCodes` past the limit of codes; roll back then)."""
    section = SECTION_BY_KEY[section_key]
    fields_of_section = layout()[section_key]
    values = values_for(record)
    by = db.session.get(PortalAccount, actor.account_id) if actor.account_id else None
    result = SaveResult()
    changes: list[tuple[Field, Any, bool]] = []
    withdrawn: list[Field] = []
    for item in fields_of_section:
        if not item.editable or item.key not in form._fields:
            continue
        if only is not None and item.key not in only:
            continue
        new = form[item.key].data
        # The form shows a proposal waiting for staff: sent back as shown, it keeps waiting.
        if comparable(pending_changes.shown_value(values, item)) == comparable(new):
            continue
        if comparable(values.get(item)) == comparable(new):
            withdrawn.append(item)  # the value on file put back: the proposal is dropped
            continue
        # Checked for every field before anything is applied: a refusal saves nothing.
        try:
            verify = check_sign_in_change(item, values, by) and comparable(new) is not None
        except ValidationError as exc:
            result.refused[item.key] = exc.message
            continue
        changes.append((item, new, verify))
    if result.refused:
        labels = [item.label for item in fields_of_section if item.key in result.refused]
        events.emit(
            "portal.contact_change.refused",
            actor=actor,
            record=record,
            details={"fields": labels, "section": section.title},
        )
        db.session.flush()
        return result
    for item in withdrawn:  # only now: a refused submission withdraws no proposal either
        dropped = pending_changes.withdraw(values, item)
        if dropped is not None:
            result.withdrawn[item.label] = dropped.new_display
    # Codes first: a change refused for want of a fresh sign-in or past the limit of codes
    # raises before any other field is applied.
    for item, new, verify in changes:
        if verify and by is not None:
            result.verifying.append(
                contact_changes.start_contact_change(
                    by,
                    field_key=item.key,
                    field_label=item.label,
                    section=section_key,
                    channel=SIGN_IN_FIELDS[item.key],
                    new_value=storage(item, new) or "",
                    new_display=display_value(item, new),
                    signed_in_at=signed_in_at,
                )
            )
    for item, new, verify in changes:
        if not (verify and by is not None):
            _apply(record, values, item, new, actor, result)
    co_applicant = values.co_applicant
    if (
        section_key == "co_applicant"
        and co_applicant is not None
        and not (co_applicant.first_name or co_applicant.last_name)
    ):
        db.session.delete(co_applicant)  # every field emptied: no co-applicant
    _emit(section, record, actor, result)
    db.session.flush()
    return result


def _apply(
    record: Record,
    values: Values,
    item: Field,
    new: Any,
    actor: Actor,
    result: SaveResult,
    change: ContactChange | None = None,
) -> None:
    """One field's change: straight onto the record, or waiting for approval. ``change`` is
    the sign-in email or mobile change whose code brought it here, if one did."""
    old = values.get(item)
    old_text, new_text = display_value(item, old), display_value(item, new)
    if item.needs_approval:
        previous = values.pending.get(item.key)
        if pending_changes.propose(record, values, item, new, old_text, new_text, actor):
            result.pending[item.label] = new_text
            if previous is not None:
                result.replaced[item.label] = previous.new_display
        return
    set_value(values, item, new)
    result.saved[item.label] = (old_text, new_text)
    if item.key in SIGN_IN_FIELDS:
        if item.key == "email":
            portal_accounts.sync_login_email(record)
        contact_changes.tell_old_contact(
            record,
            key=contact_changes.notice_key(record.id, item.key, change=change),
            channel=SIGN_IN_FIELDS[item.key],
            old_value=storage(item, old),
            field_label=item.label,
            new_display=new_text,
            person_name=(
                values.co_applicant.full_name
                if item.builtin is not None
                and item.builtin.target == "co_applicant"
                and values.co_applicant is not None
                else record.full_name
            ),
        )


def _emit(section: Section, record: Record, actor: Actor, result: SaveResult) -> None:
    if not (result.saved or result.pending or result.withdrawn):
        return
    details: dict[str, Any] = {"section": section.title}
    if result.saved:
        details["changes"] = {label: list(change) for label, change in result.saved.items()}
    if result.pending:
        details["awaiting_approval"] = result.pending
    if result.replaced:
        details["replaced"] = result.replaced
    if result.withdrawn:
        details["withdrawn"] = result.withdrawn
    events.emit(section.event_key, actor=actor, record=record, details=details)


def confirm_contact_change(
    record: Record, account: PortalAccount, change_id: int, code: str
) -> SaveResult:
    """Apply a sign-in address or number change once its code is right: on the record at once
    (the old address or number is told), or to staff when the field needs approval.
    :class:`contact_changes.ChangeCodeFailed` for a wrong code (commit anyway: the attempt
    counts); :class:`NotFound` for a change that is not this account's."""
    change = contact_changes.contact_change_of(account, change_id)
    # Whether the change may still apply is checked before the code is used: a right code
    # for a change that cannot apply (the field turned read-only, the number is no longer
    # theirs) stays unused, so the change can apply once it may again.
    item = next((f for f in layout()[change.section] if f.key == change.field_key), None)
    if item is None or not item.editable:
        raise ValidationError(
            _("%(field)s can no longer be changed here.", field=change.field_label),
            field="code",
        )
    values = values_for(record)
    try:
        check_sign_in_change(item, values, account)  # still theirs to change
    except ValidationError as exc:
        raise ValidationError(exc.message, field="code") from None
    change = contact_changes.check_contact_code(account, change_id, code)
    actor = Actor.client(account)
    result = SaveResult()
    new = item.type.from_storage(change.new_value)
    # The attempt and the used code stay; a refusal from here on undoes the change itself
    # (the request commits what a refusal leaves).
    with db.session.begin_nested():
        if comparable(values.get(item)) != comparable(new):
            _apply(record, values, item, new, actor, result, change)
        if item.builtin is not None and item.builtin.target == "record" and result.saved:
            check_record(record)
        _emit(SECTION_BY_KEY[change.section], record, actor, result)
        db.session.flush()
    return result
