"""Refer a friend: the page (``/portal/referral``) and its JSON route
(``POST /portal/api/referral``), one form for both. Only clients refer (a lead's account
finds nothing here: 404). The answer is the same thank-you whether the friend became a lead
or the office knew them already, and it never says which record was made."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, g, jsonify, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from app import transactions
from app.services import referrals
from app.services.errors import NotFound, ValidationError
from app.services.field_types import check_form_text, service_validator
from app.services.validation import normalise_email
from models import RecordKind
from portal import bp, openapi
from portal.api import error, form_errors, read_body
from portal.forms import PhoneField
from portal.guards import client_required
from portal.limits import referrals_per_account, referrals_per_ip
from portal.navigation import client_screen
from portal.openapi import Reply
from portal.schemas import form_schema

_email = service_validator(normalise_email)


class ReferralForm(FlaskForm):
    """The friend: names, an email address or a phone number (at least one), a note."""

    #: Its text refuses control characters (the JSON schema says so: portal/schemas.py).
    plain_text = True

    first_name = StringField(
        _l("Their first name"), validators=[DataRequired(), Length(max=referrals.NAME_MAX)]
    )
    last_name = StringField(
        _l("Their last name"), validators=[DataRequired(), Length(max=referrals.NAME_MAX)]
    )
    email = StringField(
        _l("Their email address"),
        validators=[Optional(), Length(max=255), _email],
        description=_l("An email address or a phone number, or both."),
    )
    #: Read in the client's country by the service (a number without its country code).
    phone = PhoneField(_l("Their phone number"), validators=[Optional(), Length(max=40)])
    note = TextAreaField(
        _l("Anything we should know?"),
        validators=[Optional(), Length(max=referrals.NOTE_MAX)],
        description=_l("For example what they are looking for, or the best time to call."),
    )

    def validate(self, extra_validators: Any = None) -> bool:
        valid = super().validate(extra_validators)
        valid = check_form_text(self) and valid
        if valid and not (self.email.data or self.phone.data):
            self.email.errors = [*self.email.errors, _("Give an email address or a phone number.")]
            valid = False
        return valid


def _client_or_404() -> None:
    """Only a client refers: a lead (or staff previewing one) finds no such page."""
    record = g.get("portal_record")
    if record is None or record.kind != RecordKind.CLIENT:
        abort(404)


def _refer(form: ReferralForm) -> None:
    """The one service call of both routes; raises ValidationError (nothing kept) or
    NotFound."""
    account = g.get("portal_account")
    if account is None:
        raise NotFound(_("This page does not exist."))
    with transactions.attempt():
        friend = referrals.check_friend(
            first_name=form.first_name.data,
            last_name=form.last_name.data,
            email=form.email.data,
            phone=form.phone.data,
            note=form.note.data,
            region=account.record.country,
        )
        referrals.refer(account, friend)


def _page(form: ReferralForm) -> Any:
    return render_template("portal/referral.html", form=form)


def referral() -> Any:
    _client_or_404()
    return _page(ReferralForm(formdata=None))


client_screen("/referral")(referral)


@bp.post("/referral")
@client_required
@referrals_per_account()
@referrals_per_ip()
def send_referral() -> Any:
    _client_or_404()
    form = ReferralForm()
    if not form.validate_on_submit():
        return _page(form), 400 if "csrf_token" in form.errors else 200
    try:
        _refer(form)
    except NotFound:
        abort(404)
    except ValidationError as refused:
        target = getattr(form, refused.field or "email", form.email)
        target.errors = [*target.errors, refused.message]
        return _page(form)
    flash(_("Thank you for your referral: we will take it from here."), "success")
    return redirect(url_for("portal.referral"))


# -- JSON ---------------------------------------------------------------------------------------


def _body() -> dict[str, Any]:
    schema = form_schema(ReferralForm, title="Referral")
    schema["description"] = "Give an email address or a phone number, or both."
    return schema


openapi.component(
    "referral_sent",
    {
        "type": "object",
        "required": ["status", "message"],
        "properties": {
            "status": {"type": "string", "enum": ["received"]},
            "message": {"type": "string"},
        },
    },
)


@bp.post("/api/referral")
@openapi.operation(
    "post",
    "Refer a friend to the office (clients only); the answer is the same whether or not the "
    "office knew them already",
    body=_body,
    body_name="referral",
    replies={201: Reply("Received", "referral_sent")},
    errors=(400, 401, 404, 413, 422, 429),
)
@client_required
@referrals_per_account()
@referrals_per_ip()
def api_referral() -> Any:
    record = g.get("portal_record")
    if record is None or record.kind != RecordKind.CLIENT:
        return error(404, _("This page does not exist."))
    body, refused = read_body(openapi.request_schema())
    if body is None:
        return refused
    form = ReferralForm.from_json(body, meta={"csrf": False})
    if not form.validate():
        return form_errors(form)
    try:
        _refer(form)
    except NotFound as missing:
        return error(404, str(missing))
    except ValidationError as invalid:
        return error(
            422,
            _("Some values need fixing; nothing was saved."),
            {invalid.field or "email": [invalid.message]},
        )
    message = _("Thank you for your referral: we will take it from here.")
    return jsonify({"status": "received", "message": message}), 201
