"""The migrations build exactly the schema the models describe, and can be undone."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from models import db


def schema_diff(app):
    with app.app_context(), db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(context, db.metadata)


def test_migrations_match_the_models(app):
    # The session app was built by `flask db upgrade`; nothing may differ from the models.
    assert schema_diff(app) == []


def test_downgrade_to_nothing_and_back(app):
    from tests.conftest import reset_state

    with app.app_context():
        db.session.remove()
        downgrade(revision="base")
        with db.engine.connect() as connection:
            tables = db.inspect(connection).get_table_names()
        assert set(tables) <= {"alembic_version"}
        upgrade()
    assert schema_diff(app) == []
    reset_state(app)
