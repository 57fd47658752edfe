"""Staff enable, disable, invite and view self service from the record page and the list."""

import re

from sqlalchemy import select

from models import AccountStatus, Contact, ContactRole, OutboxMessage, PortalAccount, db
from tests import factories
from tests.conftest import body_of, run_jobs


def page_of(record_id):
    return f"/admin/record/details/?id={record_id}"


def test_enable_sends_exactly_two_emails_to_the_client(app, agent_client, mailbox):
    with app.app_context():
        record = factories.record(
            first_name="Cleo", last_name="Client", email="cleo@example.com"
        ).id
    response = agent_client.submit(
        f"/admin/record/{record}/self-service/enable/", page=page_of(record), follow_redirects=True
    )
    html = response.get_data(as_text=True)
    assert "Self service enabled: the portal link went by email, the password by email." in html
    run_jobs(app)
    run_jobs(app)  # a second run sends nothing more
    received = mailbox.wait_for(2)
    assert sorted(m["Subject"] for m in received) == [
        "Your client portal password",
        "Your secure client portal from Client portal",
    ]
    assert all(m["To"] == "Cleo Client <cleo@example.com>" for m in received)
    link = next(m for m in received if "secure client portal" in m["Subject"])
    password = next(m for m in received if "password" in m["Subject"])
    assert re.search(r"http://portico\.test/portal/a/[\w-]{40,}", body_of(link))
    assert re.search(r"^\s{4}\S{4}-\S{4}-\S{4}\r?$", body_of(password), re.M)
    assert len(mailbox.messages) == 2
    # Staff never see the credentials afterwards.
    with app.app_context():
        bodies = [m.body_text for m in db.session.scalars(select(OutboxMessage))]
    assert all(body.startswith("[This message carried") for body in bodies)


def test_the_record_page_and_the_list_show_portal_status(app, agent_client):
    with app.app_context():
        enabled = factories.record(first_name="Ena", last_name="Quasar", email="ena@example.com").id
        factories.record(first_name="Nora", last_name="Pulsar", email="nora@example.com")
    agent_client.submit(f"/admin/record/{enabled}/self-service/enable/", page=page_of(enabled))
    page = agent_client.get(page_of(enabled)).get_data(as_text=True)
    assert "Send new link and password" in page and "Disable Self Service" in page
    listing = agent_client.get("/admin/record/?flt0_portal_is=enabled").get_data(as_text=True)
    assert "Ena Quasar" in listing and "Nora Pulsar" not in listing
    assert 'style="background-color:#2e7d32">Enabled</span>' in listing  # Ena's status badge
    listing = agent_client.get("/admin/record/?flt0_portal_is=none").get_data(as_text=True)
    assert "Nora Pulsar" in listing and "Ena Quasar" not in listing


def test_disable_from_the_record_page(app, agent_client):
    with app.app_context():
        record = factories.record(email="dee@example.com").id
    agent_client.submit(f"/admin/record/{record}/self-service/enable/", page=page_of(record))
    response = agent_client.submit(
        f"/admin/record/{record}/self-service/disable/", page=page_of(record), follow_redirects=True
    )
    assert "every open portal session stopped working" in response.get_data(as_text=True)
    with app.app_context():
        account = db.session.scalar(select(PortalAccount))
        assert account.status == AccountStatus.DISABLED


def test_a_record_without_email_explains_why_it_cannot_be_enabled(app, agent_client):
    with app.app_context():
        record = factories.record(email=None).id
    page = agent_client.get(page_of(record)).get_data(as_text=True)
    assert "has no email address, so self service cannot be enabled yet" in page
    response = agent_client.submit(
        f"/admin/record/{record}/self-service/enable/", page=page_of(record), follow_redirects=True
    )
    assert "the password is always sent by email" in response.get_data(as_text=True)


def test_invite_a_contact_person(app, agent_client, mailbox):
    with app.app_context():
        record = factories.record(first_name="Hal", email="hal@example.com")
        contact = Contact(
            record_id=record.id,
            role=ContactRole.CONTACT_PERSON,
            first_name="Dora",
            last_name="Daughter",
            email="dora@example.com",
        )
        db.session.add(contact)
        db.session.commit()
        record_id, contact_id = record.id, contact.id
    response = agent_client.submit(
        f"/admin/record/{record_id}/self-service/invite/",
        {"contact_id": contact_id},
        page=page_of(record_id),
        follow_redirects=True,
    )
    assert "Invitation sent to dora@example.com." in response.get_data(as_text=True)
    run_jobs(app)
    [invitation] = mailbox.wait_for(1)
    assert invitation["Subject"] == "You are invited to the client portal of Client portal"
    assert "Hello Dora Daughter" in body_of(invitation)
    assert "/portal/invite/" in body_of(invitation)


def test_invite_refuses_a_contact_of_another_record(app, agent_client):
    with app.app_context():
        mine = factories.record().id
        theirs = factories.record()
        contact = Contact(
            record_id=theirs.id,
            role=ContactRole.CONTACT_PERSON,
            first_name="X",
            last_name="Y",
            email="xy@example.com",
        )
        db.session.add(contact)
        db.session.commit()
        contact_id = contact.id
    response = agent_client.submit(
        f"/admin/record/{mine}/self-service/invite/", {"contact_id": contact_id}, page=page_of(mine)
    )
    assert response.status_code == 404


def test_bulk_enable_sends_each_record_its_own_credentials(app, agent_client):
    with app.app_context():
        ids = [factories.record(email=f"bulk{n}@example.com").id for n in range(3)]
        no_email = factories.record(first_name="Noemail", email=None).id
    response = agent_client.submit(
        "/admin/record/action/",
        {"action": "enable_self_service", "rowid": [*map(str, ids), str(no_email)]},
        page="/admin/record/",
    )
    html = response.get_data(as_text=True)
    assert "Portico never sends one email with credentials to many" in html
    assert "1 have no email address and will be skipped" in html
    token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    response = agent_client.post(
        "/admin/record/bulk-enable/",
        data={
            "csrf_token": token,
            "record_id": [*map(str, ids), str(no_email)],
            "url": "/admin/record/",
        },
        follow_redirects=True,
    )
    html = response.get_data(as_text=True)
    assert "Self service enabled for 3 records; each was sent its own link" in html
    assert "Noemail" in html and "password is always sent by email" in html
    with app.app_context():
        messages = db.session.scalars(select(OutboxMessage)).all()
        assert len(messages) == 6
        assert {m.recipient for m in messages} == {f"bulk{n}@example.com" for n in range(3)}
        links = {
            re.search(r"/portal/a/([\w-]+)", m.body_text).group(1)
            for m in messages
            if m.template_key == "portal.link"
        }
        assert len(links) == 3  # every client has a link of their own
