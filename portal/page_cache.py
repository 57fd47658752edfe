"""Portal pages served again from the page cache (:mod:`app.services.page_cache`).

A screen marked :func:`cached_page` is looked up before the request reads anything from the
database (so it is kept with the versions read before its data); the sign-in is then checked
as for any page, and only a valid sign-in of the same record gets the kept page, with this
response's CSP nonce. A page is not kept when it showed a flash message or changed the
browser's session, nor served to a request with a flash message waiting.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

from flask import Response, current_app, g, request, session
from flask_babel import get_locale

from app.extensions import limiter
from app.headers import csp_nonce
from app.services import documents
from app.services import page_cache as kept_pages
from app.services.page_cache import Lookup
from models import utcnow
from portal import bp

View = TypeVar("View", bound=Callable[..., Any])
HEADER = kept_pages.HEADER


def cached_page(view: View) -> View:
    """Keep this GET screen per sign-in session (put it under ``client_screen``). Such a
    screen carries no rate limit of its own (tests/views/test_portal_page_cache.py)."""
    view.portal_page_cache = True  # type: ignore[attr-defined]
    return view


@limiter.request_filter
def _unlimited() -> bool:
    """A cacheable screen has no rate limit to check: the limiter skips it rather than work
    out, on the page clients open most, that none applies (a twentieth of a kept page)."""
    if request.method != "GET":
        return False
    view = current_app.view_functions.get(request.endpoint or "")
    return bool(getattr(view, "portal_page_cache", False))


def lookup() -> Lookup | None:
    """The kept page (or where to keep it) for this request, if its screen is cacheable."""
    if request.method != "GET" or request.query_string or "_flashes" in session:
        # With a query string a client could have any number of copies kept: never kept.
        return None
    view = current_app.view_functions.get(request.endpoint or "")
    if not getattr(view, "portal_page_cache", False):
        return None
    sid, record_id = session.get("portal_sid"), session.get("portal_record")
    if not isinstance(sid, str) or not isinstance(record_id, int):
        return None  # a cookie from before the cache knew the record: rendered every time
    # The page carries the browser's form token, which can change while the sign-in holds
    # (staff signing out in the same browser drops it): a page is kept for one token only.
    token = session.get(current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token"))
    if not isinstance(token, str):
        return None  # the page makes the token, so it is not kept: the next one is
    # The office's date too: what a page shows by the day (a share's last day) renews with it.
    address = f"{request.path}\n{documents.office_today().isoformat()}"
    return kept_pages.lookup(
        f"{sid}\n{token}",
        (kept_pages.OFFICE, record_id),
        str(get_locale()),
        address,
        seconds=int(current_app.config["PORTICO_PORTAL_PAGE_CACHE_SECONDS"]),
    )


def keep_until(when: datetime) -> None:
    """What this page shows changes by the clock at ``when`` (a sign request expires): it is
    kept no longer than that."""
    if g.get("portal_page_until") is None or when < g.portal_page_until:
        g.portal_page_until = when


def respond(found: Lookup) -> Response:
    return kept_pages.respond(found, csp_nonce())


@bp.after_request
def _keep(response: Response) -> Response:
    found: Lookup | None = g.pop("portal_page", None)
    if found is None or found.body is not None:
        return response
    if kept_pages.keepable(response):
        until = g.get("portal_page_until")
        kept_pages.keep(
            found,
            response.get_data(),
            g.get("csp_nonce") or "",
            for_seconds=None if until is None else int((until - utcnow()).total_seconds()),
        )
    response.headers[HEADER] = "miss"
    return response
