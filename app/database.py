"""The engine's options, and when a pooled connection to a database server is checked.

SQLAlchemy's ``pool_pre_ping`` pings the server every time a connection leaves the pool: one
more round trip for every request and every job, whatever the request is (on PostgreSQL, a
kept portal page made two: the ping and its one SELECT). Here a connection that was back in the
pool less than :data:`TRUSTED_SECONDS` ago is trusted without a ping; one that sat longer is
pinged on its way out as before, and if the server is gone it is replaced, with every other
pooled connection, before the request sees it.

What that trades: a server lost in the seconds between two uses of a connection fails the
first statement of the next request on it (a request that began that close to the failure is,
for its user, the same as one that was in flight), and SQLAlchemy then drops every pooled
connection at once, so the requests after it connect afresh. Rails made the same choice for
the same reason: a connection used within the last two seconds is not verified again.
SQLite has no server to lose, and is never pinged.
"""

from __future__ import annotations

import time
from typing import Any

from flask import Flask
from sqlalchemy import event, exc
from sqlalchemy.engine import Engine

#: A connection back in the pool less than this long ago goes out without a ping.
TRUSTED_SECONDS = 2.0
_RETURNED = "portico_returned_at"


def configure(app: Flask) -> None:
    """The engine's options from the configuration (before the engine is made)."""
    uri: str = app.config["SQLALCHEMY_DATABASE_URI"]
    options: dict[str, Any] = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    if uri.startswith("sqlite"):
        options.setdefault("connect_args", {"timeout": 30})
    else:
        # Checked by ping_when_idle, unless the configuration asks for SQLAlchemy's own.
        options.setdefault("pool_pre_ping", False)
        options.setdefault("pool_size", 5)
        options.setdefault("max_overflow", 10)
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options
    app.config.setdefault("SQLALCHEMY_TRACK_MODIFICATIONS", False)


def ping_when_idle(app: Flask, engine: Engine) -> None:
    """Ping a server's pooled connections on checkout only after they sat idle (once an
    engine; not for SQLite, nor when the configuration turned SQLAlchemy's pre-ping on)."""
    if engine.dialect.name == "sqlite" or app.config["SQLALCHEMY_ENGINE_OPTIONS"].get(
        "pool_pre_ping"
    ):
        return
    if event.contains(engine, "checkin", _returned):
        return
    dialect = engine.dialect

    def checked_out(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        returned = record.info.get(_RETURNED)
        if returned is None or time.monotonic() - returned < TRUSTED_SECONDS:
            return  # new, or in use a moment ago
        try:
            dialect.do_ping(dbapi_connection)
        except dialect.loaded_dbapi.Error as error:
            if dialect.is_disconnect(error, dbapi_connection, None):
                # The pool replaces this connection, and every one older than now.
                raise exc.InvalidatePoolError() from error
            raise

    event.listen(engine, "checkin", _returned)
    event.listen(engine, "checkout", checked_out)


def _returned(dbapi_connection: Any, record: Any) -> None:
    if record is not None:
        record.info[_RETURNED] = time.monotonic()
