"""Portal sign-in: personal link and password, email and password, one-time codes by email or
text, invitations, password reset, sign-out, and confirming it's you before the sign-in email
or mobile changes. Every POST is rate limited per address and per account (portal/limits.py);
every failure reads the same.

A refused sign-in still counts: the service records the failed attempt, and the request
commits it with the refusal (app/transactions.py).
"""

from __future__ import annotations

from typing import Any

from flask import abort, redirect, url_for

from app.services.errors import ValidationError
from app.services.portal_settings import sign_in_methods
from models import PortalAccount
from portal.session import start_session


def method_allowed(name: str) -> None:
    if not sign_in_methods()[name]:
        abort(404)


def signed_in(account: PortalAccount, method: str) -> Any:
    start_session(account, method)
    return redirect(url_for("portal.home"))


def field_error(form: Any, exc: ValidationError) -> None:
    field = form[exc.field] if exc.field and exc.field in form else form.password
    field.errors = [*field.errors, exc.message]
