"""Files follow the transaction of the rows that name them: a new file goes if its transaction
rolls back, a removed document's file only once the removal is committed, and a savepoint
undoes only its own."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.services import documents
from app.services.actors import Actor
from app.storage import storage
from models import Document, db
from tests import factories
from tests.services.test_documents import upload


@pytest.fixture
def actor(ctx):
    return Actor.staff(factories.staff())


@pytest.fixture
def record(ctx):
    return factories.record()


def exists(key: str) -> bool:
    try:
        storage().size(key)
    except Exception:
        return False
    return True


def add(record, actor, name: str = "a.pdf") -> str:
    [document] = documents.add_files(record, [upload(name)], actor=actor)
    return str(document.storage_key)


def test_a_new_file_goes_when_its_transaction_rolls_back(record, actor):
    key = add(record, actor)
    assert exists(key)
    db.session.rollback()
    assert not exists(key)
    assert db.session.scalars(select(Document)).all() == []


def test_a_new_file_stays_once_committed(record, actor):
    key = add(record, actor)
    db.session.commit()
    db.session.rollback()  # a later rollback is not the file's
    assert exists(key)


def test_a_removed_document_keeps_its_file_until_the_commit(record, actor):
    key = add(record, actor)
    db.session.commit()
    document = db.session.scalar(select(Document))
    documents.remove(document)
    assert exists(key)  # flushed, not committed: still there for a rollback
    db.session.commit()
    assert not exists(key)


def test_a_removal_rolled_back_keeps_the_file(record, actor):
    key = add(record, actor)
    db.session.commit()
    documents.remove(db.session.scalar(select(Document)))
    db.session.rollback()
    assert exists(key) and db.session.scalar(select(Document)).storage_key == key
    db.session.commit()  # the next commit does not delete it late
    assert exists(key)


def test_a_savepoint_rolled_back_deletes_only_its_files(record, actor):
    outer = add(record, actor, "outer.pdf")
    with pytest.raises(RuntimeError), db.session.begin_nested():
        inner = add(record, actor, "inner.pdf")
        raise RuntimeError("refused half-way")
    assert exists(outer) and not exists(inner)
    db.session.commit()
    assert exists(outer)
    assert [d.filename for d in db.session.scalars(select(Document))] == ["outer.pdf"]


def test_a_released_savepoint_belongs_to_the_enclosing_transaction(record, actor):
    with db.session.begin_nested():
        inner = add(record, actor)
    assert exists(inner)
    db.session.rollback()
    assert not exists(inner)


def test_a_removal_in_a_savepoint_follows_it(record, actor):
    kept_key, gone_key = add(record, actor, "kept.pdf"), add(record, actor, "gone.pdf")
    db.session.commit()
    kept, gone = db.session.scalars(select(Document).order_by(Document.id)).all()
    with pytest.raises(RuntimeError), db.session.begin_nested():
        documents.remove(kept)
        raise RuntimeError("undone")
    with db.session.begin_nested():
        documents.remove(gone)
    assert exists(gone_key)  # released, but the outer transaction has not committed
    db.session.commit()
    assert exists(kept_key) and not exists(gone_key)


def test_nested_savepoints_undo_only_the_inner_one(record, actor):
    with db.session.begin_nested():
        middle = add(record, actor, "middle.pdf")
        with pytest.raises(RuntimeError), db.session.begin_nested():
            inner = add(record, actor, "inner.pdf")
            raise RuntimeError("inner refused")
        assert exists(middle) and not exists(inner)
    db.session.commit()
    assert exists(middle)


def test_a_commit_that_fails_leaves_no_file(record, actor):
    key = add(record, actor)
    # A second row naming the same key: the commit fails on the unique key.
    db.session.add(Document(record_id=record.id, title="copy", storage_key=key, filename="b.pdf"))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()
    assert not exists(key)
    assert db.session.scalars(select(Document)).all() == []


def test_a_session_closed_without_a_commit_leaves_no_file(record, actor):
    # A job or command that fails: its app context ends, the session is closed, not rolled back.
    key = add(record, actor)
    db.session.close()
    assert not exists(key)


def test_a_session_closed_after_a_removal_keeps_the_file(record, actor):
    key = add(record, actor)
    db.session.commit()
    documents.remove(db.session.scalar(select(Document)))
    db.session.close()
    assert exists(key) and db.session.scalar(select(Document)).storage_key == key
    db.session.commit()
    assert exists(key)
