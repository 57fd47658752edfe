"""Rendered pages kept for a short while per sign-in session, and dropped as soon as anything
they show may have changed: a client's portal home, a staff member's record list.

Such pages are read far more often than what they show changes. So a page marked cacheable is
kept in Redis (for ``PORTICO_PORTAL_PAGE_CACHE_SECONDS`` in the portal,
``PORTICO_STAFF_LIST_CACHE_SECONDS`` in the staff panel) under a key naming the sign-in session
(so a page can only ever be served to the browser it was rendered for), the address and the
language. With it are kept the versions it was rendered at, of the scopes it shows:

- a **record's**, replaced by every commit that adds, changes or deletes a row of it (the
  record, its products, documents, contacts, requests, sign requests, ...);
- the **records'** (:data:`RECORDS`), replaced by any record's change: a list shows them all;
- the **office's** (:data:`OFFICE`), replaced by every commit touching what belongs to no
  single record (settings, portal fields, staff users, tags, coverage types, surveys, ...).

A commit's changes are found by the ORM's flush (:func:`install`), for every web process and
worker alike; an UPDATE, INSERT or DELETE statement run through the session (not row by row,
or in plain SQL) replaces the office's version. A page is served again only while all its
versions are the same and the sign-in is still valid (that check runs on every request, cached
page or not). What a page shows because of the clock (a sign request's expiry) bounds how
long it is kept, and the office's date is part of the key (a share's last day, a policy's
dates). A stale page needs a write made outside the session (another program), or a change
Redis did not take in time (below), and even then lives at most the page's time.

Versions are random values with a time to live, never counters: one that expired or that
Redis lost is simply new, and matches no page kept before. They are read before the request
reads the database, so a write landing while the page renders leaves it at the older one.
When Redis cannot be reached, or does not answer within :data:`TIMEOUT_SECONDS`, nothing is
kept and every page is rendered; a commit then does not wait for it either, and pages kept
before may be served until they expire (the warning in the log says so).
"""

from __future__ import annotations

import hashlib
import logging
import math
import secrets
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from itertools import chain
from typing import Any

import redis
from flask import Response, current_app, has_app_context, session
from redis.backoff import NoBackoff
from redis.retry import Retry
from sqlalchemy import Table, TextClause, event, inspect, select
from sqlalchemy.orm import MANYTOONE, Mapper, ORMExecuteState, Session

from app.redis import app_redis
from app.services import portal_settings_cache
from models import (
    ActivityChainHead,
    ActivityEntry,
    CertificateCounter,
    LoginCode,
    OutboxMessage,
    Record,
    SignInSession,
    WebAuthn,
)

log = logging.getLogger(__name__)

PREFIX = "portico:page:1:"
OFFICE_KEY = PREFIX + "v:office"
RECORDS_KEY = PREFIX + "v:records"
#: How long a version lives without a change; any value works, a new one matches no page.
VERSION_SECONDS = 6 * 3600
#: What no kept page shows: writing these changes no page (a sign-in refreshing its
#: session row, the activity log, mail being delivered, codes, counters).
UNSHOWN = frozenset(
    model.__table__.name
    for model in (
        ActivityChainHead,
        ActivityEntry,
        CertificateCounter,
        LoginCode,
        OutboxMessage,
        SignInSession,
        WebAuthn,
    )
)
OFFICE = "office"
RECORDS = "records"
_PENDING = "portal_pages_changed"
#: A Redis silent this long is unreachable: no page or commit waits on a stalled Redis.
TIMEOUT_SECONDS = 0.25
_CLIENT = "portico_page_cache_redis"
#: The response header that says whether a page was kept (hit) or rendered (miss).
HEADER = "X-Portico-Page-Cache"


def get_redis() -> redis.Redis:
    """This app's client for the cache: short time-outs, no retries."""
    client: redis.Redis | None = current_app.extensions.get(_CLIENT)
    if client is None:
        client = app_redis().new_client(
            socket_timeout=TIMEOUT_SECONDS,
            socket_connect_timeout=TIMEOUT_SECONDS,
            retry=Retry(NoBackoff(), 0),
        )
        current_app.extensions[_CLIENT] = client
    return client


RECORD_PREFIX = PREFIX + "v:record:"


def record_key(record_id: int) -> str:
    return f"{RECORD_PREFIX}{record_id}"


def version_key(scope: Any) -> str:
    """The key of a scope's version: :data:`OFFICE`, :data:`RECORDS` or a record's id."""
    if scope == OFFICE:
        return OFFICE_KEY
    if scope == RECORDS:
        return RECORDS_KEY
    return record_key(int(scope))


def page_key(sid: str, locale: str, address: str) -> str:
    """The key of one page for one sign-in session: the session id is hashed (it is a
    secret), and so is the address (a staff list's carries its search)."""
    digest = hashlib.sha256(f"{sid}\n{locale}\n{address}".encode()).hexdigest()
    return f"{PREFIX}page:{digest}"


