from sqlalchemy import select

from models import User, db
from tests.conftest import login


def user_form(**values):
    form = {
        "email": "newbie@example.com",
        "first_name": "New",
        "last_name": "Bie",
        "phone": "",
        "active": "y",
        "role": "agent",
        "new_password": "long enough pass",
    }
    form.update(values)
    return form


def test_admin_creates_an_agent_who_can_sign_in(app, admin_client):
    response = admin_client.submit("/admin/staff_user/new/", user_form())
    assert response.status_code == 302
    client = app.test_client()
    assert login(client, "newbie@example.com", "long enough pass").status_code == 302
    assert client.get("/admin/record/").status_code == 200
    assert client.get("/admin/staff_user/").status_code == 403


def test_weak_password_and_duplicate_email_are_field_errors(app, admin_client, agent_user):
    response = admin_client.submit("/admin/staff_user/new/", user_form(new_password="short"))
    assert response.status_code == 200
    # The one password rule, in the same words as the portal (app.services.passwords).
    assert "Use at least 10 characters." in response.get_data(as_text=True)
    response = admin_client.submit(
        "/admin/staff_user/new/", user_form(email=agent_user.email.upper())
    )
    assert "already exists" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(User).where(User.email == "newbie@example.com")) is None


def test_admins_cannot_lock_themselves_out(admin_client, admin_user):
    url = f"/admin/staff_user/edit/?id={admin_user.id}"
    response = admin_client.submit(
        url, user_form(email=admin_user.email, role="agent", new_password="")
    )
    assert "cannot deactivate yourself" in response.get_data(as_text=True)


def test_changing_role_and_keeping_the_password(app, admin_client, agent_user):
    url = f"/admin/staff_user/edit/?id={agent_user.id}"
    response = admin_client.submit(
        url, user_form(email=agent_user.email, role="admin", new_password="")
    )
    assert response.status_code == 302
    with app.app_context():
        user = db.session.get(User, agent_user.id)
        assert [role.name for role in user.roles] == ["admin"]
    from tests import factories

    assert login(app.test_client(), agent_user.email, factories.PASSWORD).status_code == 302
