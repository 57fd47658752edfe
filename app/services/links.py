"""Links that leave the app (in emails, texts, PDFs): built from endpoint names, like
``url_for(..., _external=True)``, against ``PORTICO_BASE_URL`` rather than the request's own
host, so a worker (no request at all) and a web process behind a proxy write the same
address. No service writes a URL as a string: a renamed route breaks a test, not an email."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import current_app
from werkzeug.routing import MapAdapter


def _adapter() -> MapAdapter:
    base = urlsplit(current_app.config["PORTICO_BASE_URL"])
    return current_app.url_map.bind(
        base.netloc,
        script_name=base.path.rstrip("/") or "/",
        url_scheme=base.scheme or "http",
    )


def external(endpoint: str, **values: Any) -> str:
    """The absolute address of ``endpoint`` (a view name, as for ``url_for``)."""
    return _adapter().build(endpoint, values, force_external=True)


def home() -> str:
    """The office's address (the links' base), for a footer or a plain "open Portico"."""
    return str(current_app.config["PORTICO_BASE_URL"]).rstrip("/") + "/"


# -- the links messages carry, by name, so a template's placeholder has one source ------------


def portal() -> str:
    return external("portal.signin")


def portal_link(token: str) -> str:
    """A client's personal sign-in link."""
    return external("portal.link_sign_in", token=token)


def invitation(token: str) -> str:
    return external("portal.accept_invitation", token=token)


def password_reset(token: str) -> str:
    return external("portal.reset_password", token=token)


def review() -> str:
    """The client's "Leave a review" page (sign-in first when not signed in)."""
    return external("portal.review")


def portal_request(conversation_id: int) -> str:
    """A conversation's page in the client's portal (sign-in first when not signed in)."""
    return external("portal.request_thread", conversation_id=conversation_id)


def record(record_id: int) -> str:
    """The record's page in the staff panel."""
    return external("record.details_view", id=record_id)


def staff_conversation(conversation_id: int) -> str:
    """A conversation's thread in the staff panel (the Requests inbox)."""
    return external("requests.thread", conversation_id=conversation_id)


def my_tasks() -> str:
    return external("my_tasks.index_view")


def staff_sign_in() -> str:
    return external("security.login")


def sign_link(token: str) -> str:
    """A signer's personal link to a document to sign (then a one-time code)."""
    return external("portal.sign_link", token=token)


def staff_sign_request(request_id: int) -> str:
    """A sign request's page in the staff panel."""
    return external("sign_requests.request_page", request_id=request_id)
