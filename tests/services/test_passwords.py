"""One password rule for clients and staff: app.services.passwords.check_strength, run once,
in the same words wherever a password is set."""

import pytest
import zxcvbn as zxcvbn_module

from app.services import invitations, passwords
from app.services import users as user_service
from app.services.errors import ValidationError
from models import db
from tests import factories
from tests.services.test_portal_accounts import invitation_token


@pytest.fixture
def zxcvbn_runs(monkeypatch):
    """Every zxcvbn estimate, ours or Flask-Security's (which imports the module)."""
    runs = []
    real = zxcvbn_module.zxcvbn

    def counting(password, user_inputs=None, *args, **kwargs):
        runs.append(list(user_inputs or []))
        return real(password, user_inputs, *args, **kwargs)

    monkeypatch.setattr(zxcvbn_module, "zxcvbn", counting)
    monkeypatch.setattr(passwords, "zxcvbn", counting)
    return runs


def _message(password, user_inputs=()):
    with pytest.raises(ValidationError) as caught:
        passwords.check_strength(password, user_inputs)
    return caught.value.message


def test_a_client_password_is_checked_once(ctx, zxcvbn_runs):
    """It was checked twice: Flask-Security's zxcvbn, then ours with other inputs."""
    staff = factories.staff(email="sam.staff@example.com")
    record = factories.record(first_name="Cleo", last_name="Client", email="cleo@example.com")
    invitations.invite(record, staff)
    db.session.commit()
    zxcvbn_runs.clear()  # the staff user's own password above
    invitations.accept_invitation(invitation_token(), "a long passphrase", "a long passphrase")
    assert len(zxcvbn_runs) == 1
    assert "cleo" in zxcvbn_runs[0] and "client" in zxcvbn_runs[0]  # her own words count


def test_a_staff_password_is_checked_once_knowing_the_persons_name(ctx, zxcvbn_runs):
    """ "Bossington 1958" is strong for a stranger and weak for Bea Bossington: her name is
    one of the inputs now (before, only the whole email address was)."""
    with pytest.raises(ValidationError) as caught:
        user_service.create_staff_user(
            "bea@example.com", "Bossington 1958", "agent", "Bea", "Bossington"
        )
    assert len(zxcvbn_runs) == 1
    assert caught.value.field == "password"
    assert caught.value.message == _message(
        "Bossington 1958", ("bea@example.com", "Bea", "Bossington")
    )
    passwords.check_strength("Bossington 1958")  # fine for someone else


@pytest.mark.parametrize("weak", ["short", "Summer2026!", "password1234!"])
def test_staff_and_clients_are_told_the_same(ctx, weak):
    expected = _message(weak, ("someone@example.com",))
    with pytest.raises(ValidationError) as staff_said:
        user_service.create_staff_user("someone@example.com", weak, "agent")
    staff = factories.staff(email="sam.staff@example.com")
    record = factories.record(first_name="Cleo", last_name="Client", email="cleo@example.com")
    invitations.invite(record, staff)
    db.session.commit()
    with pytest.raises(ValidationError) as client_said:
        invitations.accept_invitation(invitation_token(), weak, weak)
    assert staff_said.value.message == expected
    # The client's own words differ, the rule and its sentences do not.
    assert client_said.value.message.split(".")[0] == expected.split(".")[0]
    assert client_said.value.field == staff_said.value.field == "password"
