"""This browser's journey cookie, ``portico_journey``: the sessions it may open and the secret
behind its forms' CSRF tokens.

Signed (the app's secret key), HttpOnly, for ``/f/`` only, and apart from the Flask session:
in a frame on another site a browser sends only a cookie marked ``SameSite=None; Secure``
(and, as third-party cookies go away, ``Partitioned``: kept per embedding site), which the
staff and portal cookies must never be. Over plain HTTP (development, tests) it is ``Lax``.

A session's id in the address opens nothing alone: the browser that started the session, or
typed a fresh PIN for it, holds the id in ``bound``. A browser that opened an emailed resume
link holds the id in ``pending`` until its PIN is right; the PIN page alone accepts those.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Any

from flask import Response, abort, current_app, g, request
from flask_babel import gettext as _
from itsdangerous import BadSignature, URLSafeTimedSerializer

NAME = "portico_journey"
PATH = "/f/"
#: The cookie lives a day from the visitor's last page: longer than any PIN, and the abandon
#: delay; coming back later is what the emailed resume link (and a fresh PIN) is for.
SECONDS = 24 * 60 * 60
#: Sessions one browser holds at most (the newest are kept).
MAX_SESSIONS = 8
#: Where a form's token travels: a form field, or a header for the signing page's drafts.
FIELD = "csrf_token"
HEADER = "X-CSRFToken"


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key or "", salt="portico-journey")


def _state() -> dict[str, Any]:
    """The cookie's content, read once a request; a missing, forged or stale cookie is a
    fresh one."""
    state = g.get("journey_cookie")
    if state is None:
        state = {"bound": [], "pending": [], "csrf": ""}
        raw = request.cookies.get(NAME)
        if raw:
            try:
                loaded = _serializer().loads(raw, max_age=SECONDS)
            except BadSignature:
                loaded = None
            if isinstance(loaded, dict):
                for key in ("bound", "pending"):
                    ids = loaded.get(key)
                    if isinstance(ids, list):
                        state[key] = [str(i) for i in ids][-MAX_SESSIONS:]
                if isinstance(loaded.get("csrf"), str):
                    state["csrf"] = loaded["csrf"]
        g.journey_cookie = state
    return state


def bound() -> list[str]:
    """The sessions this browser may go on with."""
    return list(_state()["bound"])


def pending() -> list[str]:
    """The sessions this browser asked to resume, waiting for their PIN."""
    return list(_state()["pending"])


def _keep(key: str, public_id: str) -> None:
    state = _state()
    ids = [i for i in state[key] if i != public_id]
    state[key] = [*ids, public_id][-MAX_SESSIONS:]
    g.journey_cookie_changed = True


def bind(public_id: str) -> None:
    """This browser started the session, or typed its PIN: it may open it from now on."""
    state = _state()
    state["pending"] = [i for i in state["pending"] if i != public_id]
    _keep("bound", public_id)


def add_pending(public_id: str) -> None:
    """This browser asked to resume the session: its PIN page opens, nothing else."""
    _keep("pending", public_id)


def forget(public_id: str) -> None:
    """The session is over for this browser (its PIN tries ran out)."""
    state = _state()
    for key in ("bound", "pending"):
        state[key] = [i for i in state[key] if i != public_id]
    g.journey_cookie_changed = True


def _secret() -> str:
    state = _state()
    if not state["csrf"]:
        state["csrf"] = secrets.token_urlsafe(24)
        g.journey_cookie_changed = True
    return str(state["csrf"])


def csrf_token() -> str:
    """The token this browser's journey forms carry (derived from the cookie's secret, so the
    page shows a token while the secret itself stays in the HttpOnly cookie)."""
    secret = current_app.secret_key or ""
    key = secret.encode() if isinstance(secret, str) else secret
    return hmac.new(key, f"journey-csrf:{_secret()}".encode(), hashlib.sha256).hexdigest()


def check_csrf() -> None:
    """Refuse a POST whose token is not this browser's (400)."""
    if NAME not in request.cookies:
        # Some browsers keep no cookie for a page framed by another site.
        abort(
            400,
            description=_(
                "Your browser did not keep this page's cookie, which the form needs: it may "
                "refuse cookies inside another site's page. Open the form in a new tab."
            ),
        )
    sent = request.headers.get(HEADER) or request.form.get(FIELD) or ""
    if not _state()["csrf"] or not hmac.compare_digest(sent, csrf_token()):
        abort(400, description=_("This form has expired. Reload the page and try again."))


def missing() -> bool:
    """This browser sent no journey cookie with its form."""
    return request.method == "POST" and NAME not in request.cookies


def save(response: Response) -> Response:
    """Write the cookie when it changed or was used: each page the visitor opens gives it
    another day."""
    state = g.get("journey_cookie")
    if state is None or not (g.get("journey_cookie_changed") or request.cookies.get(NAME)):
        return response
    secure = request.is_secure
    response.set_cookie(
        NAME,
        _serializer().dumps(state),
        max_age=SECONDS,
        path=PATH,
        httponly=True,
        secure=secure,
        samesite="None" if secure else "Lax",
        partitioned=secure,
    )
    return response
