"""Staff authentication: Flask-Security-Too with argon2, generic failures, rate limits on
failures, a lockout per account, strong passwords, and sessions kept on the server.

Sessions: signing in opens a row in ``sign_in_sessions`` (:mod:`app.services.sessions`) whose
random id rides in the signed session cookie; every request checks that row, so signing out,
a password change, ``PORTICO_STAFF_IDLE_MINUTES`` without a request or
``PORTICO_SESSION_MAX_HOURS`` since sign-in end the session for every copy of the cookie.

Remember-me is off and its checkbox gone: a staff sign-in that outlives the browser and the idle
time-out would defeat both on the shared office computers Portico is used on, and a remember
cookie is a second credential that signing out cannot reach in other browsers. A remember
cookie issued before (Flask-Login still reads one), or an auth token Flask-Security hands out on
request, signs no one in: neither has a session row.
"""

from __future__ import annotations

from datetime import timedelta
from functools import wraps
from typing import Any

from flask import Flask, current_app, flash, request, session
from flask_limiter.util import get_remote_address
from flask_login import user_logged_in, user_logged_out
from flask_security import (
    LoginForm,
    PasswordUtil,
    SQLAlchemyUserDatastore,
    current_user,
    logout_user,
    password_changed,
)
from flask_security.utils import password_length_validator

from app.extensions import limiter, security
from app.services import sessions, staff_lockout
from models import Role, User, WebAuthn, db

#: Where the staff session's id lives in the (signed) session cookie.
STAFF_SID = "staff_sid"

SECURITY_DEFAULTS: dict[str, Any] = {
    "SECURITY_PASSWORD_HASH": "argon2",
    "SECURITY_URL_PREFIX": "/staff",
    "SECURITY_POST_LOGIN_VIEW": "/admin/",
    "SECURITY_POST_LOGOUT_VIEW": "/staff/login",
    "SECURITY_TRACKABLE": True,
    "SECURITY_CHANGEABLE": True,
    "SECURITY_SEND_PASSWORD_CHANGE_EMAIL": False,
    "SECURITY_LOGOUT_METHODS": ["POST"],
    "SECURITY_REGISTERABLE": False,
    "SECURITY_RECOVERABLE": False,
    "SECURITY_PASSWORD_LENGTH_MIN": 10,
    # zxcvbn's score 3 of 4: "safely unguessable" (the portal uses the same scale).
    "SECURITY_PASSWORD_COMPLEXITY_CHECKER": "zxcvbn",
    "SECURITY_ZXCVBN_MINIMUM_SCORE": 3,
    # Syntax checks only: a DNS lookup per address is slow and fails on closed networks.
    "SECURITY_EMAIL_VALIDATOR_ARGS": {"check_deliverability": False},
    # The same answer whether or not an address has an account.
    "SECURITY_RETURN_GENERIC_RESPONSES": True,
    # Validate ?next= strictly: no other host, no protocol-relative or backslash tricks.
    "SECURITY_REDIRECT_VALIDATE_MODE": "regex",
    "SECURITY_TOTP_ISSUER": "Portico",
    "SECURITY_FLASH_MESSAGES": True,
    "SECURITY_MSG_LOGIN": ("Please sign in to continue.", "info"),
    "SECURITY_DEFAULT_REMEMBER_ME": False,
    # Flask-Security's own header comes out as "private=True, no-store=True" with this
    # Werkzeug; app.headers sends "no-store" on every page instead.
    "SECURITY_CACHE_CONTROL": {},
    "WTF_CSRF_TIME_LIMIT": None,
    "REMEMBER_COOKIE_HTTPONLY": True,
}


class StaffLoginForm(LoginForm):
    """Flask-Security's sign-in form without remember-me, with the account lockout."""

    remember = None  # type: ignore[assignment]

    def validate(self, **kwargs: Any) -> bool:
        valid = super().validate(**kwargs)
        user = self.user
        if user is None:
            return valid  # no such account: the generic answer, nothing to count
        if not valid:
            if not self.user_authenticated:  # the password was wrong
                staff_lockout.record_failure(user)
            return False
        until = staff_lockout.locked_until(user)
        if until is not None:
            minutes = max(1, round((until - _now()).total_seconds() / 60))
            # Only someone who knows the password reads this; wrong guesses get the generic
            # answer, paused or not.
            self.form_errors.append(
                f"Sign-in to this account is paused for {minutes} more minute"
                f"{'' if minutes == 1 else 's'} after several wrong passwords. Try again "
                "then, or ask an admin to check the activity log."
            )
            return False
        staff_lockout.clear(user)
        return True


class StaffPasswordUtil(PasswordUtil):
    """Flask-Security's checks, with a message that says what to do about a weak password."""

    def validate(self, password: str, is_register: bool, **kwargs: Any) -> tuple[Any, str]:
        problems, normalised = super().validate(password, is_register, **kwargs)
        if problems and password_length_validator(normalised) is None:
            said = " ".join(str(problem) for problem in problems)
            if said.rstrip(".") == "Password not complex enough":
                said = ""
            problems = [
                " ".join(
                    part
                    for part in (
                        "This password is too easy to guess.",
                        said,
                        "A few uncommon words together make a strong password.",
                    )
                    if part
                )
            ]
        return problems, normalised


