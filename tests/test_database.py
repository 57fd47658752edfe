"""The database behaves as the services assume, on SQLite as on PostgreSQL."""

from sqlalchemy import func, select

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
