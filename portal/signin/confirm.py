"""Confirm it's you: a fresh sign-in before the email or mobile someone signs in with
changes. On My details with the current password or a code to the current email; in JSON
with ``POST /portal/api/session/confirm {"password": "..."}``. Either way the session starts
afresh (a new session row: the old one ends, and any copy of its cookie)."""

from __future__ import annotations

import time
from typing import Any

from flask import abort, flash, g, jsonify, redirect, session, url_for
from flask_babel import gettext as _

from app import transactions
from app.services import contact_changes, portal_credentials
from app.services.errors import ValidationError
from app.services.one_time_codes import TooManyCodes
from app.services.portal_sign_in import SignInFailed
from models import utcnow
from portal import bp, openapi
from portal.api import error, form_errors, read_body
from portal.details.page import details_page
from portal.forms import CodeVerifyForm, IdentityCodeRequestForm, IdentityPasswordForm
from portal.guards import client_required
from portal.limits import account_key, per_account, per_ip
from portal.openapi import Reply
from portal.schemas import form_schema
from portal.session import start_session

IDENTITY_CODE_SECONDS = 15 * 60
NOT_THAT_ONE = "That is not your current password, or it is paused."


def _confirmed() -> Any:
    session.pop("portal_identity", None)
    start_session(g.portal_account, "confirm-identity")
    flash(
        _(
            "Thank you, that's you. For the next 15 minutes you can change the email or "
            "mobile you sign in with: save your change again."
        ),
        "success",
    )
    return redirect(url_for("portal.details") + "#section-contact")


@bp.post("/details/confirm-identity")
@per_ip("confirm-identity")
@per_account("confirm-identity", account_key)
@client_required
def confirm_identity() -> Any:
    """Confirm it's you with the current password."""
    form = IdentityPasswordForm(prefix="identity")
    if not form.validate_on_submit():
        return details_page(status=422, identity={"asked": True, "password_form": form})
    try:
        contact_changes.confirm_identity_with_password(g.portal_account, form.password.data or "")
    except SignInFailed:  # the failure counts toward the pause
        form.password.errors = [_("That is not your current password, or it is paused.")]
        return details_page(status=422, identity={"asked": True, "password_form": form})
    return _confirmed()


@bp.post("/details/confirm-identity/code")
@per_ip("confirm-identity-code")
@per_account("confirm-identity-code", account_key)
@client_required
def send_identity_code() -> Any:
    """Email a code to the current address, for a client without their password at hand."""
    if not IdentityCodeRequestForm(prefix="identity-send").validate_on_submit():
        abort(400)
    try:
        with transactions.attempt():
            contact_changes.send_identity_code(g.portal_account)
    except (TooManyCodes, ValidationError) as exc:
        status = 429 if isinstance(exc, TooManyCodes) else 422
        return details_page(status=status, identity={"asked": True, "error": exc.message})
    session["portal_identity"] = {"until": int(time.time()) + IDENTITY_CODE_SECONDS}
    flash(
        _(
            "We sent a code to %(email)s. Enter it below.",
            email=portal_credentials.mask_address(g.portal_account.email),
        ),
        "info",
    )
    return redirect(url_for("portal.details") + "#confirm-identity")


@bp.post("/details/confirm-identity/verify")
@per_ip("confirm-identity-verify")
@per_account("confirm-identity-verify", account_key)
@client_required
def verify_identity_code() -> Any:
    form = CodeVerifyForm(prefix="identity-code")
    if not form.validate_on_submit():
        return details_page(status=422, identity={"asked": True, "code_form": form})
    try:
        contact_changes.confirm_identity_with_code(g.portal_account, form.code.data or "")
    except SignInFailed:  # the attempt counts
        form.code.errors = [
            _("That code did not work. Check the newest email, or ask for a new code.")
        ]
        return details_page(status=422, identity={"asked": True, "code_form": form})
    return _confirmed()


@bp.post("/api/session/confirm")
@openapi.operation(
    "post",
    "Confirm it's you with the current password: the session starts afresh and may change "
    "the email or mobile it signs in with for 15 minutes",
    body=lambda: form_schema(IdentityPasswordForm),
    replies={
        200: Reply(
            "Confirmed",
            {
                "type": "object",
                "required": ["fresh_until"],
                "properties": {"fresh_until": {"type": "string"}},
            },
        )
    },
    errors=(400, 401, 413, 422, 429),
)
@per_ip("confirm-identity")
@per_account("confirm-identity", account_key)
@client_required
def api_confirm_identity() -> Any:
    body, refused = read_body(openapi.request_schema())
    if body is None:
        return refused
    form = IdentityPasswordForm.from_json(body, meta={"csrf": False})
    if not form.validate():
        return form_errors(form)
    try:
        contact_changes.confirm_identity_with_password(g.portal_account, form.password.data)
    except SignInFailed:  # the failure counts toward the pause
        return error(422, NOT_THAT_ONE, {"password": [NOT_THAT_ONE]})
    start_session(g.portal_account, "confirm-identity")
    until = utcnow() + contact_changes.FRESH_SIGN_IN
    return jsonify({"fresh_until": until.isoformat()})