def _now() -> Any:
    from models import utcnow

    return utcnow()


def _account_key() -> str:
    """Rate-limit key for the account named in a sign-in attempt (falls back to the IP)."""
    email = ""
    if request.is_json:
        body = request.get_json(silent=True) or {}
        email = str(body.get("email", "")) if isinstance(body, dict) else ""
    else:
        email = request.form.get("email", "")
    email = email.strip().lower()
    return f"account:{email}" if email else f"ip:{get_remote_address()}"


def _sign_in_failed(response: Any) -> bool:
    """Only failed attempts count against the sign-in limits: an office behind one address
    signs in many times a day."""
    return not current_user.is_authenticated


def _committing(view: Any) -> Any:
    """Failed sign-ins are logged (and counted); Flask-Security commits only on success."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        response = view(*args, **kwargs)
        db.session.commit()
        return response

    return wrapped


# -- server-side staff sessions ------------------------------------------------------------------


def _idle() -> timedelta:
    return timedelta(minutes=int(current_app.config["PORTICO_STAFF_IDLE_MINUTES"]))


def _lifetime() -> timedelta:
    return timedelta(hours=int(current_app.config["PORTICO_SESSION_MAX_HOURS"]))


def _on_signed_in(sender: Any, user: User, **extra: Any) -> None:
    """A new row for this browser; a session it replaces (signing in again) ends."""
    previous = session.pop(STAFF_SID, None)
    if previous:
        sessions.end(previous, sessions.REPLACED)
    session[STAFF_SID] = sessions.start(
        user=user,
        ip=get_remote_address() if request else None,
        user_agent=request.user_agent.string if request else None,
    )


def _on_signed_out(sender: Any, user: Any = None, **extra: Any) -> None:
    sid = session.pop(STAFF_SID, None)
    if sid and sessions.end(sid, sessions.SIGNED_OUT):
        db.session.commit()


def _on_password_changed(sender: Any, user: User, **extra: Any) -> None:
    """Every other browser signed in as this user is signed out."""
    sessions.end_all(user=user, reason=sessions.PASSWORD_CHANGED, keep=session.get(STAFF_SID))


def _check_staff_session() -> None:
    """Before every request: a staff sign-in counts only while its session row is open."""
    endpoint = request.endpoint or ""
    if not endpoint or endpoint == "static" or endpoint.endswith(".static"):
        return
    if request.blueprint == "portal":
        return  # the client portal never asks who the staff user is (its preview does)
    # Whoever Flask-Login finds (the session, a remember cookie, an auth token in a header)
    # counts only with an open session row: none of them outlives signing out.
    if not current_user.is_authenticated:
        return  # anonymous: Flask-Login found no one without asking the database
    user_id = current_user.id
    verdict = sessions.check(session.get(STAFF_SID), idle=_idle(), lifetime=_lifetime())
    if verdict.wrote:
        db.session.commit()
    if verdict.valid and verdict.user_id == user_id:
        return
    logout_user()
    if verdict.reason == sessions.IDLE:
        minutes = int(current_app.config["PORTICO_STAFF_IDLE_MINUTES"])
        flash(f"You were signed out after {minutes} minutes without activity.", "info")
    elif verdict.reason == sessions.EXPIRED:
        hours = int(current_app.config["PORTICO_SESSION_MAX_HOURS"])
        flash(f"Please sign in again: a sign-in lasts at most {hours} hours.", "info")


def init_security(app: Flask) -> SQLAlchemyUserDatastore:
    for key, value in SECURITY_DEFAULTS.items():
        app.config.setdefault(key, value)
    datastore = SQLAlchemyUserDatastore(db, User, Role, WebAuthn)
    # Flask-Security takes the class only in its constructor; the extension object is built
    # unbound in app.extensions, which cannot import this module.
    security._password_util_cls = StaffPasswordUtil
    security.init_app(app, datastore, login_form=StaffLoginForm)

    limit = app.config["PORTICO_STAFF_LOGIN_LIMIT"]
    login_view = _committing(app.view_functions["security.login"])
    login_view = limiter.limit(
        limit,
        methods=["POST"],
        key_func=get_remote_address,
        scope="staff-login-ip",
        deduct_when=_sign_in_failed,
    )(login_view)
    login_view = limiter.limit(
        limit,
        methods=["POST"],
        key_func=_account_key,
        scope="staff-login-account",
        deduct_when=_sign_in_failed,
    )(login_view)
    app.view_functions["security.login"] = login_view

    user_logged_in.connect(_on_signed_in, app)
    user_logged_out.connect(_on_signed_out, app)
    password_changed.connect(_on_password_changed, app)
    app.before_request(_check_staff_session)
    return datastore
