"""Signing in with a password (the personal link's, or email and password), accepting an
invitation, resetting a forgotten password, signing out."""

from __future__ import annotations

from typing import Any

from flask import flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from app import transactions
from app.services import invitations, password_resets, portal_sign_in, sessions
from app.services.errors import ValidationError
from app.services.portal_settings import sign_in_methods
from app.services.portal_sign_in import SignInFailed
from portal import bp
from portal.forms import (
    LinkSignInForm,
    NewPasswordForm,
    PasswordSignInForm,
    ResetRequestForm,
    SignOutForm,
)
from portal.limits import form_key, path_key, per_account, per_ip
from portal.session import end_session
from portal.signin import field_error, method_allowed, signed_in


@bp.get("/")
def signin() -> Any:
    if g.get("portal_account") is not None:
        return redirect(url_for("portal.home"))
    return render_template("portal/signin.html", methods=sign_in_methods())


@bp.route("/a/<token>", methods=["GET", "POST"])
@per_ip("link")
@per_account("link", path_key)
def link_sign_in(token: str) -> Any:
    if not sign_in_methods()["link"]:
        flash(_("Signing in with the personal link is turned off. Use another way below."), "info")
        return redirect(url_for("portal.signin"))
    form = LinkSignInForm()
    account = portal_sign_in.account_for_link(token)
    if request.method == "GET" and account is None:
        return render_template("portal/link_invalid.html"), 404
    error = None
    if form.validate_on_submit():
        try:
            account = portal_sign_in.sign_in_with_link(token, form.password.data or "")
        except SignInFailed as exc:
            error = str(exc)
        else:
            return signed_in(account, "link")
    first_name = account.record.first_name if account and account.is_primary else None
    return render_template("portal/link.html", form=form, error=error, first_name=first_name)


@bp.route("/signin/password", methods=["GET", "POST"])
@per_ip("password")
@per_account("password", form_key("email"))
def password_sign_in() -> Any:
    method_allowed("password")
    form = PasswordSignInForm()
    error = None
    if form.validate_on_submit():
        try:
            account = portal_sign_in.sign_in_with_password(
                form.email.data or "", form.password.data or ""
            )
        except SignInFailed as exc:
            error = str(exc)
        else:
            return signed_in(account, "password")
    return render_template("portal/password_signin.html", form=form, error=error)


@bp.route("/invite/<token>", methods=["GET", "POST"])
@per_ip("invite")
@per_account("invite", path_key)
def accept_invitation(token: str) -> Any:
    account = invitations.account_for_invitation(token)
    if account is None:
        return render_template("portal/invitation_invalid.html"), 404
    form = NewPasswordForm()
    if form.validate_on_submit():
        try:
            with transactions.attempt():  # refused: the invitation stays as it was
                account = invitations.accept_invitation(
                    token, form.password.data or "", form.confirm.data or ""
                )
        except ValidationError as exc:
            field_error(form, exc)
        else:
            flash(_("Welcome! Your password is set."), "success")
            return signed_in(account, "invitation")
    return render_template("portal/invitation.html", form=form, name=account.person_name)


@bp.route("/reset", methods=["GET", "POST"])
@per_ip("reset")
@per_account("reset", form_key("email"))
def reset_request() -> Any:
    form = ResetRequestForm()
    if form.validate_on_submit():
        password_resets.ask_for_password_reset(form.email.data or "")
        return render_template("portal/reset_sent.html")
    return render_template("portal/reset_request.html", form=form)


@bp.route("/reset/<token>", methods=["GET", "POST"])
@per_ip("reset-token")
@per_account("reset-token", path_key)
def reset_password(token: str) -> Any:
    account = password_resets.account_for_reset(token)
    if account is None:
        return render_template("portal/reset_invalid.html"), 404
    form = NewPasswordForm()
    if form.validate_on_submit():
        try:
            with transactions.attempt():  # refused: the password stays as it was
                password_resets.reset_password(
                    token, form.password.data or "", form.confirm.data or ""
                )
        except ValidationError as exc:
            field_error(form, exc)
        else:
            end_session(sessions.PASSWORD_CHANGED)
            flash(_("Your password is changed. Sign in with it now."), "success")
            return redirect(url_for("portal.signin"))
    return render_template("portal/reset.html", form=form, name=account.person_name)


@bp.post("/signout")
def signout() -> Any:
    form = SignOutForm()
    if form.validate_on_submit():
        end_session()
        flash(_("You are signed out."), "success")
    return redirect(url_for("portal.signin"))
