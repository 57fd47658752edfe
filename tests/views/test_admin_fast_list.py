"""The one-pass list (admin_views.record_list): what it does differently from Flask-Admin to
be cheaper must not show: the same addresses, the same counts, the same rows."""

import pytest
from flask_admin.contrib.sqla import ModelView
from flask_admin.model.template import LinkRowAction
from sqlalchemy import text

from admin_views.record import RecordView
from admin_views.record_list import FastListView
from models import db
from tests import factories

LISTS = ["record", "activity", "outbox", "scheduled", "document", "document_inbox"]


def _view(app, endpoint):
    admin = app.extensions["admin"][0]
    return next(view for view in admin._views if getattr(view, "endpoint", None) == endpoint)


@pytest.mark.parametrize("endpoint", LISTS)
def test_the_lists_addresses_are_flask_admins(app, admin_user, endpoint):
    view = _view(app, endpoint)
    assert isinstance(view, FastListView)
    query = "search=a%26b+%C3%A9/%2B&sort=1&desc=1&page=2&page_size=100&flt0_x=1&flt1_y=%3D"
    with app.test_request_context(f"/admin/{endpoint}/?{query}"):
        args = view._get_list_extra_args()
        variants = [
            args,
            args.clone(page=None),
            args.clone(page=7, sort=0, sort_desc=None),
            args.clone(page_size=25, search=None, filters=None),
            args.clone(page=0, sort=None, search=None, filters=None, page_size=None),
        ]
        for variant in variants:
            assert view._get_list_url(variant) == ModelView._get_list_url(view, variant)


def test_the_record_list_counts_with_count_star(app, agent_client, agent_user, count_queries):
    with app.app_context():
        for _ in range(3):
            factories.record()
    with count_queries() as counter:
        html = agent_client.get("/admin/record/?flt0_kind_is=client").get_data(as_text=True)
    counts = [s for s in counter.statements if "count(" in s.lower()]
    # count(*), not Flask-Admin's count('*') (a bound value SQLite evaluates on every row).
    assert counts and all("count(*)" in s.lower() for s in counts), counts
    assert "Tag or untag all 3 in this list" in html


def test_an_unknown_row_action_falls_back_to_flask_admins_rows(
    app, admin_client, agent_user, monkeypatch
):
    with app.app_context():
        record = factories.record(first_name="Fay", last_name="Fallback")
    monkeypatch.setattr(
        RecordView, "column_extra_row_actions", [LinkRowAction("fa fa-link", "/x/{row_id}")]
    )
    html = admin_client.get("/admin/record/").get_data(as_text=True)
    # Flask-Admin's own row: its delete form (built only now), CSRF token and all.
    assert f'href="/x/{record.id}"' in html
    assert 'id="pt-row-delete"' not in html
    row_form = html.split('action="/admin/record/delete/">', 1)[1].split("</form>", 1)[0]
    assert f'name="id" type="hidden" value="{record.id}"' in row_form
    assert 'name="csrf_token"' in row_form


def test_the_record_list_sorted_by_updated_reads_an_index(app, agent_client):
    # Sorting 100,000 records by "Updated" sorted them all for each page without it.
    html = agent_client.get("/admin/record/").get_data(as_text=True)
    assert 'href="/admin/record/?sort=7' in html  # the column is sortable
    with app.app_context():
        indexes = {index["name"] for index in db.inspect(db.engine).get_indexes("records")}
        assert "ix_records_updated_at" in indexes
        if db.engine.dialect.name == "sqlite":  # PostgreSQL's plan depends on its statistics
            statement = "SELECT id FROM records ORDER BY updated_at DESC LIMIT 50"
            plan = str(db.session.execute(text(f"EXPLAIN QUERY PLAN {statement}")).all())
            assert "ix_records_updated_at" in plan and "TEMP B-TREE" not in plan
