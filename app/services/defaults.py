"""Restoring what Portico ships: one way to put the shipped values back on rows an office may
have edited or deleted (a template's text, a notification rule's switches, a portal field's
settings).

Each catalogue hands :func:`restore` its shipped values by key; the rows are found by their
key column, those missing are created, and nothing without a shipped value is touched. "Restore
defaults" in the staff panel and the seeds both come through here, so a restored row and a
freshly seeded one are the same.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from typing import Any

from sqlalchemy import select

from models import db


def restore(
    model: type[Any],
    key: str,
    shipped: Mapping[str, Mapping[str, Any]],
    keys: Iterable[str] | None = None,
    *,
    missing_only: bool = False,
    fixed: Collection[str] = (),
) -> list[str]:
    """Put the shipped values back on the rows of ``model`` whose ``key`` column is one of
    ``keys`` (every shipped key when None), creating the rows that are missing.

    ``shipped`` maps each key to the column values it ships with. Keys without shipped values
    are left out; ``missing_only`` creates missing rows and leaves existing ones as they are
    (what seeding does); ``fixed`` names columns set only when a row is created (a template's
    channel: what was sent as a text stays a text). Flushes; the caller commits. Returns the
    keys restored, in the order asked.
    """
    wanted = [k for k in dict.fromkeys(shipped if keys is None else keys) if k in shipped]
    if not wanted:
        return []
    query = select(model).where(getattr(model, key).in_(wanted))
    stored = {getattr(row, key): row for row in db.session.scalars(query)}
    restored: list[str] = []
    for name in wanted:
        row = stored.get(name)
        if row is None:
            row = model(**{key: name})
            db.session.add(row)
            values = dict(shipped[name])
        elif missing_only:
            continue
        else:
            values = {col: value for col, value in shipped[name].items() if col not in fixed}
        for column, value in values.items():
            setattr(row, column, value)
        restored.append(name)
    db.session.flush()
    return restored
