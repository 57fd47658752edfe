"""One commit per request, in one place.

Views parse input, call a service and render; services flush, never commit. When the view
has answered, the request commits what the services did, unless the answer is a server error
(5xx): then everything is rolled back. A 4xx answer commits too, on purpose: a wrong code or
password still counts as an attempt, and that count must not be lost with the refusal.

A service that refuses (raises :class:`~app.services.errors.ServiceError`) after changing
something is undone by :func:`attempt`, a savepoint around the call, so the rest of the
request (an attempt counted, a log line written) still commits. Jobs and CLI commands are
units of work of their own and commit themselves.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask, Response

from models import db

log = logging.getLogger(__name__)


def init_transactions(app: Flask) -> None:
    # after_request functions run last-registered first: this one is registered before the
    # others (see create_app), so it runs after them and commits what they wrote too.
    app.after_request(_finish)


def _finish(response: Response) -> Response:
    if response.status_code >= 500:
        db.session.rollback()
        return response
    if not db.session.registry.has():
        return response  # the request never used the database
    session = db.session()
    if not session.in_transaction():
        return response  # nothing begun, so nothing to commit
    # The answer is built; a streamed body (a CSV export) still reads what it loaded, so the
    # commit keeps those objects as they are rather than expiring them.
    expire, session.expire_on_commit = session.expire_on_commit, False
    try:
        session.commit()  # a failure here is the request's failure: a 500, nothing half-saved
    finally:
        session.expire_on_commit = expire
    return response


@contextmanager
def attempt() -> Iterator[None]:
    """Run a service call in a savepoint: if it raises, what it changed is undone (and the
    exception goes on to the view, which shows it); the rest of the request still commits."""
    with db.session.begin_nested():
        yield
