"""The request commits what a refused request leaves behind (a 4xx answer commits too, so
counted attempts stay): these hold that a refusal leaves nothing else behind."""

from sqlalchemy import select

from models import ChangeStatus, FieldMode, PendingChange, db
from tests.views.test_portal_contact_change import (  # noqa: F401 (the fixture)
    contact_form,
    family,
    set_mode,
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
