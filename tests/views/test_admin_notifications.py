from sqlalchemy import select

from app.services import events
from models import NotificationRule, db
from tests import factories


def rule(app, key):
    with app.app_context():
        return db.session.scalar(select(NotificationRule).where(NotificationRule.event_key == key))


def test_the_matrix_lists_every_event(admin_client):
    html = admin_client.get("/admin/notifications/").get_data(as_text=True)
    for key in events.CATALOGUE:
        assert f'id="rule-{key}"' in html


def test_saving_the_matrix(app, admin_client):
    before = rule(app, "portal.contact_us")
    assert before.agent_email and before.create_task
    data = {
        f"{key}:{name}": "on"
        for key, spec in events.CATALOGUE.items()
        for name in (
            "agent_email",
            "customer_email",
            "primary_applicant_email",
            "create_task",
            "log_activity",
        )
        if getattr(rule(app, key), name)
    }
    data.pop("portal.contact_us:create_task")
    data["portal.login.email:agent_email"] = "on"
    response = admin_client.submit("/admin/notifications/", data, follow_redirects=True)
    assert "Notification rules saved" in response.get_data(as_text=True)
    assert not rule(app, "portal.contact_us").create_task
    assert rule(app, "portal.contact_us").agent_email
    assert rule(app, "portal.login.email").agent_email


def test_restore_one_and_all(app, admin_client):
    with app.app_context():
        stored = db.session.scalar(
            select(NotificationRule).where(NotificationRule.event_key == "portal.contact_us")
        )
        stored.agent_email = False
        other = db.session.scalar(
            select(NotificationRule).where(NotificationRule.event_key == "portal.feedback")
        )
        other.agent_email = False
        db.session.commit()
    admin_client.submit(
        "/admin/notifications/restore/", {"key": "portal.contact_us"}, page="/admin/notifications/"
    )
    assert rule(app, "portal.contact_us").agent_email
    assert not rule(app, "portal.feedback").agent_email
    admin_client.submit("/admin/notifications/restore/", page="/admin/notifications/")
    assert rule(app, "portal.feedback").agent_email


def test_templates_per_rule_must_exist_and_fit_the_channel(app, admin_client):
    url = "/admin/notifications/portal.contact_us/"
    response = admin_client.submit(
        url,
        {
            "agent_template_key": "notify.customer.sms",
            "customer_template_key": "notify.customer",
            "customer_sms_template_key": "notify.customer.sms",
            "primary_template_key": "notify.primary",
            "task_due_hours": "4",
        },
    )
    assert "Not a valid choice" in response.get_data(as_text=True)
    response = admin_client.submit(
        url,
        {
            "agent_template_key": "portal.link",
            "customer_template_key": "notify.customer",
            "customer_sms_template_key": "notify.customer.sms",
            "primary_template_key": "notify.primary",
            "task_due_hours": "4",
        },
    )
    assert response.status_code == 302
    assert rule(app, "portal.contact_us").task_due_hours == 4


def test_preview_shows_what_an_event_would_produce(app, admin_client):
    with app.app_context():
        agent = factories.staff(email="pia.agent@example.com", first_name="Pia")
        record = factories.record(
            first_name="Ola", email="ola@example.com", assigned_agent_id=agent.id
        ).id
    html = admin_client.get(
        f"/admin/notifications/preview/?event=portal.contact_us&record_id={record}&as=client"
    ).get_data(as_text=True)
    assert "Agent · Email to pia.agent@example.com" in html
    assert "Customer · Email to ola@example.com" in html
    assert "Contact us: Ola" in html  # the task title
    assert "We received your message" in html
    with app.app_context():
        from models import OutboxMessage, Task

        assert db.session.scalars(select(OutboxMessage)).all() == []  # nothing was written
        assert db.session.scalars(select(Task)).all() == []


def test_agents_cannot_change_the_rules(agent_client):
    assert agent_client.get("/admin/notifications/").status_code == 403


def test_the_next_action_follows_a_changed_rule(app, admin_client, admin_user):
    with app.app_context():
        record = factories.record(email="rex@example.com", assigned_agent_id=admin_user.id).id
    # Turn on "agent email" for "Self service enabled" (off by default).
    data = {
        f"{key}:{name}": "on"
        for key in events.CATALOGUE
        for name in (
            "agent_email",
            "customer_email",
            "primary_applicant_email",
            "create_task",
            "log_activity",
        )
        if getattr(rule(app, key), name)
    }
    data["staff.self_service.enabled:agent_email"] = "on"
    admin_client.submit("/admin/notifications/", data)
    admin_client.submit(
        f"/admin/record/{record}/self-service/enable/", page=f"/admin/record/details/?id={record}"
    )
    with app.app_context():
        from models import OutboxMessage

        told = db.session.scalar(
            select(OutboxMessage).where(OutboxMessage.event_key == "staff.self_service.enabled")
        )
        assert told.recipient == admin_user.email
        assert told.subject.startswith("Self service enabled: Rita Record")