def _owner_key(sid: str) -> str:
    digest = hashlib.sha256(sid.encode()).hexdigest()
    return f"{PREFIX}kept:{digest}"


@dataclass(frozen=True)
class Lookup:
    """What one request found: the page kept for it (if any, still at the current versions)
    and the versions it would be kept at if rendered now."""

    key: str
    #: The versions of the page's scopes now, in the order they were asked for.
    versions: tuple[str, ...]
    #: How long a page rendered now is kept, at most.
    seconds: int
    #: Who the page is kept for (the sign-in session and the form token).
    owner: str = ""
    body: bytes | None = None
    nonce: str = ""

    def tag(self) -> bytes:
        return " ".join(self.versions).encode()


def lookup(
    sid: str, scopes: Sequence[Any], locale: str, address: str, *, seconds: int
) -> Lookup | None:
    """The kept page for this session, address and language, read in one round trip with the
    current versions of ``scopes`` (see :func:`version_key`). None when the cache is off
    (``seconds`` is 0) or Redis is unreachable."""
    if seconds <= 0:
        return None
    key = page_key(sid, locale, address)
    names = [version_key(scope) for scope in scopes]
    try:
        client = get_redis()
        settings, *versions, kept = client.mget([portal_settings_cache.VERSION_KEY, *names, key])
        if settings is not None:
            portal_settings_cache.known_version(_text(settings))
        if None in versions:
            with client.pipeline(transaction=False) as pipe:
                for name in names:
                    pipe.set(name, secrets.token_hex(8), nx=True, ex=VERSION_SECONDS)
                pipe.mget(names)
                versions = pipe.execute()[-1]
    except redis.RedisError:
        _unreachable()
        return None
    current = tuple(_text(value) for value in versions if value is not None)
    if len(current) != len(names):
        return None
    found = Lookup(key, current, seconds, sid)
    if isinstance(kept, bytes):
        header, _, body = kept.partition(b"\n")
        tag, _, nonce = header.rpartition(b" ")
        if tag == found.tag():
            return replace(found, body=body, nonce=nonce.decode())
    return found


_warned_at = -math.inf


def _unreachable() -> None:
    """Say Redis is out of reach, once a minute at most: every page would say it otherwise."""
    global _warned_at
    if time.monotonic() - _warned_at >= 60:
        _warned_at = time.monotonic()
        log.warning("the page cache cannot reach Redis: pages are rendered", exc_info=True)


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def keep(
    found: Lookup,
    body: bytes,
    nonce: str,
    *,
    for_seconds: int | None = None,
    at_most: int | None = None,
) -> bool:
    """Keep a page rendered at ``found``'s versions, for the cache's time or ``for_seconds``
    if sooner (what it shows changes by the clock then); ``nonce`` is the page's CSP nonce,
    given a fresh value each time it is served. With ``at_most``, a session keeps no more
    than that many pages in any stretch of the cache's time (a list's addresses are
    endless: a search per keystroke must not fill Redis). Whether the page was kept."""
    lifetime = found.seconds if for_seconds is None else min(found.seconds, for_seconds)
    if lifetime <= 0:
        return False
    header = found.tag() + b" " + nonce.encode()
    try:
        client = get_redis()
        if at_most is not None:
            counter = _owner_key(found.owner)
            with client.pipeline(transaction=False) as pipe:
                pipe.set(counter, 0, nx=True, ex=found.seconds)
                pipe.incr(counter)
                if pipe.execute()[-1] > at_most:
                    return False
        client.set(found.key, header + b"\n" + body, ex=lifetime)
    except redis.RedisError:
        _unreachable()
        return False
    return True


def serve(found: Lookup, nonce: str) -> bytes:
    """A kept page's body with this response's CSP nonce in place of the one it was rendered
    with (a nonce is random: it appears nowhere else in the page)."""
    assert found.body is not None
    if not found.nonce:
        return found.body
    return found.body.replace(found.nonce.encode(), nonce.encode())


def respond(found: Lookup, nonce: str) -> Response:
    """The response for a kept page, with this response's CSP nonce."""
    response = current_app.response_class(serve(found, nonce), mimetype="text/html")
    response.headers[HEADER] = "hit"
    return response


def keepable(response: Response) -> bool:
    """Whether a page just rendered may be kept: a whole HTML page answered 200 that left the
    browser's session as it found it (one that showed a flash message, or set anything in the
    session, was that browser's moment, not the page)."""
    return (
        response.status_code == 200
        and response.mimetype == "text/html"
        and not response.is_streamed
        and not session.modified
    )


