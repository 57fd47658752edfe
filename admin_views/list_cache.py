"""Staff list pages served again from the page cache (:mod:`app.services.page_cache`).

A list is read far more often than its rows change: a person pages through it, opens a record,
comes back. A list view with ``list_page_cache`` set keeps each page it renders per sign-in
session, address (filters, search, sort and page included) and language, for
``PORTICO_STAFF_LIST_CACHE_SECONDS``, with the versions of the office and of the records it was
rendered at. Any commit that changes a record (or its products, tags, contacts, portal
account...) or anything of the office (staff users, tags, settings) drops every kept list
page at once, in every process.

The lookup runs after the sign-in and the view's access check (so signing out, an ended
session or a role taken away take effect as on any page) and before the list reads anything.
A page is not kept when it showed a flash message or changed the browser's session, nor served
to a request with a flash message waiting; a sign-in keeps at most :data:`AT_MOST` pages at
once (a search typed letter by letter is many addresses).
"""

from __future__ import annotations

from flask import Response, after_this_request, current_app, g, request, session
from flask_babel import get_locale

from app.headers import csp_nonce
from app.security import STAFF_SID
from app.services import documents
from app.services import page_cache as kept_pages
from app.services.page_cache import Lookup

HEADER = kept_pages.HEADER
#: Pages one sign-in keeps at once (each some 70 KB of Redis): paging back and forth through
#: a list is a few; past this, pages are rendered and not kept until the oldest expire.
AT_MOST = 30


def serve_or_watch() -> Response | None:
    """The kept page for this request, or None after arranging for the page about to be
    rendered to be kept (when the cache is on and the request may use it)."""
    found = _lookup()
    if found is None:
        return None
    if found.body is not None:
        return kept_pages.respond(found, csp_nonce())
    g.staff_list_page = found
    after_this_request(_keep)
    return None


def _lookup() -> Lookup | None:
    seconds = int(current_app.config["PORTICO_STAFF_LIST_CACHE_SECONDS"])
    if seconds <= 0 or request.method != "GET" or "_flashes" in session:
        return None
    sid = session.get(STAFF_SID)
    # The page carries the browser's form token (bulk actions, delete): kept for one token.
    token = session.get(current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token"))
    if not isinstance(sid, str) or not isinstance(token, str):
        return None
    # The office's date too: a filter such as "created today" means another day tomorrow.
    address = f"{request.full_path}\n{documents.office_today().isoformat()}"
    return kept_pages.lookup(
        f"{sid}\n{token}",
        (kept_pages.OFFICE, kept_pages.RECORDS),
        str(get_locale()),
        address,
        seconds=seconds,
    )


def _keep(response: Response) -> Response:
    found: Lookup | None = g.pop("staff_list_page", None)
    if found is None:
        return response
    if kept_pages.keepable(response):
        kept_pages.keep(found, response.get_data(), g.get("csp_nonce") or "", at_most=AT_MOST)
    response.headers[HEADER] = "miss"
    return response
