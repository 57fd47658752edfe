"""Error pages: a clear message in HTML for people and in JSON for API clients, never a trace."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, Request, current_app, jsonify, render_template, request, session
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DataError
from werkzeug.exceptions import BadRequest, HTTPException, InternalServerError

from app.security import STAFF_SID

#: Where a signed-in client's account id lives in the session (portal.session).
PORTAL_ACCOUNT = "portal_account"

MESSAGES = {
    400: "The request could not be understood.",
    403: "You do not have access to this page.",
    404: "This page does not exist, or you do not have access to it.",
    405: "This action is not allowed here.",
    413: "The upload is too large.",
    429: "Too many attempts. Please wait a moment and try again.",
    500: "Something went wrong on our side. The error has been logged.",
    503: "The service is temporarily unavailable.",
}


def wants_json() -> bool:
    if request.path.startswith(("/portal/api/", "/api/")):
        return True
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return (
        best == "application/json"
        and request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]
    )


def _respond(code: int, message: str, extra: dict | None = None):  # type: ignore[no-untyped-def]
    if wants_json():
        body = {"error": {"code": code, "message": message, **(extra or {})}}
        return jsonify(body), code
    return render_template("errors/error.html", code=code, message=message), code


#: Names url_for keeps for itself: pages that carry their address's arguments into their links
#: (Flask-Admin's lists do) would fail on them, so an address using one is refused up front.
RESERVED_ARGS = frozenset({"endpoint", "values", "_anchor", "_method", "_scheme", "_external"})


#: Files one document upload request may carry, each within PORTICO_DOCUMENT_MAX_MB (the
#: documents service refuses more: ``app.services.documents.MAX_FILES``, checked equal by a test).
MAX_FILES_PER_REQUEST = 10

V = TypeVar("V", bound=Callable[..., Any])


def takes_documents(view: V) -> V:
    """Mark a view that receives document uploads: its requests may carry
    :data:`MAX_FILES_PER_REQUEST` files of ``PORTICO_DOCUMENT_MAX_MB`` each (checked one by
    one by the storage rule), not just ``PORTICO_MAX_REQUEST_MB`` in all. The limit is known
    when the URL is matched, before anything (CSRF protection included) reads the body."""
    view.takes_documents = True  # type: ignore[attr-defined]
    return view


def document_request_limit() -> int:
    per_file = int(current_app.config["PORTICO_DOCUMENT_MAX_MB"]) << 20
    return max(
        MAX_FILES_PER_REQUEST * per_file + (1 << 20),
        int(current_app.config.get("MAX_CONTENT_LENGTH") or 0),
    )


def _takes_documents(req: Request) -> bool:
    """A view marked :func:`takes_documents`, asked for by someone signed in where it is (a
    client on the portal, staff elsewhere). For anyone else nothing sent would be kept: their
    body gets the ordinary request limit, refused before it is read, rather than ten files'
    worth that the CSRF check would read first."""
    rule = req.url_rule
    view = current_app.view_functions.get(rule.endpoint) if rule is not None else None
    if not getattr(view, "takes_documents", False):
        return False
    return (PORTAL_ACCOUNT if req.blueprint == "portal" else STAFF_SID) in session


class TextCappedRequest(Request):
    """JSON carries text only: it gets the text limit (MAX_FORM_MEMORY_SIZE), not the one sized
    for uploads, so a huge body is refused before it is parsed. Decided when the body is first
    read, whichever hook reads it first (CSRF protection does)."""

    @property
    def max_content_length(self) -> int | None:
        limit = super().max_content_length
        if self._max_content_length is None and current_app and _takes_documents(self):
            return document_request_limit()
        if self._max_content_length is None and self.is_json and current_app:
            text = current_app.config.get("MAX_FORM_MEMORY_SIZE")
            if text and (limit is None or text < limit):
                return int(text)
        return limit

    @max_content_length.setter
    def max_content_length(self, value: int | None) -> None:
        self._max_content_length = value

    def _load_form_data(self) -> None:
        """A form part without a name (``name="\\r"`` parses to none) is the sender's error:
        refused with a 400 before anything (CSRF protection first) looks up a field by name."""
        super()._load_form_data()
        if None in self.form or None in self.files:
            raise BadRequest("Every part of the form needs a name.")


def _too_large():  # type: ignore[no-untyped-def]
    """Refused before the body was read (MAX_CONTENT_LENGTH, MAX_FORM_MEMORY_SIZE)."""
    limit_mb = int(current_app.config["PORTICO_MAX_REQUEST_MB"])
    if _takes_documents(request):
        limit_mb = document_request_limit() >> 20
    text = int(current_app.config.get("MAX_FORM_MEMORY_SIZE") or 0)
    text_size = f"{text >> 20} MB" if text % (1 << 20) == 0 else f"{text // 1024} KB"
    return _respond(
        413,
        f"This is more than Portico accepts at once: at most {limit_mb} MB in all, and "
        f"{text_size} of text outside files. Send smaller files, or fewer at a time.",
        {"max_mb": limit_mb},
    )


def init_errors(app: Flask) -> None:
    app.request_class = TextCappedRequest

    @app.before_request
    def _refuse_reserved_arguments():  # type: ignore[no-untyped-def]
        used = RESERVED_ARGS.intersection(request.args)
        if used:
            return _respond(400, f"The address has an argument Portico does not use: {min(used)}.")
        return None

    @app.errorhandler(CSRFError)
    def _csrf(error: CSRFError):  # type: ignore[no-untyped-def]
        if request.path.startswith("/portal/api/") and "portal_account" not in session:
            # Checked before the view: without a session the answer is the API's own 401.
            return _respond(401, "Sign in to the portal first.")
        return _respond(
            400,
            "This form has expired or was not sent from Portico. Go back, reload the page "
            "and try again.",
        )

    @app.errorhandler(HTTPException)
    def _http(error: HTTPException):  # type: ignore[no-untyped-def]
        code = error.code or 500
        if code == 429:
            retry = getattr(error, "retry_after", None)
            message = MESSAGES[429]
            return _respond(code, message, {"retry_after": retry} if retry else None)
        if code == 413:
            return _too_large()
        message = MESSAGES.get(code) or error.description or "Error"
        if error.description and error.description != type(error).description:
            message = error.description  # a message written for this case
        return _respond(code, message)

    @app.errorhandler(OverflowError)
    @app.errorhandler(DataError)
    def _out_of_range(error: Exception):  # type: ignore[no-untyped-def]
        # An id or number beyond what the database stores: the request's fault, not ours.
        from models import db

        db.session.rollback()
        return _respond(400, "A number in the request is out of range.")

    @app.errorhandler(InternalServerError)
    def _server_error(error: InternalServerError):  # type: ignore[no-untyped-def]
        return _respond(500, MESSAGES[500])
