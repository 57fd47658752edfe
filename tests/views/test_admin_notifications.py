from html.parser import HTMLParser

from sqlalchemy import select

from app.services import notification_rules
from app.services.event_catalogue import CATALOGUE, EMITTED
from models import ActivityEntry, NotificationRule, db
from tests import factories
from tests.services.test_events import PLANNED


class _MatrixForm(HTMLParser):
    """What a browser submits from the matrix: checked, enabled checkboxes and hidden inputs."""

    def __init__(self) -> None:
        super().__init__()
        self.data: dict[str, str] = {}
        self.fixed: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag != "input" or not a.get("name") or a["name"] == "csrf_token":
            return
        if a.get("type") == "hidden":
            self.data[a["name"]] = a.get("value", "")
        elif a.get("type") == "checkbox" and "checked" in a and "disabled" not in a:
            self.data[a["name"]] = "on"

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)


def matrix_form(client):
    """The matrix as a person would submit it unchanged."""
    parser = _MatrixForm()
    parser.feed(client.get("/admin/notifications/").get_data(as_text=True))
    return parser.data


def rule(app, key):
    with app.app_context():
        return db.session.scalar(select(NotificationRule).where(NotificationRule.event_key == key))


def test_the_matrix_lists_the_events_something_emits_and_no_others(admin_client, monkeypatch):
    monkeypatch.setitem(CATALOGUE, PLANNED.key, PLANNED)
    html = admin_client.get("/admin/notifications/").get_data(as_text=True)
    for key in EMITTED:
        assert f'id="rule-{key}"' in html
    # An event still planned; signing, certificates and journeys are built: they have rows.
    for key in (PLANNED.key,):
        assert key not in EMITTED
        assert f'id="rule-{key}"' not in html and key not in html
    for key in ("portal.sign_request.signed", "portal.certificate.requested", "flow.completed"):
        assert f'id="rule-{key}"' in html
    assert 'id="rule-portal.change_request.personal"' in html
    assert PLANNED.label not in html
    assert admin_client.get(f"/admin/notifications/{PLANNED.key}/").status_code == 302
    preview = admin_client.get("/admin/notifications/preview/").get_data(as_text=True)
    assert PLANNED.key not in preview and "portal.rx.updated" in preview


def test_saving_the_matrix(app, admin_client):
    before = rule(app, "portal.rx.updated")
    assert before.agent_email and not before.create_task
    data = matrix_form(admin_client)
    assert data["portal.login.failed:log_activity"] == "on"  # the fixed switch still posts
    data.pop("portal.rx.updated:agent_email")
    data["portal.rx.updated:create_task"] = "on"
    data["portal.login.email:agent_email"] = "on"
    response = admin_client.submit("/admin/notifications/", data, follow_redirects=True)
    assert "Notification rules saved" in response.get_data(as_text=True)
    assert rule(app, "portal.rx.updated").create_task
    assert not rule(app, "portal.rx.updated").agent_email
    assert rule(app, "portal.login.email").agent_email
    assert rule(app, "portal.login.failed").log_activity


def test_security_events_show_a_fixed_log_switch_with_the_reason(admin_client):
    html = admin_client.get("/admin/notifications/").get_data(as_text=True)
    row = html[html.index('id="rule-portal.login.failed"') :]
    row = row[: row.index("</tr>")]
    assert "checked disabled" in row
    assert "Sign-ins, failed sign-ins and pauses are always logged" in row
    other = html[html.index('id="rule-staff.tags.changed"') :]
    assert "disabled" not in other[: other.index("</tr>")]


def test_the_server_refuses_to_switch_off_a_security_log(app, admin_client):
    data = matrix_form(admin_client)
    data.pop("portal.login.failed:log_activity")  # a hand-made post
    data.pop("staff.tags.changed:log_activity")
    response = admin_client.submit("/admin/notifications/", data, follow_redirects=True)
    html = response.get_data(as_text=True)
    assert "Nothing was saved" in html and "Failed sign-in cannot be switched off" in html
    assert rule(app, "portal.login.failed").log_activity
    assert rule(app, "staff.tags.changed").log_activity  # nothing at all was saved

    with app.app_context():  # a row switched off before this change still logs
        stored = rule(app, "portal.login.failed")
        stored.log_activity = False
        db.session.add(stored)
        db.session.commit()
    html = admin_client.get("/admin/notifications/").get_data(as_text=True)
    row = html[html.index('id="rule-portal.login.failed"') :]
    assert "checked disabled" in row[: row.index("</tr>")]
    admin_client.submit("/admin/notifications/", matrix_form(admin_client))
    assert rule(app, "portal.login.failed").log_activity
    with app.app_context():
        assert db.session.scalar(select(ActivityEntry.id)) is None


def test_restore_one_and_all(app, admin_client):
    with app.app_context():
        stored = db.session.scalar(
            select(NotificationRule).where(NotificationRule.event_key == "portal.rx.updated")
        )
        stored.agent_email = False
        other = db.session.scalar(
            select(NotificationRule).where(NotificationRule.event_key == "portal.providers.updated")
        )
        other.agent_email = False
        db.session.commit()
    admin_client.submit(
        "/admin/notifications/restore/", {"key": "portal.rx.updated"}, page="/admin/notifications/"
    )
    assert rule(app, "portal.rx.updated").agent_email
    assert not rule(app, "portal.providers.updated").agent_email
    response = admin_client.submit(
        "/admin/notifications/restore/", page="/admin/notifications/", follow_redirects=True
    )
    assert rule(app, "portal.providers.updated").agent_email
    assert f"all {len(EMITTED)} events" in response.get_data(as_text=True)


def test_templates_per_rule_must_exist_and_fit_the_channel(app, admin_client):
    url = "/admin/notifications/portal.rx.updated/"
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
    assert rule(app, "portal.rx.updated").task_due_hours == 4


def test_preview_shows_what_an_event_would_produce(app, admin_client):
    with app.app_context():
        agent = factories.staff(email="pia.agent@example.com", first_name="Pia")
        record = factories.record(
            first_name="Ola", email="ola@example.com", assigned_agent_id=agent.id
        ).id
        notification_rules.save_switches(
            {"portal.password.changed": {"agent_email": True, "create_task": True}}
        )
        db.session.commit()
    html = admin_client.get(
        f"/admin/notifications/preview/?event=portal.password.changed&record_id={record}&as=client"
    ).get_data(as_text=True)
    assert "Agent · Email to pia.agent@example.com" in html
    assert "Customer · Email to ola@example.com" in html
    assert "Password changed: Ola" in html  # the task title
    assert "The password of your client portal was changed" in html
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
        for key in CATALOGUE
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