def changed(scopes: Iterable[Any]) -> None:
    """Give new versions to these scopes (record ids, or :data:`OFFICE`), and to
    :data:`RECORDS` with any record: every page kept at the old ones is out of date. Call
    after the commit."""
    names = {version_key(scope) for scope in scopes}
    if any(name.startswith(RECORD_PREFIX) for name in names):
        names.add(RECORDS_KEY)  # every list of records shows this one
    if not names or not has_app_context():
        return
    try:
        with get_redis().pipeline(transaction=False) as pipe:
            for name in names:
                pipe.set(name, secrets.token_hex(8), ex=VERSION_SECONDS)
            pipe.execute()
    except redis.RedisError:
        # Pages kept now may be stale until they expire: say so, every time.
        log.warning("kept pages changed but Redis is unreachable", exc_info=True)


# -- what a flush changed ------------------------------------------------------------------


def _scopes(session: Session, items: Iterable[Any]) -> set[Any]:
    """The records (ids) and whether the office's pages are touched by these objects."""
    scopes: set[Any] = set()
    parents: dict[Any, set[Any]] = {}
    new = session.new
    for item in items:
        state = inspect(item)
        mapper = state.mapper
        if mapper.local_table.name in UNSHOWN:
            continue
        if isinstance(item, Record):
            if item.id is not None:
                scopes.add(item.id)
            continue
        column, parent = _owner(mapper)
        if column is None:
            scopes.add(OFFICE)
            continue
        if column in state.unloaded and item not in new:
            # Loaded without that column (load_only) or expired: its record is unknown.
            scopes.add(OFFICE)
            continue
        values = _values(state, column)
        if parent is None:
            scopes.update(values)
        elif values:
            parents.setdefault(parent, set()).update(values)
    for table, ids in parents.items():
        query = select(table.c.id, table.c.record_id).where(table.c.id.in_(ids))
        found: dict[Any, Any] = {row[0]: row[1] for row in session.connection().execute(query)}
        scopes.update(record for record in found.values() if record is not None)
        if len(found) < len(ids):
            scopes.add(OFFICE)  # a parent gone without a trace: be safe
    return scopes


_OWNERS: dict[Mapper[Any], tuple[str | None, Table | None]] = {}


def _owner(mapper: Mapper[Any]) -> tuple[str | None, Table | None]:
    """How a model's row names its record: its own ``record_id`` (parent None), or the key
    of a parent row that has one (a message's conversation, a signer's sign request), or not
    at all (None, None: it belongs to the office)."""
    if mapper not in _OWNERS:
        owner: tuple[str | None, Table | None] = (None, None)
        if "record_id" in mapper.columns:
            owner = ("record_id", None)
        else:
            for relationship in mapper.relationships:
                target = relationship.mapper.local_table
                if (
                    relationship.direction is MANYTOONE
                    and isinstance(target, Table)
                    and "record_id" in target.c
                    and len(relationship.local_columns) == 1
                ):
                    (local,) = relationship.local_columns
                    owner = (mapper.get_property_by_column(local).key, target)
                    break
        _OWNERS[mapper] = owner
    return _OWNERS[mapper]


def _values(state: Any, key: str) -> set[Any]:
    """The attribute's value now and before this flush (a row moved to another record changes
    both), without the empty ones."""
    history = state.attrs[key].history
    return {v for v in chain(history.added, history.unchanged, history.deleted) if v is not None}


def _after_flush(session: Session, _context: Any) -> None:
    scopes = _scopes(session, chain(session.new, session.dirty, session.deleted))
    if scopes:
        session.info.setdefault(_PENDING, set()).update(scopes)


def _on_execute(state: ORMExecuteState) -> None:
    statement = state.statement
    if isinstance(statement, TextClause):
        # Plain SQL: which rows it writes is unknown, so any write touches every page.
        writes = statement.text.lstrip()[:6].upper() in _WRITES
        table_name = None
    else:
        writes = state.is_insert or state.is_update or state.is_delete
        table_name = getattr(getattr(statement, "table", None), "name", None)
    if writes and table_name not in UNSHOWN:
        state.session.info.setdefault(_PENDING, set()).add(OFFICE)


_WRITES = ("INSERT", "UPDATE", "DELETE")


def _after_commit(session: Session) -> None:
    scopes = session.info.pop(_PENDING, None)
    if scopes:
        changed(scopes)


def _after_soft_rollback(session: Session, previous_transaction: Any) -> None:
    # What the whole transaction changed is undone (a savepoint's rollback keeps the rest).
    if previous_transaction.parent is None:
        session.info.pop(_PENDING, None)


def install() -> None:
    """Listen to every session's flushes and commits (once a process)."""
    if not event.contains(Session, "after_flush", _after_flush):
        event.listen(Session, "after_flush", _after_flush)
        event.listen(Session, "do_orm_execute", _on_execute)
        event.listen(Session, "after_commit", _after_commit)
        event.listen(Session, "after_soft_rollback", _after_soft_rollback)
