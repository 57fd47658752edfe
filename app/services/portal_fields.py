"""The configurable portal: which record fields clients see and edit, and how.

Every built-in field (:data:`BUILTIN`) and every custom field has a :class:`PortalField` row
that admins edit: label, help text, section, order and mode (optional, mandatory, read-only,
hidden, needs approval). :func:`layout` reads the rows once per request; :func:`section_form`
builds the section's WTForms form from them, and that form is the only validator; the HTML page
and the JSON API both go through :func:`save_section`.

A submission that tries to set a field the client may not edit (read-only, hidden, or not in
the section) is refused as a whole: nothing is saved.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any, ClassVar

from flask_babel import gettext as _
from flask_wtf import FlaskForm
from sqlalchemy import select

from app.services import events, field_types, portal_accounts
from app.services.errors import ValidationError
from app.services.events import Actor
from app.services.record_checks import check_birth_date, check_contact_preference
from app.services.validation import check_multi_line, check_single_line
from models import (
    AccountStatus,
    ChangeStatus,
    Channel,
    Contact,
    ContactChange,
    ContactMethod,
    ContactRole,
    CustomField,
    CustomFieldValue,
    FieldMode,
    PendingChange,
    PortalAccount,
    PortalField,
    Record,
    User,
    db,
    utcnow,
)

EDITABLE = (FieldMode.OPTIONAL, FieldMode.MANDATORY, FieldMode.APPROVAL)
VISIBLE = (*EDITABLE, FieldMode.READ_ONLY)


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
CUSTOM_PREFIX = "custom_"


# -- configuration ----------------------------------------------------------------------------


def ensure_defaults() -> list[str]:
    """Create the rows of built-in fields that are missing (never touch edited ones)."""
    existing = set(db.session.scalars(select(PortalField.key)))
    added = []
    for position, builtin in enumerate(BUILTIN):
        if builtin.key not in existing:
            db.session.add(
                PortalField(
                    key=builtin.key,
                    section=builtin.section,
                    label=builtin.label,
                    help_text="",
                    mode=builtin.mode,
                    position=position * 10,
                )
            )
            added.append(builtin.key)
    db.session.flush()
    return added


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
    wanted = set(keys) if keys is not None else set(BUILTIN_BY_KEY)
    restored = []
    for position, builtin in enumerate(BUILTIN):
        if builtin.key not in wanted:
            continue
        row = db.session.scalar(select(PortalField).where(PortalField.key == builtin.key))
        if row is None:
            row = PortalField(key=builtin.key)
            db.session.add(row)
        row.section, row.label, row.help_text = builtin.section, builtin.label, ""
        row.mode, row.position = builtin.mode, position * 10
        restored.append(builtin.key)
    db.session.flush()
    return restored


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


def custom_key(custom: CustomField) -> str:
    return f"{CUSTOM_PREFIX}{custom.key}"


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


def _comparable(value: Any) -> Any:
    if isinstance(value, str):
        return value.strip() or None
    if hasattr(value, "value") and not isinstance(value, Decimal | date):
        return value.value
    return value


def _set(values: Values, item: Field, value: Any) -> None:
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
    stored = item.type.to_storage(value)
    row = db.session.scalar(
        select(CustomFieldValue).where(
            CustomFieldValue.record_id == values.record.id,
            CustomFieldValue.custom_field_id == item.custom.id,
        )
    )
    if stored is None:
        if row is not None:
            db.session.delete(row)
    elif row is None:
        db.session.add(
            CustomFieldValue(
                record_id=values.record.id, custom_field_id=item.custom.id, value=stored
            )
        )
    else:
        row.value = stored
    values.custom[item.custom.id] = stored or ""


# -- forms ------------------------------------------------------------------------------------


class SectionForm(FlaskForm):
    """Base of every generated section form."""

    section_key: str = ""
    record_country: str = "US"
    #: The record's way to be reached as saved: preferred_contact, email, mobile, phone.
    contact: ClassVar[dict[str, Any]] = {}
    #: Keys of this form whose values go on the record at once (no approval needed).
    direct: ClassVar[frozenset[str]] = frozenset()

    def validate(self, extra_validators: Any = None) -> bool:
        ok = super().validate(extra_validators)
        # Section rules read the fields' values: only once each field is valid on its own.
        return ok and self.validate_section() and self._still_reachable()

    def validate_section(self) -> bool:
        return True

    def _still_reachable(self) -> bool:
        """The way the client prefers to be reached must stay one the record can use,
        whichever section changes the preference or the address it needs."""
        keys = ("preferred_contact", "email", "mobile", "phone")
        shown = [key for key in keys if key in self._fields]
        if not shown:
            return True

        waiting = set()

        def after(key: str) -> Any:
            if key not in shown or key not in self.direct:
                return self.contact.get(key)
            new = self[key].data
            if key in SIGN_IN_FIELDS and new not in (None, "") and new != self.contact.get(key):
                # A new sign-in email or mobile waits for its code: until then the saved one
                # is the one that reaches the client (removing one applies at once).
                waiting.add(key)
                return self.contact.get(key)
            return new

        try:
            preferred = ContactMethod(after("preferred_contact") or ContactMethod.EMAIL)
            check_contact_preference(
                preferred, email=after("email"), mobile=after("mobile"), phone=after("phone")
            )
        except ValidationError as exc:
            message = exc.message
            if exc.field in waiting or (exc.field == "phone" and "mobile" in waiting):
                message = _(
                    "Your new %(field)s is not confirmed yet: save this choice again once you "
                    "have entered the code we send to it.",
                    field=self["mobile" if exc.field == "phone" else exc.field].label.text.lower(),
                )
            where = "preferred_contact" if "preferred_contact" in shown else exc.field
            field_name = where if where in shown else shown[0]
            self[field_name].errors = [*self[field_name].errors, message]
            return False
        return True


class CoApplicantForm(SectionForm):
    def validate_section(self) -> bool:
        names = ("co_applicant_first_name", "co_applicant_last_name")
        given = [
            name
            for name in self._fields
            if name.startswith("co_applicant_") and self[name].data not in (None, "", False)
        ]
        if given:
            for name in names:
                if name in self._fields and not self[name].data:
                    self[name].errors = [
                        *self[name].errors,
                        "Give the co-applicant's first and last name.",
                    ]
                    return False
        return True


def section_form(
    section_key: str, fields_of_section: list[Field], record: Record
) -> type[SectionForm]:
    """The WTForms form of a section: only the fields the client may change."""
    base = CoApplicantForm if section_key == "co_applicant" else SectionForm
    attributes: dict[str, Any] = {
        "section_key": section_key,
        "contact": {
            "preferred_contact": record.preferred_contact,
            "email": record.email,
            "mobile": record.mobile,
            "phone": record.phone,
        },
        "direct": frozenset(
            item.key for item in fields_of_section if item.editable and not item.needs_approval
        ),
    }
    context = {"country": record.country or "US"}
    for item in fields_of_section:
        if item.editable:
            attributes[item.key] = item.type.field(
                item.label, item.help_text, item.required, item.settings, context
            )
    return type(f"{section_key.title()}SectionForm", (base,), attributes)


def form_data(fields_of_section: list[Field], values: Values) -> dict[str, Any]:
    """Current values, shaped for the form (a pending change shows what was proposed)."""
    data = {}
    for item in fields_of_section:
        if not item.editable:
            continue
        value = values.get(item)
        if hasattr(value, "value") and not isinstance(value, Decimal | date):
            value = value.value
        data[item.key] = value
    return data


def forbidden_keys(submitted: set[str], fields_of_section: list[Field]) -> dict[str, str]:
    """Submitted keys the client may not set here, each with the reason."""
    editable = {item.key for item in fields_of_section if item.editable}
    shown = {item.key: item for item in fields_of_section}
    problems = {}
    for key in sorted(submitted - editable - {"csrf_token"}):
        item = shown.get(key)
        if item is not None and item.mode == FieldMode.READ_ONLY:
            problems[key] = "This field is read-only: ask your adviser to change it."
        else:
            problems[key] = "There is no such field to change here."
    return problems


# -- saving -----------------------------------------------------------------------------------


#: Fields someone signs in with: the primary applicant's email and mobile open the record's
#: own account; the co-applicant's phone opens the co-applicant's account (sign-in by text).
SIGN_IN_FIELDS: dict[str, Channel] = {
    "email": Channel.EMAIL,
    "mobile": Channel.SMS,
    "co_applicant_phone": Channel.SMS,
}


@dataclass
class SaveResult:
    saved: dict[str, tuple[str, str]] = field(default_factory=dict)
    pending: dict[str, str] = field(default_factory=dict)
    #: Sign-in address or number changes waiting for the code sent to the new one.
    verifying: list[ContactChange] = field(default_factory=list)
    #: Sign-in fields the signed-in person may not change, with why; nothing was saved then.
    refused: dict[str, str] = field(default_factory=dict)

    @property
    def changed(self) -> bool:
        return bool(self.saved or self.pending or self.verifying)


def sign_in_owner(item: Field, values: Values) -> PortalAccount | None:
    """The account that signs in with this field's value, if it is a sign-in field and that
    account has (or is invited to) portal access."""
    if item.key not in SIGN_IN_FIELDS or item.builtin is None:
        return None
    if item.builtin.target == "record":
        account = db.session.scalar(
            select(PortalAccount).where(
                PortalAccount.record_id == values.record.id, PortalAccount.contact_id.is_(None)
            )
        )
    elif values.co_applicant is not None and values.co_applicant.id is not None:
        account = db.session.scalar(
            select(PortalAccount).where(PortalAccount.contact_id == values.co_applicant.id)
        )
    else:
        account = None
    if account is None or account.status == AccountStatus.DISABLED:
        return None
    return account


def _check_sign_in_change(item: Field, values: Values, by: PortalAccount | None) -> bool:
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
    needs a recent one (:class:`portal_accounts.FreshSignInNeeded`, and
    :class:`portal_accounts.TooManyCodes` past the limit of codes; roll back then)."""
    section = SECTION_BY_KEY[section_key]
    fields_of_section = layout()[section_key]
    values = values_for(record)
    by = db.session.get(PortalAccount, actor.account_id) if actor.account_id else None
    result = SaveResult()
    changes: list[tuple[Field, Any, bool]] = []
    for item in fields_of_section:
        if not item.editable or item.key not in form._fields:
            continue
        if only is not None and item.key not in only:
            continue
        new = form[item.key].data
        old = values.get(item)
        if _comparable(old) == _comparable(new):
            existing = values.pending.get(item.key)
            if existing is not None and item.needs_approval:
                existing.status = ChangeStatus.SUPERSEDED  # asked to keep what is there
            continue
        # Checked for every field before anything is applied: a refusal saves nothing.
        try:
            verify = _check_sign_in_change(item, values, by) and _comparable(new) is not None
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
    # Codes first: a change refused for want of a fresh sign-in or past the limit of codes
    # raises before any other field is applied.
    for item, new, verify in changes:
        if verify and by is not None:
            result.verifying.append(
                portal_accounts.start_contact_change(
                    by,
                    field_key=item.key,
                    field_label=item.label,
                    section=section_key,
                    channel=SIGN_IN_FIELDS[item.key],
                    new_value=_storage(item, new) or "",
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
        if previous is not None:
            if _comparable(item.type.from_storage(previous.new_value)) == _comparable(new):
                return  # the same proposal again
            previous.status = ChangeStatus.SUPERSEDED
        db.session.add(
            PendingChange(
                record_id=record.id,
                field_key=item.key,
                field_label=item.label,
                old_display=old_text,
                new_value=_storage(item, new),
                new_display=new_text,
                proposed_by_account_id=actor.account_id,
                proposed_by_label=actor.label,
                status=ChangeStatus.PENDING,
            )
        )
        result.pending[item.label] = new_text
        return
    _set(values, item, new)
    result.saved[item.label] = (old_text, new_text)
    if item.key in SIGN_IN_FIELDS:
        if item.key == "email":
            portal_accounts.sync_login_email(record)
        portal_accounts.tell_old_contact(
            record,
            key=portal_accounts.notice_key(record.id, item.key, change=change),
            channel=SIGN_IN_FIELDS[item.key],
            old_value=_storage(item, old),
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
    if not (result.saved or result.pending):
        return
    details: dict[str, Any] = {"section": section.title}
    if result.saved:
        details["changes"] = {label: list(change) for label, change in result.saved.items()}
    if result.pending:
        details["awaiting_approval"] = result.pending
    events.emit(section.event_key, actor=actor, record=record, details=details)


def confirm_contact_change(
    record: Record, account: PortalAccount, change_id: int, code: str
) -> SaveResult:
    """Apply a sign-in address or number change once its code is right: on the record at once
    (the old address or number is told), or to staff when the field needs approval.
    :class:`portal_accounts.ChangeCodeFailed` for a wrong code (commit anyway: the attempt
    counts); :class:`NotFound` for a change that is not this account's."""
    change = portal_accounts.contact_change_of(account, change_id)
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
        _check_sign_in_change(item, values, account)  # still theirs to change
    except ValidationError as exc:
        raise ValidationError(exc.message, field="code") from None
    change = portal_accounts.check_contact_code(account, change_id, code)
    actor = Actor.client(account)
    result = SaveResult()
    new = item.type.from_storage(change.new_value)
    if _comparable(values.get(item)) != _comparable(new):
        _apply(record, values, item, new, actor, result, change)
    if item.builtin is not None and item.builtin.target == "record" and result.saved:
        _check_record(record)
    _emit(SECTION_BY_KEY[change.section], record, actor, result)
    db.session.flush()
    return result


def display_value(item: Field, value: Any) -> str:
    """A value as a person reads it (labels for choices, formatted dates and phones)."""
    if item.type.name == "choice" and value not in (None, ""):
        for option_value, option_label in _choice_pairs(item):
            if option_value == _comparable(value):
                return option_label
    return item.type.display(value)


def _choice_pairs(item: Field) -> list[tuple[str, str]]:
    options = item.settings.get("options") or []
    return [(o, o) if isinstance(o, str) else (str(o[0]), str(o[1])) for o in options]


def _storage(item: Field, value: Any) -> str | None:
    if hasattr(value, "value") and not isinstance(value, Decimal | date):
        value = value.value
    return item.type.to_storage(value)


# -- approvals --------------------------------------------------------------------------------


def approve(change: PendingChange, by: User) -> None:
    """Write the proposed value to the record and tell the client."""
    if change.status != ChangeStatus.PENDING:
        raise ValidationError("This change was already decided.")
    item = next(
        (
            f
            for fields_of_section in layout().values()
            for f in fields_of_section
            if f.key == change.field_key
        ),
        None,
    )
    if item is None:
        raise ValidationError(
            f"The field {change.field_label} no longer exists; reject the change instead."
        )
    values = values_for(change.record)
    old_value = _storage(item, values.get(item))
    _set(values, item, item.type.from_storage(change.new_value))
    if item.builtin is not None and item.builtin.target == "record":
        _check_record(change.record)
    if item.key in SIGN_IN_FIELDS and old_value != change.new_value:
        portal_accounts.tell_old_contact(
            change.record,
            key=portal_accounts.notice_key(change.record_id, item.key, approval_id=change.id),
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
        portal_accounts.sync_login_email(change.record)


def reject(change: PendingChange, by: User, reason: str | None = None) -> None:
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


def _check_record(record: Record) -> None:
    check_birth_date(record.date_of_birth)
    check_contact_preference(
        record.preferred_contact or ContactMethod.EMAIL,
        email=record.email,
        mobile=record.mobile,
        phone=record.phone,
    )


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


# -- JSON -------------------------------------------------------------------------------------


def describe(item: Field, values: Values) -> dict[str, Any]:
    """A field for the JSON API: its configuration and current value."""
    pending = values.pending.get(item.key)
    description: dict[str, Any] = {
        "key": item.key,
        "label": item.label,
        "type": item.type.name,
        "mode": item.mode.value,
        "required": item.required and item.editable,
        "help": item.help_text,
        "value": item.type.json_value(_json_ready(values.get(item))),
    }
    if item.type.name == "choice":
        description["options"] = [{"value": v, "label": label} for v, label in _choice_pairs(item)]
    if pending is not None:
        description["pending"] = {
            "value": pending.new_display,
            "proposed_at": pending.proposed_at.isoformat(),
        }
    return description


def _json_ready(value: Any) -> Any:
    if hasattr(value, "value") and not isinstance(value, Decimal | date):
        return value.value
    return value
