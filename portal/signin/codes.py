"""Signing in with a one-time code by email or text message."""

from __future__ import annotations

import time
from typing import Any

from flask import abort, flash, redirect, render_template, session, url_for
from flask_babel import gettext as _

from app.services import portal_sign_in
from app.services.portal_sign_in import SignInFailed
from models import Channel, PortalAccount, db
from portal import bp
from portal.forms import ChooseAccountForm, CodeRequestForm, CodeVerifyForm
from portal.limits import code_key, form_key, per_account, per_ip
from portal.signin import method_allowed, signed_in

CODE_SESSION_SECONDS = 30 * 60
CHOOSE_SECONDS = 5 * 60


def _channel(name: str) -> Channel:
    if name == "email":
        method_allowed("email_code")
        return Channel.EMAIL
    if name == "sms":
        method_allowed("sms_code")
        return Channel.SMS
    abort(404)


@bp.route("/code/<channel>", methods=["GET", "POST"])
@per_ip("code-request")
@per_account("code-request", form_key("identifier"))
def code_request(channel: str) -> Any:
    chosen = _channel(channel)
    form = CodeRequestForm()
    if chosen == Channel.SMS:
        form.identifier.label.text = "Mobile number"
    if form.validate_on_submit():
        typed = (form.identifier.data or "").strip()
        # Known or not, the request only queues the work: the same page, the same time.
        portal_sign_in.ask_for_code(chosen, typed)
        identifier = portal_sign_in.normalise_identifier(chosen, typed) or typed.lower()
        session["portal_code"] = {
            "channel": chosen.value,
            "identifier": identifier,
            "typed": typed,
            "until": int(time.time()) + CODE_SESSION_SECONDS,
        }
        return redirect(url_for("portal.code_verify"))
    return render_template("portal/code_request.html", form=form, channel=chosen)


@bp.route("/code/verify", methods=["GET", "POST"])
@per_ip("code-verify")
@per_account("code-verify", code_key)
def code_verify() -> Any:
    pending = session.get("portal_code")
    if not pending or pending.get("until", 0) < time.time():
        session.pop("portal_code", None)
        flash(_("Ask for a new code to continue."), "info")
        return redirect(url_for("portal.signin"))
    channel = Channel(pending["channel"])
    form = CodeVerifyForm()
    error = None
    if form.validate_on_submit():
        try:
            accounts = portal_sign_in.verify_code(
                channel, pending["identifier"], form.code.data or ""
            )
        except SignInFailed:
            error = _(
                "That code did not work. Check it, or ask for a new one: each code works "
                "once, for a few minutes, and a new code replaces the old one."
            )
        else:
            session.pop("portal_code", None)
            if len(accounts) == 1:
                portal_sign_in.complete_code_sign_in(accounts[0], channel)
                return signed_in(accounts[0], f"code-{channel.value}")
            session["portal_choose"] = {
                "ids": [a.id for a in accounts],
                "channel": channel.value,
                "until": int(time.time()) + CHOOSE_SECONDS,
            }
            return redirect(url_for("portal.choose_account"))
    return render_template(
        "portal/code_verify.html",
        form=form,
        error=error,
        channel=channel,
        sent_to=pending.get("typed"),
    )


@bp.route("/code/choose", methods=["GET", "POST"])
def choose_account() -> Any:
    """Several portals answer to one mailbox or phone (a couple sharing an address)."""
    pending = session.get("portal_choose")
    if not pending or pending.get("until", 0) < time.time():
        session.pop("portal_choose", None)
        return redirect(url_for("portal.signin"))
    accounts = [
        a for a in (db.session.get(PortalAccount, i) for i in pending["ids"]) if a is not None
    ]
    form = ChooseAccountForm()
    form.account.choices = [(a.id, a.person_name) for a in accounts]
    if form.validate_on_submit():
        chosen = next(a for a in accounts if a.id == form.account.data)
        channel = Channel(pending["channel"])
        session.pop("portal_choose", None)
        portal_sign_in.complete_code_sign_in(chosen, channel)
        return signed_in(chosen, f"code-{channel.value}")
    return render_template("portal/choose_account.html", form=form)
