from sqlalchemy import select

from models import MessageTemplate, db
from tests import factories


def template_id(app, key):
    with app.app_context():
        return db.session.scalar(select(MessageTemplate.id).where(MessageTemplate.key == key))


def form(**values):
    data = {
        "key": "portal.link",
        "channel": "email",
        "name": "Portal link",
        "subject": "S",
        "body": "Hi {{ record.first_name }}: {{ portal_link }}",
    }
    data.update(values)
    return data


def test_removing_a_required_placeholder_is_refused_with_the_reason(app, admin_client):
    url = f"/admin/template/edit/?id={template_id(app, 'portal.link')}"
    response = admin_client.submit(url, form(body="Hi {{ record.first_name }}, no link here"))
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "This template must keep {{ portal_link }}" in html
    with app.app_context():
        stored = db.session.scalar(
            select(MessageTemplate).where(MessageTemplate.key == "portal.link")
        )
        assert "{{ portal_link }}" in stored.body


def test_editing_keeps_key_and_channel(app, admin_client):
    url = f"/admin/template/edit/?id={template_id(app, 'portal.link')}"
    response = admin_client.submit(url, form(key="hacked", channel="sms", name="Link, our words"))
    assert response.status_code == 302
    with app.app_context():
        stored = db.session.get(MessageTemplate, template_id(app, "portal.link"))
        assert (stored.key, stored.channel.value, stored.name) == (
            "portal.link",
            "email",
            "Link, our words",
        )


def test_restore_defaults_and_missing(app, admin_client):
    tid = template_id(app, "portal.password")
    admin_client.submit(
        f"/admin/template/edit/?id={tid}",
        form(key="portal.password", body="Yours: {{ password }} (edited)"),
    )
    admin_client.submit(
        "/admin/template/action/",
        {"action": "restore", "rowid": [str(tid)]},
        page="/admin/template/",
    )
    with app.app_context():
        assert "(edited)" not in db.session.get(MessageTemplate, tid).body
        db.session.delete(db.session.get(MessageTemplate, template_id(app, "portal.invitation")))
        db.session.commit()
    response = admin_client.submit(
        "/admin/template/restore-missing/", page="/admin/template/", follow_redirects=True
    )
    assert "Added 1 missing default template." in response.get_data(as_text=True)


def test_system_templates_cannot_be_deleted(app, admin_client):
    tid = template_id(app, "portal.password")
    response = admin_client.submit(
        "/admin/template/delete/", {"id": tid}, page="/admin/template/", follow_redirects=True
    )
    assert "is a system template" in response.get_data(as_text=True)
    assert template_id(app, "portal.password") == tid


def test_custom_templates_for_campaigns(app, admin_client):
    response = admin_client.submit(
        "/admin/template/new/",
        form(
            key="aep.reminder",
            channel="email",
            name="AEP reminder",
            subject="Time for your annual review, {{ record.first_name }}",
            body="Hello {{ record.first_name }}, {{ agent.full_name }} will call you.",
        ),
    )
    assert response.status_code == 302
    duplicate = admin_client.submit("/admin/template/new/", form(key="aep.reminder"))
    assert "already exists" in duplicate.get_data(as_text=True).lower()


def test_preview_against_a_record(app, admin_client):
    with app.app_context():
        record = factories.record(first_name="Petra", last_name="Preview").id
    tid = template_id(app, "portal.link")
    html = admin_client.get(f"/admin/template/{tid}/preview/?record_id={record}").get_data(
        as_text=True
    )
    assert "For Petra Preview" in html and "Hello Petra," in html
    assert "(personal link, made when sent)" in html


def test_agents_cannot_edit_templates(agent_client):
    assert agent_client.get("/admin/template/").status_code == 403


def test_a_template_that_fails_to_fill_in_says_why_instead_of_failing(app, admin_client):
    bad = form(key="aep.broken", channel="email", name="Broken", subject="Hi", body="{{ 1/0 }}")
    assert admin_client.submit("/admin/template/new/", bad).status_code == 302
    with app.app_context():
        factories.record(first_name="Zed")
    tid = template_id(app, "aep.broken")
    response = admin_client.get(f"/admin/template/{tid}/preview/")
    assert response.status_code == 200
    assert "could not be rendered: division by zero" in response.get_data(as_text=True)

    unknown = form(key="aep.filter", channel="email", name="F", subject="Hi", body="{{ x|nope }}")
    html = admin_client.submit("/admin/template/new/", unknown).get_data(as_text=True)
    assert "No filter named &#39;nope&#39;" in html or "No filter named 'nope'" in html


def test_an_edited_system_template_that_fails_shows_its_error_in_the_preview(app, admin_client):
    tid = template_id(app, "portal.link")
    with app.app_context():
        from models import MessageTemplate

        db.session.get(
            MessageTemplate, tid
        ).body = "{{ portal_link }} {{ record.first_name|truncate(-5) }}"
        db.session.commit()
        factories.record(first_name="Yan")
    html = admin_client.get(f"/admin/template/{tid}/preview/").get_data(as_text=True)
    assert "could not be rendered" in html
