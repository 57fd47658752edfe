"""Rate limits of the portal's POSTs, written once: per address (IP) and per account.

A route takes both: ``@per_ip("scope")`` and ``@per_account("scope", key)``, where the key
names the account being tried (an email typed in a form, the token in the path, the code
being verified, the signed-in account). The limit is ``PORTICO_PORTAL_LOGIN_LIMIT`` unless
the route names its own (uploads: :data:`UPLOAD_LIMIT`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import current_app, request, session
from flask_limiter.util import get_remote_address

from app.extensions import limiter
from app.services.portal_credentials import token_hash

KeyFunc = Callable[[], str]

#: Document uploads per signed-in account (each may carry several files): enough for a client
#: sending a year's paperwork, not for filling the office's storage.
UPLOAD_LIMIT = "20 per hour;60 per day"


def uploads_per_account() -> Any:
    """:data:`UPLOAD_LIMIT` per signed-in account, one count for the page and the API."""
    return limiter.shared_limit(
        lambda: UPLOAD_LIMIT,
        scope="portal-documents-upload-account",
        key_func=account_key,
        methods=["POST"],
    )


#: Documents opened per signed-in account: each open is logged, and may tell the office.
READ_LIMIT = "60 per minute;1000 per day"


def per_account_reads(scope: str) -> Any:
    """A limit on a GET that writes (a document's open is logged), per signed-in account."""
    return limiter.limit(
        lambda: READ_LIMIT, methods=["GET"], key_func=account_key, scope=f"portal-{scope}-reads"
    )


#: Referrals per signed-in account and per address (IP): each makes a lead and tells the
#: office, so a client can refer a few friends an hour, never script a list of strangers in.
#: Only referrals taken count: a typo the form sends back does not use one up.
REFERRAL_LIMIT = "5 per hour;20 per day"
REFERRAL_IP_LIMIT = "20 per hour;50 per day"


def _taken(response: Any) -> bool:
    return response.status_code in (201, 302)


def taken_only(limit: Callable[[], str], scope: str, key: KeyFunc | None = None) -> Any:
    """``limit()`` (read when a request comes, so a test may lift it) per signed-in account
    (or per ``key``), one count for every route it decorates, page and API alike; only what is
    taken counts (201 or a redirect after a form): a form sent back to fix uses nothing up."""
    return limiter.shared_limit(
        limit, scope=scope, key_func=key or account_key, methods=["POST"], deduct_when=_taken
    )


def referrals_per_account() -> Any:
    """:data:`REFERRAL_LIMIT` per signed-in account, one count for the page and the API."""
    return taken_only(lambda: REFERRAL_LIMIT, "portal-referral-account")


def referrals_per_ip() -> Any:
    """:data:`REFERRAL_IP_LIMIT` per address, one count for the page and the API."""
    return taken_only(lambda: REFERRAL_IP_LIMIT, "portal-referral-ip", key=get_remote_address)


#: Reviews per signed-in account, one count for the page and the API: each tells the agent
#: (a low one makes them a task), so a client may say what they think, not script a flood.
#: Only reviews taken count: a form sent back to fix does not use one up.
REVIEW_LIMIT = "5 per hour;10 per day"


def reviews_per_account() -> Any:
    """:data:`REVIEW_LIMIT` per signed-in account, one count for the page and the API."""
    return taken_only(lambda: REVIEW_LIMIT, "portal-review-account")


#: Replies per signed-in account in request threads, one count for the page and the API: each
#: tells the office (and may carry files), enough for a conversation, not for a flood. Only
#: replies taken count: a message sent back to fix does not use one up.
REPLY_LIMIT = "30 per hour;200 per day"


def replies_per_account() -> Any:
    """:data:`REPLY_LIMIT` per signed-in account, one count for the page and the API."""
    return taken_only(lambda: REPLY_LIMIT, "portal-request-reply-account")


#: Messages through *Contact us* per signed-in account, one count for the page and the API:
#: each emails the adviser and starts a thread. Only messages taken count.
CONTACT_LIMIT = "10 per hour;30 per day"


def contact_per_account() -> Any:
    """:data:`CONTACT_LIMIT` per signed-in account, one count for the page and the API."""
    return taken_only(lambda: CONTACT_LIMIT, "portal-contact-account")


def _limit() -> str:
    return str(current_app.config["PORTICO_PORTAL_LOGIN_LIMIT"])


def per_ip(scope: str) -> Any:
    return limiter.limit(
        _limit, methods=["POST"], key_func=get_remote_address, scope=f"portal-{scope}-ip"
    )


def per_account(scope: str, key_func: KeyFunc) -> Any:
    return limiter.limit(
        _limit, methods=["POST"], key_func=key_func, scope=f"portal-{scope}-account"
    )


def form_key(field: str) -> KeyFunc:
    """The account a form's ``field`` names (an email address typed), else the address."""

    def key() -> str:
        value = (request.form.get(field) or "").strip().lower()
        return f"{field}:{value}" if value else f"ip:{get_remote_address()}"

    return key


def path_key() -> str:
    """The account the ``token`` in the path names (hashed: the key is stored in Redis)."""
    token = (request.view_args or {}).get("token", "")
    return "token:" + token_hash(str(token))[:24]


def code_key() -> str:
    """The address or number a one-time code went to."""
    pending = session.get("portal_code") or {}
    return f"code:{pending.get('identifier', get_remote_address())}"


def account_key() -> str:
    """The signed-in account."""
    return f"account:{session.get('portal_account')}"
