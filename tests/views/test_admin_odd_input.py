"""Odd input anywhere in the staff panel gets a clear answer, never a server error."""

import pytest
from sqlalchemy import func, select

from models import Product, Task, db
from tests import factories
from tests.views.test_admin_products import product_form


@pytest.mark.parametrize(
    "url, action",
    [
        ("/admin/task/action/", "complete"),
        ("/admin/my_tasks/action/", "complete"),
        ("/admin/outbox/action/", "retry"),
        ("/admin/template/action/", "restore"),
        ("/admin/approvals/action/", "approve"),
        ("/admin/approvals/action/", "reject"),
    ],
)
def test_bulk_actions_ignore_ids_that_are_not_numbers(admin_client, url, action):
    response = admin_client.submit(
        url, {"action": action, "rowid": ["abc", "1e3"]}, page="/admin/task/", follow_redirects=True
    )
    assert response.status_code == 200


def test_restoring_an_unknown_event_is_a_404(admin_client):
    response = admin_client.submit(
        "/admin/notifications/restore/", {"key": "a\r\nb"}, page="/admin/notifications/"
    )
    assert response.status_code == 404


@pytest.mark.parametrize(
    "premium, message",
    [
        ("NaN", "Enter the premium as an amount."),
        ("Infinity", "Enter the premium as an amount."),
        ("1e40", "Check the premium: it is too large."),
    ],
)
def test_a_premium_that_is_not_an_amount_is_a_field_error(app, agent_client, premium, message):
    with app.app_context():
        record = factories.record().id
        coverage = factories.coverage("Medicare Advantage").id
    response = agent_client.submit(
        "/admin/product/new/", product_form(record, coverage, premium=premium)
    )
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert message in html and "Something went wrong" not in html
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Product)) == 0


def test_a_due_time_past_the_calendar_is_a_field_error(app, agent_client, agent_user):
    response = agent_client.submit(
        "/admin/task/new/",
        {
            "title": "Far away",
            "kind": "todo",
            "due_at": "9999-12-31 23:59",
            "assignee": str(agent_user.id),
            "record": "",
            "notes": "",
        },
    )
    assert response.status_code == 200
    assert "between the years 1900 and 9000" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Task)) == 0
