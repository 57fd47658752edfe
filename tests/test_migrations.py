"""The migrations build exactly the schema the models describe, and can be undone."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from models import db
from models.base import compare_for


def schema_diff(app):
    with app.app_context(), db.engine.connect() as connection:
        context = MigrationContext.configure(
            connection,
            opts={"compare_type": True, "include_object": compare_for(connection.dialect.name)},
        )
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


def test_upgrading_a_database_that_has_data(app):
    """Each migration runs on a database in use: rows of the earlier schema survive."""
    from sqlalchemy import text

    from tests.conftest import reset_state

    with app.app_context():
        db.session.remove()
        downgrade(revision="base")
        upgrade(revision="0002")
        with db.engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO portal_settings (id, portal_name, banner_html, "
                    "allow_link_sign_in, allow_password_sign_in, allow_email_code_sign_in, "
                    "allow_sms_code_sign_in, link_by_sms_when_preferred, code_valid_minutes, "
                    "code_max_attempts, lockout_failures, lockout_minutes, session_idle_minutes, "
                    "invitation_valid_days, created_at, updated_at) VALUES (1, 'Acme', '', "
                    ":t, :t, :t, :t, :t, 10, 5, 5, 15, 30, 7, :now, :now)"
                ),
                {"t": True, "now": "2026-01-01 00:00:00"},
            )
        upgrade()
        with db.engine.connect() as connection:
            row = connection.execute(
                text(
                    "SELECT portal_name, module_rx, module_reviews, brand_colour "
                    "FROM portal_settings"
                )
            ).one()
        assert (row[0], bool(row[1]), bool(row[2]), row[3]) == ("Acme", True, False, "#1a5d96")
    assert schema_diff(app) == []
    reset_state(app)


def test_the_record_search_reads_trigram_indexes_on_postgresql(app):
    """The staff list's search ("%smith%" on six columns) reads pg_trgm's GIN indexes on
    PostgreSQL instead of every record (migration 0018); SQLite has none and scans."""
    from sqlalchemy import or_, select, text

    from models import Record
    from models.record import SEARCHED

    trigram = {f"ix_records_{column}_trgm" for column in SEARCHED}
    with app.app_context(), db.engine.connect() as connection:
        names = {index["name"] for index in db.inspect(connection).get_indexes("records")}
        if connection.dialect.name != "postgresql":
            assert not names & trigram
            return
        assert trigram <= names
        search = select(Record.id).where(
            or_(*(getattr(Record, column).ilike("%smith%") for column in SEARCHED))
        )
        sql = str(search.compile(connection, compile_kwargs={"literal_binds": True}))
        connection.execute(text("SET LOCAL enable_seqscan = off"))  # an empty table: force it
        plan = "\n".join(connection.execute(text(f"EXPLAIN {sql}")).scalars())
    for index in trigram:
        assert index in plan, plan
