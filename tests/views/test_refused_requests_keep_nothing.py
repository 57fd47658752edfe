"""The request commits what a refused request leaves behind (a 4xx answer commits too, so
counted attempts stay): these hold that a refusal leaves nothing else behind."""

import re

from sqlalchemy import select

from app.services import password_resets
from models import (
    AccountStatus,
    ChangeStatus,
    Channel,
    FieldMode,
    MessageTemplate,
    NotificationRule,
    OutboxMessage,
    PendingChange,
    PortalAccount,
    Record,
    db,
)
from tests.views.test_portal_contact_change import (  # noqa: F401 (the fixture)
    confirm_contact,
    contact_form,
    family,
    set_mode,
    sign_in_cleo,
    sign_up,
)


def _statuses(app):
    with app.app_context():
        return [c.status for c in db.session.scalars(select(PendingChange))]


def test_a_refused_section_leaves_a_waiting_proposal_alone(app, client, family):  # noqa: F811
    """Dan proposes a phone number (it needs approval); then he sends the section again with
    the phone as saved (which would withdraw his proposal) and Cleo's mobile changed, which he
    may not do. The whole submission is refused: his proposal still waits for staff."""
    set_mode(app, "phone", FieldMode.APPROVAL)
    sign_up(client, family, "Dan")
    response = client.submit(
        "/portal/details/contact", contact_form(phone="(202) 555-0100"), page="/portal/details"
    )
    assert response.status_code == 302
    assert _statuses(app) == [ChangeStatus.PENDING]
    response = client.submit(
        "/portal/details/contact",
        contact_form(phone="", mobile="(202) 555-0166"),
        page="/portal/details",
    )
    assert response.status_code == 403
    assert _statuses(app) == [ChangeStatus.PENDING]


def _broken_notice(app, event_key, audience):
    """The office's own template for ``event_key``'s notice to ``audience`` fails when it is
    filled in, so the service refuses after it has changed things."""
    with app.app_context():
        db.session.add(
            MessageTemplate(
                key="custom.broken",
                channel=Channel.EMAIL,
                name="Broken",
                subject="Hello",
                body="{{ 1 // 0 }}",
            )
        )
        rule = db.session.scalar(
            select(NotificationRule).where(NotificationRule.event_key == event_key)
        )
        setattr(rule, f"{audience}_email", True)
        setattr(rule, f"{audience}_template_key", "custom.broken")
        db.session.commit()


def test_an_invitation_refused_late_is_not_half_accepted(app, client, family):  # noqa: F811
    _broken_notice(app, "portal.invitation.accepted", "agent")
    page = f"/portal/invite/{family['invitations']['Dan']}"
    password = "Dan picks quite a sturdy passphrase"
    response = client.submit(page, {"password": password, "confirm": password})
    assert response.status_code == 200  # the form again, with the refusal
    with app.app_context():
        dan = db.session.scalar(
            select(PortalAccount).where(PortalAccount.email == "dan@example.com")
        )
        assert dan.status == AccountStatus.INVITED and dan.password_hash is None
    assert client.get(page).status_code == 200  # the invitation still works


def test_a_reset_refused_late_changes_no_password(app, client, family):  # noqa: F811
    _broken_notice(app, "portal.password.changed", "customer")
    with app.app_context():
        password_resets.request_password_reset("cleo@example.com")
        db.session.commit()
        message = db.session.scalar(
            select(OutboxMessage).where(OutboxMessage.template_key == "portal.password_reset")
        )
        token = re.search(r"/portal/reset/([\w.-]+)", message.body_text).group(1)
        account = db.session.scalar(
            select(PortalAccount).where(
                PortalAccount.record_id == family["record_id"],
                PortalAccount.contact_id.is_(None),
            )
        )
        before = (account.password_hash, account.generation)
    password = "a fresh long passphrase"
    response = client.submit(f"/portal/reset/{token}", {"password": password, "confirm": password})
    assert response.status_code == 200
    with app.app_context():
        account = db.session.get(PortalAccount, account.id)
        assert (account.password_hash, account.generation) == before
        assert db.session.get(Record, family["record_id"]) is not None
    assert client.get(f"/portal/reset/{token}").status_code == 200  # the link still works


def test_a_confirmed_change_refused_late_is_not_half_applied(app, client, family):  # noqa: F811
    """The right code, but the change's notice to the office fails: the new mobile is not
    put on the record, and the old number is not told it was replaced."""
    sign_in_cleo(client, family)
    response = client.submit(
        "/portal/details/contact", contact_form(mobile="(202) 555-0188"), page="/portal/details"
    )
    assert response.status_code == 302
    _broken_notice(app, "portal.profile.updated", "agent")
    response = confirm_contact(client, app)
    assert response.status_code == 422
    with app.app_context():
        assert db.session.get(Record, family["record_id"]).mobile == "+12025550143"
        assert not db.session.scalars(
            select(OutboxMessage).where(OutboxMessage.template_key == "portal.contact_changed.sms")
        ).all()
