"""The Requests inbox: every record's conversations, newest activity first, the filters staff
work from (status, kind, assigned to, mine, overdue, unread, record), bulk close and assign
to me, who may open it, and a query count that does not grow with the rows."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.services import conversations, documents
from app.services.portal_accounts import enable_self_service
from models import (
    ActivityEntry,
    Conversation,
    ConversationStatus,
    PortalAccount,
    RecordKind,
    User,
    db,
)
from tests import factories

INBOX = "/admin/requests/"


def subjects(html: str) -> list[str]:
    return re.findall(r'<a href="/admin/requests/\d+/">([^<]+)</a>', html)


@pytest.fixture
def inbox(app, agent_user, admin_user) -> dict[str, int]:
    """Five conversations in every state the filters tell apart:

    - "Overdue bill": a staff request past its due day, waiting on the client (the agent's);
    - "Due later": waiting, due in a week (the admin's);
    - "Answered": the client answered a staff request, unread by staff (the agent's);
    - "Contact": the client wrote through Contact us, unread (the agent's), on another record;
    - "Done": closed (the admin's).
    """
    with app.app_context():
        agent = db.session.get(User, agent_user.id)
        boss = db.session.get(User, admin_user.id)
        cleo = factories.record(
            first_name="Cleo", last_name="Client", kind=RecordKind.CLIENT, email="c@example.com"
        )
        otto = factories.record(
            first_name="Otto", last_name="Other", kind=RecordKind.CLIENT, email="o@example.com"
        )
        for record in (cleo, otto):
            record.assigned_agent_id = agent.id
            enable_self_service(record, agent)
        db.session.flush()
        today = documents.office_today()
        overdue = conversations.send_request(
            cleo,
            agent,
            "Overdue bill",
            "Send it",
            due_on=today - timedelta(days=2),
            assignee=agent,
            today=today - timedelta(days=5),
        )
        later = conversations.send_request(
            cleo, agent, "Due later", "Send it", due_on=today + timedelta(days=7), assignee=boss
        )
        answered = conversations.send_request(cleo, agent, "Answered", "Send it", assignee=agent)
        done = conversations.send_request(cleo, agent, "Done", "Send it", assignee=boss)
        conversations.close(done, boss)
        db.session.flush()
        account = db.session.scalar(
            select(PortalAccount).where(
                PortalAccount.record_id == cleo.id, PortalAccount.contact_id.is_(None)
            )
        )
        conversations.reply_as_client(account, answered.id, "Here")
        other = db.session.scalar(select(PortalAccount).where(PortalAccount.record_id == otto.id))
        contact = conversations.contact_us(other, "Contact", "Hello")
        db.session.commit()
        return {
            "overdue": overdue.id,
            "later": later.id,
            "answered": answered.id,
            "done": done.id,
            "contact": contact.id,
            "cleo": cleo.id,
            "otto": otto.id,
        }


def test_newest_activity_first_with_every_column(agent_client, inbox):
    html = agent_client.get(INBOX).get_data(as_text=True)
    assert subjects(html) == ["Contact", "Answered", "Done", "Due later", "Overdue bill"]
    assert "Waiting on client" in html and "Answered" in html and "Closed" in html
    assert "Request to client" in html and "Contact us" in html
    assert f'<a href="/admin/record/details/?id={inbox["otto"]}">Otto Other</a>' in html
    assert "(overdue)" in html and html.count("New from the client") == 2


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("flt0_status_is=waiting", ["Due later", "Overdue bill"]),
        ("flt0_status_is=answered", ["Answered"]),
        ("flt0_status_is=open", ["Contact"]),
        ("flt0_status_is=closed", ["Done"]),
        ("flt0_kind_is=contact_us", ["Contact"]),
        ("flt0_overdue_is=1", ["Overdue bill"]),
        ("flt0_unread_is=1", ["Contact", "Answered"]),
        ("flt0_assigned_to_me_is=1", ["Contact", "Answered", "Overdue bill"]),
        ("flt0_status_is=waiting&flt1_assigned_to_me_is=1", ["Overdue bill"]),
        ("flt0_status_is=bogus", ["Contact", "Answered", "Done", "Due later", "Overdue bill"]),
    ],
)
def test_filters_return_the_right_rows(agent_client, inbox, query, expected):
    response = agent_client.get(f"{INBOX}?{query}")
    assert response.status_code == 200
    assert subjects(response.get_data(as_text=True)) == expected


def test_assigned_to_and_record_filters(admin_client, admin_user, inbox):
    mine = admin_client.get(f"{INBOX}?flt0_assigned_to_me_is=1").get_data(as_text=True)
    assert subjects(mine) == ["Done", "Due later"]
    chosen = admin_client.get(f"{INBOX}?flt0_assigned_to_is={admin_user.id}")
    assert subjects(chosen.get_data(as_text=True)) == ["Done", "Due later"]
    record = admin_client.get(f"{INBOX}?flt0_record_is={inbox['otto']}").get_data(as_text=True)
    assert subjects(record) == ["Contact"]
    assert 'id="pt-requests-mine"' in mine


def test_opening_an_unread_thread_takes_it_out_of_unread(agent_client, inbox):
    agent_client.get(f"{INBOX}{inbox['answered']}/")
    html = agent_client.get(f"{INBOX}?flt0_unread_is=1").get_data(as_text=True)
    assert subjects(html) == ["Contact"]


def test_agents_and_admins_both_see_every_request(agent_client, admin_client, inbox):
    """As with documents: requests are the office's, not one agent's."""
    for client in (agent_client, admin_client):
        html = client.get(INBOX).get_data(as_text=True)
        assert len(subjects(html)) == 5
        assert client.get(f"{INBOX}{inbox['later']}/").status_code == 200


def test_bulk_close_and_assign_to_me(app, agent_client, agent_user, inbox):
    ids = [str(inbox["later"]), str(inbox["done"])]
    response = agent_client.submit(
        f"{INBOX}action/", {"action": "assign_me", "rowid": ids}, page=INBOX, follow_redirects=True
    )
    assert "Assigned 2 requests to you." in response.get_data(as_text=True)
    response = agent_client.submit(
        f"{INBOX}action/",
        {"action": "close", "rowid": [str(inbox["later"]), str(inbox["done"]), "x", "²"]},
        page=INBOX,
        follow_redirects=True,
    )
    assert "Closed 1 request." in response.get_data(as_text=True)  # one was closed already
    with app.app_context():
        later = db.session.get(Conversation, inbox["later"])
        done = db.session.get(Conversation, inbox["done"])
        assert later.status == ConversationStatus.CLOSED
        assert later.assignee_id == agent_user.id == done.assignee_id
        closed = db.session.scalars(
            select(ActivityEntry).where(ActivityEntry.event_key == "staff.request.closed")
        ).all()
        assert len(closed) == 2  # the fixture's, and this one


def test_bulk_action_without_csrf_is_refused(app, agent_client, inbox):
    response = agent_client.post(
        f"{INBOX}action/", data={"action": "close", "rowid": [str(inbox["later"])]}
    )
    assert response.status_code in (302, 400)
    with app.app_context():
        assert db.session.get(Conversation, inbox["later"]).status == ConversationStatus.WAITING


def test_no_delete_and_no_create(agent_client, admin_client, inbox):
    for client in (agent_client, admin_client):
        html = client.get(INBOX).get_data(as_text=True)
        assert 'value="delete"' not in html
        assert client.get(f"{INBOX}new/").status_code in (302, 403, 404)
        refused = client.submit(f"{INBOX}delete/", {"id": str(inbox["done"])}, page=INBOX)
        assert refused.status_code == 403


def test_inbox_queries_do_not_grow_with_rows(app, agent_client, agent_user, count_queries):
    with app.app_context():
        agent = db.session.get(User, agent_user.id)
        staff = [factories.staff(email=f"s{n}@example.com") for n in range(4)]
        for n in range(60):
            record = factories.record(first_name=f"R{n}", email=f"r{n}@example.com")
            conversations.send_request(record, agent, f"Request {n}", "Body", assignee=staff[n % 4])
        db.session.commit()
    counts = {}
    for size in (25, 50):
        with count_queries() as counter:
            response = agent_client.get(f"{INBOX}?page_size={size}")
        assert response.status_code == 200
        assert len(subjects(response.get_data(as_text=True))) == size
        counts[size] = counter.count
    assert counts[25] == counts[50] and counts[50] <= 12, counts


def test_record_requests_tab_costs_the_same_with_1_or_12_requests(
    app, agent_client, agent_user, count_queries
):
    with app.app_context():
        agent = db.session.get(User, agent_user.id)
        staff = [factories.staff(email=f"t{n}@example.com") for n in range(3)]
        one = factories.record(first_name="One", email="one@example.com")
        many = factories.record(first_name="Many", email="many@example.com")
        conversations.send_request(one, agent, "Only", "Body", assignee=staff[0])
        for n in range(12):
            conversations.send_request(many, agent, f"R{n}", "Body", assignee=staff[n % 3])
        db.session.commit()
        ids = (one.id, many.id)
    counts = []
    for record_id in ids:
        with count_queries() as counter:
            html = agent_client.get(f"/admin/record/details/?id={record_id}").get_data(as_text=True)
        assert 'id="pt-request-table"' in html
        counts.append(counter.count)
    assert counts[0] == counts[1], counts
