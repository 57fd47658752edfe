"""Roles are enforced on the server: agents get a 403 on admin-only pages, not a hidden link."""

import pytest

from models import Record, db
from tests import factories
from tests.views.test_portal_details import cora

__all__ = ["cora"]  # a fixture

ADMIN_ONLY = [
    "/admin/tag/",
    "/admin/tag/new/",
    "/admin/coverage_type/",
    "/admin/staff_user/",
    "/admin/staff_user/new/",
]
STAFF = [
    "/admin/",
    "/admin/record/",
    "/admin/record/new/",
    "/admin/product/",
    "/admin/task/",
    "/admin/my_tasks/",
]


@pytest.mark.parametrize("url", ADMIN_ONLY)
def test_agents_get_403_on_admin_pages(agent_client, url):
    response = agent_client.get(url)
    assert response.status_code == 403
    assert "do not have access" in response.get_data(as_text=True)


@pytest.mark.parametrize("url", ADMIN_ONLY + STAFF)
def test_admins_see_everything(admin_client, url):
    assert admin_client.get(url).status_code == 200


@pytest.mark.parametrize("url", STAFF)
def test_agents_work_records(agent_client, url):
    assert agent_client.get(url).status_code == 200


def test_agents_menu_has_no_admin_entries(agent_client):
    html = agent_client.get("/admin/").get_data(as_text=True)
    assert "Staff users" not in html and "Coverage types" not in html
    assert "Records" in html


def test_agents_cannot_post_to_admin_pages(agent_client):
    response = agent_client.submit(
        "/admin/tag/new/", {"name": "Sneaky", "colour": "#000000"}, page="/admin/"
    )
    assert response.status_code == 403


def test_agents_cannot_delete_records(app, agent_client):
    with app.app_context():
        record = factories.record()
    html = agent_client.get("/admin/record/").get_data(as_text=True)
    assert "/admin/record/delete/" not in html
    response = agent_client.submit("/admin/record/delete/", {"id": record.id}, page="/admin/")
    assert response.status_code == 403
    with app.app_context():
        assert db.session.get(Record, record.id) is not None


def test_admins_can_delete_records(app, admin_client):
    with app.app_context():
        record = factories.record()
    response = admin_client.submit(
        "/admin/record/delete/", {"id": record.id}, page="/admin/record/"
    )
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(Record, record.id) is None


def test_anonymous_post_is_sent_to_sign_in(client):
    response = client.submit("/admin/record/new/", {"first_name": "X"}, page="/staff/login")
    assert response.status_code == 302
    assert "/staff/login" in response.headers["Location"]


def test_agents_cannot_reach_the_outbox_or_the_portal_settings(agent_client):
    for url in ("/admin/outbox/", "/admin/portal_settings/", "/admin/portal_settings/edit/?id=1"):
        assert agent_client.get(url).status_code == 403, url


def test_portal_pages_skip_the_staff_identity_and_the_panel_keeps_it(
    admin_client, admin_user, cora, count_queries
):
    """A staff member signed in in the same browser as a client: portal pages answer without
    loading who the staff user is (app/security.py), and the panel still knows their roles."""
    admin_client.submit(f"/portal/a/{cora['token']}", {"password": cora["password"]})
    admin_client.get("/portal/home")
    with count_queries() as counter:
        page = admin_client.get("/portal/home")  # kept: no template rendered
    assert page.status_code == 200 and "Cora" in page.get_data(as_text=True)
    assert counter.count == 1, counter.statements  # the client's sign-in; no staff user
    for url in ADMIN_ONLY:
        assert admin_client.get(url).status_code == 200
    # The preview, which does ask who the staff user is, still opens for them.
    assert admin_client.get(f"/portal/preview/{cora['record_id']}/home").status_code == 200
