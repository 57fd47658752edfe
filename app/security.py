"""Staff authentication: Flask-Security-Too with argon2, generic failures and rate limits."""

from __future__ import annotations

from typing import Any

from flask import Flask, request
from flask_limiter.util import get_remote_address
from flask_security import SQLAlchemyUserDatastore

from app.extensions import limiter, security
from models import Role, User, WebAuthn, db

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
    # Syntax checks only: a DNS lookup per address is slow and fails on closed networks.
    "SECURITY_EMAIL_VALIDATOR_ARGS": {"check_deliverability": False},
    # The same answer whether or not an address has an account.
    "SECURITY_RETURN_GENERIC_RESPONSES": True,
    # Validate ?next= strictly: no other host, no protocol-relative or backslash tricks.
    "SECURITY_REDIRECT_VALIDATE_MODE": "regex",
    "SECURITY_TOTP_ISSUER": "Portico",
    "SECURITY_FLASH_MESSAGES": True,
    "SECURITY_MSG_LOGIN": ("Please sign in to continue.", "info"),
    "WTF_CSRF_TIME_LIMIT": None,
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "REMEMBER_COOKIE_HTTPONLY": True,
    "REMEMBER_COOKIE_SAMESITE": "Lax",
}


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


def init_security(app: Flask) -> SQLAlchemyUserDatastore:
    for key, value in SECURITY_DEFAULTS.items():
        app.config.setdefault(key, value)
    datastore = SQLAlchemyUserDatastore(db, User, Role, WebAuthn)
    security.init_app(app, datastore)

    limit = app.config["PORTICO_STAFF_LOGIN_LIMIT"]
    login_view = app.view_functions["security.login"]
    login_view = limiter.limit(
        limit, methods=["POST"], key_func=get_remote_address, scope="staff-login-ip"
    )(login_view)
    login_view = limiter.limit(
        limit, methods=["POST"], key_func=_account_key, scope="staff-login-account"
    )(login_view)
    app.view_functions["security.login"] = login_view
    return datastore
