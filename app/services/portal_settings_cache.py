"""The portal settings row, kept between requests in each process and dropped everywhere once
it changes.

Every portal page reads the settings, and they change a few times a year. Each process keeps
a detached copy of the row with the version it was read at; the version lives in Redis, which
every web process and worker shares. A request asks Redis for the version (one GET) and uses
its copy while the versions agree; otherwise it reads the row again.

Any commit that changed the settings row through the ORM (the admin's page, a service, a
test) gives the version a new random value once the commit is done (:func:`install`), so the
very next request of every process reads the new row. A random value rather than a counter:
a Redis that restarted empty cannot come back to a version an old copy was read at. When Redis
cannot be reached the row is read from the database, as before the cache. An UPDATE written
in plain SQL bypasses the ORM and so the version: run :func:`changed` after one.
"""

from __future__ import annotations

import logging
import secrets
from itertools import chain
from typing import Any

import redis
from flask import current_app, g, has_app_context, has_request_context
from sqlalchemy import event
from sqlalchemy.orm import Session, make_transient_to_detached
from sqlalchemy.orm.util import identity_key

from app.redis import get_redis
from models import PortalSettings, db

log = logging.getLogger(__name__)

VERSION_KEY = "portico:portal-settings:version"
_EXTENSION = "portico_portal_settings"
_CHANGED = "portal_settings_changed"
_MAPPER: Any = PortalSettings.__mapper__


def load() -> PortalSettings | None:
    """The settings row in the request's session: from this process's copy while Redis says
    it is current (no SELECT), else read from the database (and kept when that is safe).
    None when there is no row yet."""
    present = db.session.identity_map.get(identity_key(PortalSettings, 1))
    if present is not None:  # already in the session, perhaps changed: never overwritten
        return present
    version = _version()
    kept = current_app.extensions.get(_EXTENSION)
    if version is not None and kept is not None and kept[0] == version:
        return db.session.merge(kept[1], load=False)
    # A transaction begun before the version was read may see the row as it was before that
    # version (SQLite keeps a read transaction's snapshot): keep only rows read after it.
    fresh_read = not db.session().in_transaction()
    settings = db.session.get(PortalSettings, 1)
    if settings is not None and version is not None and fresh_read:
        copy = PortalSettings(**_columns(settings))
        make_transient_to_detached(copy)  # as if loaded: merged without a SELECT
        current_app.extensions[_EXTENSION] = (version, copy)
    return settings


def current_copy() -> PortalSettings | None:
    """This process's detached copy of the row while Redis says it is current, else None:
    for reading a setting without putting the row in the session (never to change it)."""
    version = _version()
    kept = current_app.extensions.get(_EXTENSION)
    if version is not None and kept is not None and kept[0] == version:
        copy: PortalSettings = kept[1]
        return copy
    return None


def changed() -> None:
    """Every process reads the settings again at its next request (call after the commit)."""
    if has_request_context():
        g.pop("portal_settings_version", None)
    if has_app_context():
        current_app.extensions.pop(_EXTENSION, None)
        try:
            get_redis().set(VERSION_KEY, secrets.token_hex(8))
        except redis.RedisError:
            log.warning("portal settings changed but Redis is unreachable", exc_info=True)


def known_version(version: str) -> None:
    """The version this request already read from Redis along with other keys (the portal
    page cache does, in the same round trip): :func:`load` uses it instead of asking again."""
    g.portal_settings_version = version


def _version() -> str | None:
    """The current version, set here when Redis has none (it was emptied or restarted)."""
    if has_request_context() and (known := g.get("portal_settings_version")):
        return str(known)
    try:
        client = get_redis()
        version = client.get(VERSION_KEY)
        if version is None:
            client.set(VERSION_KEY, secrets.token_hex(8), nx=True)
            version = client.get(VERSION_KEY)
    except redis.RedisError:
        return None
    return version.decode() if isinstance(version, bytes) else version


def _columns(settings: PortalSettings) -> dict[str, Any]:
    return {column.key: getattr(settings, column.key) for column in _MAPPER.column_attrs}


def _after_flush(session: Session, _context: Any) -> None:
    if any(
        isinstance(item, PortalSettings)
        for item in chain(session.new, session.dirty, session.deleted)
    ):
        session.info[_CHANGED] = True


def _after_commit(session: Session) -> None:
    if session.info.pop(_CHANGED, False):
        changed()


def install() -> None:
    """Listen to every session's commits for changes of the settings row (once a process).
    A change rolled back may still bump the version: one needless read, never a stale row."""
    if not event.contains(Session, "after_flush", _after_flush):
        event.listen(Session, "after_flush", _after_flush)
        event.listen(Session, "after_commit", _after_commit)
