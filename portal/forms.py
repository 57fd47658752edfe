"""Portal forms (Flask-WTF: CSRF on every one)."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from wtforms import HiddenField, PasswordField, RadioField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from app.services.errors import ValidationError
from app.services.field_types import check_form_text, service_validator
from app.services.validation import format_phone, normalise_phone


class LinkSignInForm(FlaskForm):
    password = PasswordField("Password", validators=[DataRequired(), Length(max=200)])


class PasswordSignInForm(FlaskForm):
    email = StringField("Email address", validators=[DataRequired(), Length(max=255)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=200)])


class CodeRequestForm(FlaskForm):
    identifier = StringField("Email address", validators=[DataRequired(), Length(max=255)])


class CodeVerifyForm(FlaskForm):
    code = StringField("6-digit code", validators=[DataRequired(), Length(max=20)])


class ChooseAccountForm(FlaskForm):
    account = RadioField("Whose portal?", coerce=int, validators=[DataRequired()])


class NewPasswordForm(FlaskForm):
    password = PasswordField("New password", validators=[DataRequired(), Length(max=200)])
    confirm = PasswordField("New password again", validators=[DataRequired(), Length(max=200)])


class ResetRequestForm(FlaskForm):
    email = StringField("Email address", validators=[DataRequired(), Length(max=255)])


class SignOutForm(FlaskForm):
    next = HiddenField()


_phone = service_validator(normalise_phone)


def phone_for_form(value: str | None, region: str | None = "US") -> str:
    """A stored number (E.164) as a form shows it: "(614) 555-0101", the way every other page
    prints it. Kept as stored when the readable form would not read back as the same number
    (a US-style national number on a record from another country)."""
    if not value:
        return ""
    shown = format_phone(value)
    try:
        same = normalise_phone(shown, region or "US") == value
    except ValidationError:
        same = False
    return shown if same else value


class PhoneField(StringField):
    """A phone number: shown readable, accepted in any format, stored as E.164."""

    json_description = "Stored as E.164, e.g. +12025550143"

    def _value(self) -> Any:
        if self.raw_data:
            return self.raw_data[0]
        return phone_for_form(self.data)


class CareForm(FlaskForm):
    """Prescriptions and providers: no control characters in any value (notes keep their
    line breaks)."""

    #: Its text refuses control characters (the JSON schema says so: portal/schemas.py).
    plain_text = True

    def validate(self, extra_validators: Any = None) -> bool:
        valid = super().validate(extra_validators)
        return check_form_text(self) and valid


class PrescriptionForm(CareForm):
    drug_name = StringField(
        "Drug",
        validators=[DataRequired(), Length(max=160)],
        description="As on the label, e.g. Lisinopril",
    )
    strength = StringField(
        "Strength", validators=[Optional(), Length(max=80)], description="e.g. 10 mg"
    )
    dosage = StringField(
        "Dosage", validators=[Optional(), Length(max=80)], description="e.g. 1 tablet"
    )
    frequency = StringField(
        "How often", validators=[Optional(), Length(max=80)], description="e.g. once a day"
    )
    notes = TextAreaField("Notes", validators=[Optional(), Length(max=2000)])


class ProviderForm(CareForm):
    name = StringField(
        "Name",
        validators=[DataRequired(), Length(max=160)],
        description="Doctor, clinic or pharmacy",
    )
    specialty = StringField(
        "Specialty", validators=[Optional(), Length(max=120)], description="e.g. Cardiology"
    )
    phone = PhoneField("Phone", validators=[Optional(), Length(max=40), _phone])
    address = StringField("Address", validators=[Optional(), Length(max=300)])
    notes = TextAreaField("Notes", validators=[Optional(), Length(max=2000)])


CARE_FORMS = {"prescriptions": PrescriptionForm, "providers": ProviderForm}


class IdentityPasswordForm(FlaskForm):
    """Confirm it's you (before a sign-in email or mobile changes): the current password."""

    password = PasswordField("Your password", validators=[DataRequired(), Length(max=200)])


class IdentityCodeRequestForm(FlaskForm):
    """Confirm it's you with a code to the current email address: the button that sends it."""


class DismissForm(FlaskForm):
    """The "Got it" under the staff decisions on My details: the ids of those shown."""

    seen = HiddenField()
