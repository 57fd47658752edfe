"""The portal's forms for a client's details, built per request from the admins' field
configuration: the WTForms form of a section is the only validator, for the HTML page and the
JSON API alike (:func:`section_form`); and a field described for the JSON API
(:func:`describe`).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any, ClassVar

from flask_babel import gettext as _
from flask_wtf import FlaskForm

from app.services import field_types, pending_changes
from app.services.builtin_fields import SIGN_IN_FIELDS
from app.services.errors import ValidationError
from app.services.field_values import Field, Values, json_ready
from app.services.records import check_contact_preference
from models import ContactMethod, FieldMode, Record


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
    """Current values, shaped for the form (a pending change shows what was proposed: sent
    back unchanged, it keeps waiting)."""
    data = {}
    for item in fields_of_section:
        if not item.editable:
            continue
        value = pending_changes.shown_value(values, item)
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


def describe(item: Field, values: Values) -> dict[str, Any]:
    """A field for the JSON API: its configuration and the value on file; ``pending``, the
    client's proposal waiting for staff: its ``value`` as the API takes it (sent back
    unchanged, it keeps waiting), as ``display``ed, and when it was sent (``proposed_at``)."""
    pending = pending_changes.waiting(values, item)
    description: dict[str, Any] = {
        "key": item.key,
        "label": item.label,
        "type": item.type.name,
        "mode": item.mode.value,
        "required": item.required and item.editable,
        "help": item.help_text,
        "value": item.type.json_value(json_ready(values.get(item))),
    }
    if item.type.name == "choice":
        description["options"] = [
            {"value": v, "label": label} for v, label in field_types.choice_options(item.settings)
        ]
    if pending is not None:
        proposed = pending_changes.proposed_value(item, pending)
        description["pending"] = {
            "value": item.type.json_value(json_ready(proposed)),
            "display": pending.new_display,
            "proposed_at": pending.proposed_at.isoformat(),
        }
    return description
