"""The certificates forms: adding a certificate holder and asking for a new certificate. The
pages post them with their CSRF token; the JSON routes feed them JSON (wtforms-json), so the
page and the API say the same things about the same values. What a holder must be (one line
of name, a few short lines of address, the answer's tick or reason) is the service's rule;
the forms check kinds and lengths, and take the service's word for the rest."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, RadioField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from app.services.field_types import check_form_text

#: The answers to "Does this policy meet the certificate holder's requirements?".
YES = "yes"
NO = "no"
#: A request's message, as long as a "No" answer's reason.
MESSAGE_MAX = 2000


class PlainTextForm(FlaskForm):
    #: Its text refuses control characters (the JSON schema says so: portal/schemas.py).
    plain_text = True

    def validate(self, extra_validators: Any = None) -> bool:
        valid = super().validate(extra_validators)
        return check_form_text(self) and valid


class HolderForm(PlainTextForm):
    """*Add certificate holder*: who the certificate is for, and the client's answer."""

    name = StringField(
        _l("Certificate holder's name"),
        validators=[DataRequired(), Length(max=160)],
        description=_l("A person or a company, e.g. Harbour Properties LLC"),
    )
    address = TextAreaField(
        _l("Address"),
        validators=[Optional(), Length(max=300)],
        description=_l("Up to 5 lines of 60 characters"),
    )
    email = StringField(
        _l("Email (optional)"),
        validators=[Optional(), Length(max=255)],
    )
    meets = RadioField(
        _l("Does this policy meet the certificate holder's requirements?"),
        choices=[(YES, _l("Yes")), (NO, _l("No"))],
        validators=[InputRequired(_l("Answer yes or no."))],
        description=_l("yes: the certificate is issued at once; no: your agent is asked"),
    )
    understood = BooleanField(
        _l("I understand the coverages shown are accurate"),
        description=_l("Needed for yes"),
    )
    reason = TextAreaField(
        _l("What does the certificate holder need that is not shown?"),
        validators=[Optional(), Length(max=2000)],
        description=_l("Needed for no"),
    )


class RequestForm(PlainTextForm):
    """*Request new certificate*: what the holder form does not cover, in the client's words."""

    message = TextAreaField(
        _l("What do you need?"),
        validators=[DataRequired(), Length(max=MESSAGE_MAX)],
        description=_l(
            "For example: a certificate for a new contract, another insured added, "
            "different wording or limits"
        ),
    )
