"""Files follow the transaction of the rows that name them.

A file is put in storage before its row is flushed; if the transaction then rolls back (a
later file of the same upload refused, a database error, a 5xx), :func:`keep_if_committed`
deletes it, so no file is left that no row names. A file whose row is deleted goes only
after the outermost commit (:func:`delete_after_commit`): a rollback keeps both. A released
SAVEPOINT fires ``after_commit`` too; its files then belong to the enclosing transaction, as
in :mod:`app.queue`.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from app.storage import storage
from models import db

log = logging.getLogger(__name__)

_NEW = "portico.files.new"
_GONE = "portico.files.gone"


def _owner(session: Session) -> Any:
    session.connection()  # begin the transaction now, so that a rollback reaches the hook
    return session.get_nested_transaction() or session.get_transaction()


def keep_if_committed(key: str) -> None:
    """``key`` was just put: delete it again unless the current transaction commits."""
    session = db.session()
    session.info.setdefault(_NEW, []).append((_owner(session), key))


def delete_after_commit(key: str) -> None:
    """Delete ``key`` from storage once the current transaction has committed."""
    session = db.session()
    session.info.setdefault(_GONE, []).append((_owner(session), key))


def _delete(keys: list[str]) -> None:
    if not keys:
        return
    store = storage()
    for key in keys:
        try:
            store.delete(key)
        except Exception:  # a file left behind is tidied by hand; the rows are what count
            log.exception("could not delete stored file %s", key)


def _reparent(session: Session, name: str) -> None:
    savepoint = session.get_nested_transaction()
    parent = savepoint.parent if savepoint is not None else None
    session.info[name] = [
        (parent if owner is savepoint else owner, key) for owner, key in session.info[name]
    ]


@event.listens_for(Session, "after_commit")
def _committed(session: Session) -> None:
    if session.in_nested_transaction():
        for name in (_NEW, _GONE):
            if name in session.info:
                _reparent(session, name)
        return
    session.info.pop(_NEW, None)
    gone = [key for _owner, key in session.info.pop(_GONE, [])]
    _delete(gone)


@event.listens_for(Session, "after_transaction_end")
def _ended(session: Session, transaction: Any) -> None:
    """A transaction that ends uncommitted without a rollback (the session closed with work
    pending: a job or command that failed, an app context torn down) keeps none of its new
    files either. A committed one has handed its files on already (:func:`_committed`)."""
    new = session.info.get(_NEW, [])
    if any(owner is transaction for owner, _key in new):
        _delete([key for owner, key in new if owner is transaction])
        session.info[_NEW] = [(owner, key) for owner, key in new if owner is not transaction]
    if _GONE in session.info:
        session.info[_GONE] = [(o, k) for o, k in session.info[_GONE] if o is not transaction]


@event.listens_for(Session, "after_soft_rollback")
def _rolled_back(session: Session, previous_transaction: Any) -> None:
    def undone(owner: Any) -> bool:
        while owner is not None:
            if owner is previous_transaction:
                return True
            owner = owner.parent
        return False

    new = session.info.get(_NEW, [])
    _delete([key for owner, key in new if undone(owner)])
    session.info[_NEW] = [(owner, key) for owner, key in new if not undone(owner)]
    session.info[_GONE] = [
        (owner, key) for owner, key in session.info.get(_GONE, []) if not undone(owner)
    ]
