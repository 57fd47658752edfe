"""Rate limits of the journeys' POSTs: per address (IP), per email and per session, through
the portal's helpers (:mod:`portal.limits`) where they fit.

The welcome form counts per address and per email typed; PIN entry per session, per the
session's email and per address (answered the same whether the email is known to the office:
nothing here looks a record up); new PINs and uploads per session.
"""

from __future__ import annotations

from typing import Any

from flask import current_app, request
from flask_limiter.util import get_remote_address
from sqlalchemy import select

from app.extensions import limiter
from models import JourneySession, db
from portal.limits import form_key, path_key, per_account, per_ip

#: PINs typed for one email address in a day, whichever session, journey or address: a
#: visitor needs a handful, a guesser thousands.
PIN_EMAIL_DAY_LIMIT = "50 per day"
#: New PINs per session and per address: each is an email.
RESEND_LIMIT = "5 per hour"
RESEND_IP_LIMIT = "20 per hour"
#: A session's steps (forms, uploads, signing pages): enough to go back and change things,
#: not to fill the office's storage.
STEP_LIMIT = "60 per hour;300 per day"
#: Drafts of the signing page (one on every change) and its page images, per session.
DRAFT_LIMIT = "120 per minute;3000 per day"
IMAGE_LIMIT = "600 per hour"


def session_key() -> str:
    """The session in the path."""
    return "journey-session:" + str((request.view_args or {}).get("public_id", "-"))[:40]


def session_email_key() -> str:
    """The email of the session in the path: PINs tried for one address, whichever session."""
    public_id = str((request.view_args or {}).get("public_id", ""))
    email = db.session.scalar(
        select(JourneySession.email).where(JourneySession.public_id == public_id)
    )
    return f"email:{email}" if email else f"ip:{get_remote_address()}"


def welcome() -> list[Any]:
    """The welcome form: per address and per email typed."""
    return [per_ip("journey-welcome"), per_account("journey-welcome", form_key("email"))]


def pin() -> list[Any]:
    """PIN entry: per address, per session and per the session's email."""
    return [
        per_ip("journey-pin"),
        per_account("journey-pin", session_key),
        limiter.limit(
            _login_limit,
            methods=["POST"],
            key_func=session_email_key,
            scope="portal-journey-pin-email",
        ),
        # A day's cap on top: each new PIN (at most 30 a day to one address) brings its own
        # tries, so without it the wrong guesses at one address would add up over the day.
        limiter.limit(
            lambda: PIN_EMAIL_DAY_LIMIT,
            methods=["POST"],
            key_func=session_email_key,
            scope="portal-journey-pin-email-day",
        ),
    ]


def _login_limit() -> str:
    return str(current_app.config["PORTICO_PORTAL_LOGIN_LIMIT"])


def per_session(rate: str, scope: str, methods: tuple[str, ...] = ("POST",)) -> Any:
    return limiter.limit(
        lambda: rate, key_func=session_key, methods=list(methods), scope=f"journey-{scope}"
    )


def resend() -> list[Any]:
    """New PINs: per session and per address."""
    return [
        per_session(RESEND_LIMIT, "resend"),
        limiter.limit(
            lambda: RESEND_IP_LIMIT,
            methods=["POST"],
            key_func=get_remote_address,
            scope="journey-resend-ip",
        ),
    ]


def resume() -> list[Any]:
    """The emailed link back (a guessed token finds nothing): per address and per token."""
    return [per_ip("journey-resume"), per_account("journey-resume", path_key)]


def apply(decorators: list[Any]) -> Any:
    """Decorate a view with each of ``decorators``."""

    def decorate(view: Any) -> Any:
        for decorator in reversed(decorators):
            view = decorator(view)
        return view

    return decorate
