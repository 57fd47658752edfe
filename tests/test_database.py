"""The database behaves as the services assume, on SQLite as on PostgreSQL."""

import time

import pytest
from sqlalchemy import create_engine, event, func, select, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import NullPool

from app import database
from models import Tag, db


def test_a_savepoint_released_before_any_write_is_still_undone_by_the_rollback(app):
    # pysqlite opens no transaction before SAVEPOINT: the savepoint would be the transaction
    # itself and releasing it a commit, so the request's rollback could not undo its rows.
    with app.app_context():
        before = db.session.scalar(select(func.count()).select_from(Tag))
        with db.session.begin_nested():
            db.session.add(Tag(name="Written in a savepoint"))
        db.session.rollback()
        assert db.session.scalar(select(func.count()).select_from(Tag)) == before


def test_a_released_savepoint_is_kept_by_the_commit(app):
    with app.app_context():
        with db.session.begin_nested():
            db.session.add(Tag(name="Kept"))
        db.session.commit()
        assert db.session.scalar(select(Tag.id).where(Tag.name == "Kept")) is not None


def test_a_pooled_connection_is_pinged_only_after_it_sat_idle(make_app, monkeypatch):
    """app/database.py: a server connection back in the pool a moment ago goes out without a
    ping; one that sat idle is pinged, and found dead, replaced before anyone uses it."""
    other = make_app()  # an engine and a pool of its own
    with other.app_context():
        engine = db.engine
        if engine.dialect.name == "sqlite":
            # No server to lose: nothing to ping.
            assert not event.contains(engine, "checkin", database._returned)
            return
        killer = create_engine(engine.url, isolation_level="AUTOCOMMIT", poolclass=NullPool)

        def backend() -> int:
            with engine.connect() as connection:
                return int(connection.execute(text("SELECT pg_backend_pid()")).scalar_one())

        def kill(pid: int) -> None:
            with killer.connect() as connection:
                connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            time.sleep(0.3)  # the backend is gone once the signal lands

        # Idle longer than trusted: the ping finds the connection dead, a new one answers.
        monkeypatch.setattr(database, "TRUSTED_SECONDS", 0.1)
        first = backend()
        kill(first)
        second = backend()
        assert second != first

        # In use a moment ago: trusted, so the next statement meets the dead connection;
        # the pool is then dropped and the statement after it connects afresh.
        monkeypatch.setattr(database, "TRUSTED_SECONDS", 60)
        kill(backend())
        with pytest.raises(OperationalError) as raised:
            backend()
        assert raised.value.connection_invalidated
        assert backend() not in (first, second)
        killer.dispose()
        engine.dispose()
