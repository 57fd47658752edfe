"""The emailed link: ``/portal/sign/link/<token>`` works without a portal sign-in. It emails
the signer a one-time code (once when the link is opened in a browser, again on request) and,
once the code is typed, binds this browser to that one signer (:mod:`.binding`) and opens the
signing page. Code entry is limited per address and per link, like the sign-in codes; codes
sent are limited by the service per signer and here per address.

A signed-in client opening a link to one of their own signers goes straight to it."""

from __future__ import annotations

import time
from typing import Any

from flask import g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_limiter.util import get_remote_address
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import Length

from app import transactions
from app.services import one_time_codes
from app.services.errors import NotFound, ServiceError
from app.services.signing import access, signing
from models import SignRequestSigner
from portal import bp
from portal.forms import CodeVerifyForm
from portal.limits import path_key, per_account, per_ip
from portal.session import SIGN_LINK_KEYS
from portal.signing.binding import LINK_KEY, bind

#: The session key naming the link a code was last sent for, and when.
SENT_KEY = SIGN_LINK_KEYS[1]
#: Opening the link again within this time sends no new code (the one sent still works).
RESEND_SECONDS = 10 * 60
#: Codes sent from one address, for any links.
IP_CODE_RATE = "20 per hour"


class ResendForm(FlaskForm):
    resend = StringField(validators=[Length(max=10)])


def masked(email: str) -> str:
    """``j***@example.com``: enough to recognise one's own address, not to learn another's."""
    local, _at, domain = email.partition("@")
    return f"{local[:1]}***@{domain}" if domain else "***"


def _already_sent(signer: SignRequestSigner) -> bool:
    sent = session.get(SENT_KEY)
    return (
        isinstance(sent, dict)
        and sent.get("token") == signer.token_hash
        and float(sent.get("at", 0)) > time.time() - RESEND_SECONDS
    )


def _send(signer: SignRequestSigner) -> str:
    """Email a code; a sentence when none may be sent now."""
    try:
        with transactions.attempt():
            one_time_codes.spend(
                one_time_codes.Limit("sign-code-ip", IP_CODE_RATE, get_remote_address())
            )
            signing.send_code(signer)
    except ServiceError as refused:
        return str(refused)
    session[SENT_KEY] = {"token": signer.token_hash, "at": time.time()}
    return ""


def _invalid() -> Any:
    return render_template("portal/sign_link_invalid.html"), 404


def _own_signer(signer: SignRequestSigner) -> bool:
    account = g.get("portal_account")
    if account is None or g.get("portal_preview"):
        return False
    try:
        access.signer_for_account(account, signer.id)
    except NotFound:
        return False
    return True


def _bound_here(signer: SignRequestSigner) -> bool:
    bound = session.get(LINK_KEY)
    return (
        isinstance(bound, dict)
        and bound.get("id") == signer.id
        and bound.get("token") == signer.token_hash
        and int(bound.get("until", 0)) > time.time()
    )


def _page(
    signer: SignRequestSigner, form: CodeVerifyForm, error: str = "", notice: str = ""
) -> Any:
    return render_template(
        "portal/sign_link.html",
        sent=_already_sent(signer),
        form=form,
        resend=ResendForm(formdata=None),
        sent_to=masked(signer.email),
        title=signer.request.title,
        error=error,
        notice=notice,
    )


@bp.route("/sign/link/<token>", methods=["GET", "POST"])
@per_ip("sign-code")
@per_account("sign-code", path_key)
def sign_link(token: str) -> Any:
    signer = access.signer_by_token(token)
    if signer is None:
        return _invalid()
    if _own_signer(signer) or _bound_here(signer):
        return redirect(url_for("portal.sign_page", signer_id=signer.id))
    form = CodeVerifyForm()
    if request.method == "GET":
        # The code goes out when the person asks for it (a POST), not when the link is
        # fetched: mail scanners that open links would otherwise spend the signer's codes.
        return _page(signer, form)
    if "resend" in request.form:
        resend = ResendForm()
        if not resend.validate_on_submit():
            return _page(signer, form, error=_("Your form expired: try again.")), 400
        again = _already_sent(signer)
        error = _send(signer)
        notice = _("A new code is sent.") if again and not error else ""
        return _page(signer, form, error=error, notice=notice)
    if not form.validate_on_submit():
        return _page(signer, form), 400 if "csrf_token" in form.errors else 200
    if not signing.check_code(signer, form.code.data):
        error = _(
            "That code did not work. Check it, or ask for a new one: each code works once, "
            "for a few minutes, and a new code replaces the old one."
        )
        return _page(signer, form, error=error)
    session.pop(SENT_KEY, None)
    bind(signer)
    return redirect(url_for("portal.sign_page", signer_id=signer.id))
