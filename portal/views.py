"""Portal sign-in: personal link and password, email and password, one-time codes by email or
text, invitations, password reset, sign-out. Every POST is rate limited per address and per
account; every failure reads the same."""

from __future__ import annotations

import time
from typing import Any

from flask import (
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    send_file,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_limiter.util import get_remote_address

from app.extensions import limiter
from app.services import portal_accounts, sessions
from app.services.errors import ValidationError
from app.services.portal_accounts import SignInFailed, token_hash
from app.services.portal_settings import branding_css as branding_css_text
from app.services.portal_settings import get_settings, logo_path
from models import Channel, PortalAccount, db
from portal import bp
from portal.forms import (
    ChooseAccountForm,
    CodeRequestForm,
    CodeVerifyForm,
    LinkSignInForm,
    NewPasswordForm,
    PasswordSignInForm,
    ResetRequestForm,
    SignOutForm,
)
from portal.session import end_session, start_session

CODE_SESSION_SECONDS = 30 * 60
CHOOSE_SECONDS = 5 * 60


def _limit() -> str:
    return str(current_app.config["PORTICO_PORTAL_LOGIN_LIMIT"])


def _form_key(field: str) -> Any:
    def key() -> str:
        value = (request.form.get(field) or "").strip().lower()
        return f"{field}:{value}" if value else f"ip:{get_remote_address()}"

    return key


def _path_key() -> str:
    token = (request.view_args or {}).get("token", "")
    return "token:" + token_hash(str(token))[:24]


def _code_key() -> str:
    pending = session.get("portal_code") or {}
    return f"code:{pending.get('identifier', get_remote_address())}"


def per_ip(scope: str) -> Any:
    return limiter.limit(
        _limit, methods=["POST"], key_func=get_remote_address, scope=f"portal-{scope}-ip"
    )


def per_account(scope: str, key_func: Any) -> Any:
    return limiter.limit(
        _limit, methods=["POST"], key_func=key_func, scope=f"portal-{scope}-account"
    )


def _methods() -> dict[str, bool]:
    settings = get_settings()
    return {
        "link": settings.allow_link_sign_in,
        "password": settings.allow_password_sign_in,
        "email_code": settings.allow_email_code_sign_in,
        "sms_code": settings.allow_sms_code_sign_in,
    }


def _method_allowed(name: str) -> None:
    if not _methods()[name]:
        abort(404)


def _signed_in(account: PortalAccount, method: str) -> Any:
    start_session(account, method)
    db.session.commit()
    return redirect(url_for("portal.home"))


@bp.get("/branding.css")
@limiter.exempt
def branding_css() -> Any:
    settings = get_settings()
    response = current_app.response_class(branding_css_text(settings), mimetype="text/css")
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


@bp.get("/branding/logo")
@limiter.exempt
def logo() -> Any:
    path = logo_path(get_settings())
    if path is None:
        abort(404)
    response = send_file(path, max_age=3600)
    response.headers["Content-Security-Policy"] = "default-src 'none'"
    return response


@bp.get("/")
def signin() -> Any:
    if g.get("portal_account") is not None:
        return redirect(url_for("portal.home"))
    return render_template("portal/signin.html", methods=_methods())


# -- personal link + password ------------------------------------------------------------------


@bp.route("/a/<token>", methods=["GET", "POST"])
@per_ip("link")
@per_account("link", _path_key)
def link_sign_in(token: str) -> Any:
    if not _methods()["link"]:
        flash("Signing in with the personal link is turned off. Use another way below.", "info")
        return redirect(url_for("portal.signin"))
    form = LinkSignInForm()
    account = portal_accounts.account_for_link(token)
    if request.method == "GET" and account is None:
        return render_template("portal/link_invalid.html"), 404
    error = None
    if form.validate_on_submit():
        try:
            account = portal_accounts.sign_in_with_link(token, form.password.data or "")
        except SignInFailed as exc:
            db.session.commit()  # keep the failure count and the log entry
            error = str(exc)
        else:
            return _signed_in(account, "link")
    first_name = account.record.first_name if account and account.is_primary else None
    return render_template("portal/link.html", form=form, error=error, first_name=first_name)


# -- email + password --------------------------------------------------------------------------


@bp.route("/signin/password", methods=["GET", "POST"])
@per_ip("password")
@per_account("password", _form_key("email"))
def password_sign_in() -> Any:
    _method_allowed("password")
    form = PasswordSignInForm()
    error = None
    if form.validate_on_submit():
        try:
            account = portal_accounts.sign_in_with_password(
                form.email.data or "", form.password.data or ""
            )
        except SignInFailed as exc:
            db.session.commit()
            error = str(exc)
        else:
            return _signed_in(account, "password")
    return render_template("portal/password_signin.html", form=form, error=error)


# -- one-time codes ------------------------------------------------------------------------------


def _channel(name: str) -> Channel:
    if name == "email":
        _method_allowed("email_code")
        return Channel.EMAIL
    if name == "sms":
        _method_allowed("sms_code")
        return Channel.SMS
    abort(404)


@bp.route("/code/<channel>", methods=["GET", "POST"])
@per_ip("code-request")
@per_account("code-request", _form_key("identifier"))
def code_request(channel: str) -> Any:
    chosen = _channel(channel)
    form = CodeRequestForm()
    if chosen == Channel.SMS:
        form.identifier.label.text = "Mobile number"
    if form.validate_on_submit():
        typed = (form.identifier.data or "").strip()
        # Known or not, the request only queues the work: the same page, the same time.
        portal_accounts.ask_for_code(chosen, typed)
        db.session.commit()
        identifier = portal_accounts.normalise_identifier(chosen, typed) or typed.lower()
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
@per_account("code-verify", _code_key)
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
            accounts = portal_accounts.verify_code(
                channel, pending["identifier"], form.code.data or ""
            )
        except SignInFailed:
            db.session.commit()
            error = _(
                "That code did not work. Check it, or ask for a new one: each code works "
                "once, for a few minutes, and a new code replaces the old one."
            )
        else:
            db.session.commit()
            session.pop("portal_code", None)
            if len(accounts) == 1:
                portal_accounts.complete_code_sign_in(accounts[0], channel)
                return _signed_in(accounts[0], f"code-{channel.value}")
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
        portal_accounts.complete_code_sign_in(chosen, channel)
        return _signed_in(chosen, f"code-{channel.value}")
    return render_template("portal/choose_account.html", form=form)


# -- invitations, resets, sign-out --------------------------------------------------------------


@bp.route("/invite/<token>", methods=["GET", "POST"])
@per_ip("invite")
@per_account("invite", _path_key)
def accept_invitation(token: str) -> Any:
    account = portal_accounts.account_for_invitation(token)
    if account is None:
        return render_template("portal/invitation_invalid.html"), 404
    form = NewPasswordForm()
    if form.validate_on_submit():
        try:
            account = portal_accounts.accept_invitation(
                token, form.password.data or "", form.confirm.data or ""
            )
        except ValidationError as exc:
            _field_error(form, exc)
        else:
            flash(_("Welcome! Your password is set."), "success")
            return _signed_in(account, "invitation")
    return render_template("portal/invitation.html", form=form, name=account.person_name)


@bp.route("/reset", methods=["GET", "POST"])
@per_ip("reset")
@per_account("reset", _form_key("email"))
def reset_request() -> Any:
    form = ResetRequestForm()
    if form.validate_on_submit():
        portal_accounts.ask_for_password_reset(form.email.data or "")
        db.session.commit()
        return render_template("portal/reset_sent.html")
    return render_template("portal/reset_request.html", form=form)


@bp.route("/reset/<token>", methods=["GET", "POST"])
@per_ip("reset-token")
@per_account("reset-token", _path_key)
def reset_password(token: str) -> Any:
    account = portal_accounts.account_for_reset(token)
    if account is None:
        return render_template("portal/reset_invalid.html"), 404
    form = NewPasswordForm()
    if form.validate_on_submit():
        try:
            portal_accounts.reset_password(token, form.password.data or "", form.confirm.data or "")
        except ValidationError as exc:
            _field_error(form, exc)
        else:
            end_session(sessions.PASSWORD_CHANGED)
            db.session.commit()
            flash(_("Your password is changed. Sign in with it now."), "success")
            return redirect(url_for("portal.signin"))
    return render_template("portal/reset.html", form=form, name=account.person_name)


@bp.post("/signout")
def signout() -> Any:
    form = SignOutForm()
    if form.validate_on_submit():
        end_session()
        db.session.commit()
        flash("You are signed out.", "success")
    return redirect(url_for("portal.signin"))


def _field_error(form: Any, exc: ValidationError) -> None:
    field = form[exc.field] if exc.field and exc.field in form else form.password
    field.errors = [*field.errors, exc.message]
