"""The staff menu is rendered once per process for each set of entries shown: it must still
show each person only what their roles open, follow a role change at once, and mark the page
that is open."""

import re

from sqlalchemy import select

from models import Role, User, db

ADMIN_ENTRIES = ("Staff users", "Coverage types", "Outbox")


def menu(html: str) -> str:
    after = html.split('<ul class="nav navbar-nav mr-auto">', 1)[1]
    return after.split('<ul class="nav navbar-nav navbar-right">', 1)[0]


def active(html: str) -> list[str]:
    """The addresses of the menu's entries marked as the open page."""
    shown = menu(html)
    return re.findall(r'class="dropdown-item active[^"]*"\s*href="([^"]+)"', shown) + re.findall(
        r'<li class="active">\s*<a class="nav-link[^"]*" href="([^"]+)"', shown
    )


def test_an_agent_never_gets_the_menu_kept_for_an_admin(admin_client, agent_client):
    for _ in range(2):
        shown = menu(admin_client.get("/admin/record/").get_data(as_text=True))
        assert all(entry in shown for entry in ADMIN_ENTRIES)
        shown = menu(agent_client.get("/admin/record/").get_data(as_text=True))
        assert "Records" in shown
        assert not any(entry in shown for entry in ADMIN_ENTRIES)


def test_a_role_taken_away_leaves_the_menu_at_once(app, admin_client, admin_user):
    assert "Staff users" in menu(admin_client.get("/admin/record/").get_data(as_text=True))
    with app.app_context():
        user = db.session.get(User, admin_user.id)
        user.roles = [db.session.scalar(select(Role).where(Role.name == "agent"))]
        db.session.commit()
    html = admin_client.get("/admin/record/").get_data(as_text=True)
    assert "Records" in menu(html)
    assert not any(entry in menu(html) for entry in ADMIN_ENTRIES)


def test_the_menu_marks_the_open_page(admin_client):
    assert active(admin_client.get("/admin/record/").get_data(as_text=True)) == ["/admin/record/"]
    assert active(admin_client.get("/admin/product/").get_data(as_text=True)) == ["/admin/product/"]
    assert active(admin_client.get("/admin/tag/").get_data(as_text=True)) == ["/admin/tag/"]
    assert active(admin_client.get("/admin/record/").get_data(as_text=True)) == ["/admin/record/"]
