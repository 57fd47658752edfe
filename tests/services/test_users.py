import pytest
from flask_security import verify_password

from app.services import users as user_service
from app.services.errors import ValidationError
from models import User, db
from tests import factories


def test_create_staff_user_hashes_with_argon2(ctx):
    user = user_service.create_staff_user(
        "New.Person@Example.com", "a long enough pass", "agent", "New", "Person"
    )
    db.session.commit()
    assert user.password.startswith("$argon2")
    assert verify_password("a long enough pass", user.password)
    assert [role.name for role in user.roles] == ["agent"]
    assert user.email == "New.Person@example.com"


@pytest.mark.parametrize(
    "email, password, role, field",
    [
        ("not-an-email", "a long enough pass", "agent", "email"),
        ("someone@example.com", "short", "agent", "password"),
        ("someone@example.com", "a long enough pass", "owner", "role"),
    ],
)
def test_create_staff_user_refuses_bad_input(ctx, email, password, role, field):
    with pytest.raises(ValidationError) as caught:
        user_service.create_staff_user(email, password, role)
    assert caught.value.field == field
    assert db.session.query(User).filter_by(email=email).count() == 0


def test_email_addresses_are_unique_without_regard_to_case(ctx):
    factories.staff(email="dup@example.com")
    with pytest.raises(ValidationError, match="already exists"):
        user_service.create_staff_user("DUP@example.com", "a long enough pass", "agent")


def test_set_role_replaces_the_role(ctx):
    user = factories.staff(role="agent")
    user_service.set_role(user, "admin")
    db.session.commit()
    assert [role.name for role in user.roles] == ["admin"]


def test_set_password_knows_the_persons_name(ctx):
    """The one rule (app.services.passwords) gets the name: "Bossington 1958" is fine for a
    stranger, too easy to guess for Bea Bossington."""
    user = factories.staff(email="bea@example.com", first_name="Bea", last_name="Bossington")
    with pytest.raises(ValidationError, match="too easy to guess") as caught:
        user_service.set_password(user, "Bossington 1958")
    assert caught.value.field == "password"
    other = factories.staff(email="sam@example.com", first_name="Sam", last_name="Staff")
    user_service.set_password(other, "Bossington 1958")
    assert verify_password("Bossington 1958", other.password)
