"""Staff authentication: Flask-Security-Too with argon2, generic failures, attempts counted
before the password is checked (successes given back), a pause per account and address, the
one password rule of :mod:`app.services.passwords`, and sessions kept on the server.

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

from flask import Flask, current_app, flash, g, request, session
from flask_limiter.util import get_remote_address
from flask_login import user_logged_in, user_logged_out
from flask_principal import AnonymousIdentity
from flask_security import (
    LoginForm,
    PasswordUtil,
    SQLAlchemyUserDatastore,
    current_user,
    logout_user,
    password_changed,
)
from flask_security.utils import get_message
from werkzeug.exceptions import TooManyRequests

from app.extensions import security
from app.services import passwords, sessions, staff_lockout
from app.services.errors import ValidationError
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
    # No complexity checker of Flask-Security's: StaffPasswordUtil applies our one rule.
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
    """Flask-Security's sign-in form without remember-me, with the pause per account and
    address (:mod:`app.services.staff_lockout`)."""

    remember = None  # type: ignore[assignment]

    def validate(self, **kwargs: Any) -> bool:
        valid = super().validate(**kwargs)  # checks the password hash whenever there is a user
        user = self.user
        if user is None:
            return valid  # no such account: the generic answer, nothing to count
        ip = get_remote_address()
        if staff_lockout.locked_until(user, ip=ip) is not None:
            # Paused from this address: every password, the right one too, gets the answer a
            # wrong one gets, so a right guess shows nothing. The owner was told by email.
            if self.user_authenticated:
                self.user_authenticated = False
                self.password.errors.append(get_message("INVALID_PASSWORD")[0])
            else:
                staff_lockout.record_failure(user, ip=ip)
            return False
        if not valid:
            if not self.user_authenticated:  # the password was wrong
                staff_lockout.record_failure(user, ip=ip)
            return False
        staff_lockout.clear(user, ip=ip)
        return True


def _person_words(kwargs: dict[str, Any]) -> list[str]:
    """What Flask-Security knows of the person setting a password: the signed-in user at
    /staff/change, otherwise the values passed along (email, names)."""
    user = kwargs.get("user")
    if user is not None:
        return [str(getattr(user, name, "") or "") for name in ("email", "first_name", "last_name")]
    words: list[str] = []
    for value in kwargs.values():
        if isinstance(value, str):
            words.append(value)
        elif isinstance(value, list | tuple):
            words.extend(str(item) for item in value if isinstance(item, str))
    return words


class StaffPasswordUtil(PasswordUtil):
    """Every new password, staff or client (staff panel, /staff/change, ``flask users
    create``, the portal), meets one rule: :func:`app.services.passwords.check_strength`,
    with its messages."""

    def validate(self, password: str, is_register: bool, **kwargs: Any) -> tuple[Any, str]:
        normalised = self.normalize(password)
        try:
            passwords.check_strength(normalised, user_inputs=_person_words(kwargs))
        except ValidationError as exc:
            return [exc.message], normalised
        return None, normalised


def _named_email() -> str:
    """The account a sign-in attempt names (lower-cased; empty when it names none)."""
    if request.is_json:
        body = request.get_json(silent=True) or {}
        email = str(body.get("email", "")) if isinstance(body, dict) else ""
    else:
        email = request.form.get("email", "")
    return email.strip().lower()[:320]


def _attempts_counted(view: Any) -> Any:
    """Each sign-in POST takes an attempt from its address's and its account's budget before
    the password is checked, so parallel requests cannot slip past the limit; a successful
    sign-in gives it back (an office behind one address signs in many times a day)."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if request.method != "POST":
            return view(*args, **kwargs)
        reservation = staff_lockout.reserve_attempt(get_remote_address(), _named_email())
        if reservation.refused:
            raise TooManyRequests(retry_after=reservation.retry_after)
        response = view(*args, **kwargs)
        if current_user.is_authenticated:
            reservation.give_back()
            staff_lockout.remember_address(str(current_user.email), get_remote_address())
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
    if sid:
        sessions.end(sid, sessions.SIGNED_OUT)
    if request and request.endpoint == "security.logout":
        # Said only for a sign-out asked for: time-outs say why they signed the user out.
        flash("You are signed out.", "info")


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

    # A failed sign-in is logged and counted by the form; the request commits it (a refusal is
    # not a server error), although Flask-Security itself commits only on success.
    app.view_functions["security.login"] = _attempts_counted(app.view_functions["security.login"])

    user_logged_in.connect(_on_signed_in, app)
    user_logged_out.connect(_on_signed_out, app)
    password_changed.connect(_on_password_changed, app)
    app.before_request(_check_staff_session)
    _skip_staff_identity_in_the_portal(app)
    return datastore


def _skip_staff_identity_in_the_portal(app: Flask) -> None:
    """Flask-Principal loads the staff identity (the user and their roles) before every
    request. The client portal never asks who the staff user is (its preview, a blueprint of
    its own, does, and keeps the identity), so its requests skip that: a twelfth of a kept
    portal page. A view there that read the identity would find it anonymous."""
    original = security.principal._on_before_request
    funcs = app.before_request_funcs.setdefault(None, [])

    def load_identity() -> None:
        if request.blueprint == "portal":
            g.identity = AnonymousIdentity()
            return None
        return original()

    funcs[funcs.index(original)] = load_identity
