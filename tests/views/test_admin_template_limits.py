"""A template that asks for too much gets a clear answer at save and in the previews."""

import time

from sqlalchemy import select

from app.services import notification_rules
from models import Channel, MessageTemplate, db
from tests import factories

LOOPS = "{% for a in range(999) %}{% for b in range(999) %}{% endfor %}{% endfor %}"


def test_saving_a_template_that_pads_to_megabytes_is_refused(app, admin_client):
    response = admin_client.submit(
        "/admin/template/new/",
        {
            "key": "aep.pad",
            "channel": "email",
            "name": "Pad",
            "subject": "Hi",
            "body": "Hello {{ '%050000000d'|format(1) }}",
        },
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "more than a message may hold: That pads the text too much" in html
    with app.app_context():
        assert (
            db.session.scalar(select(MessageTemplate).where(MessageTemplate.key == "aep.pad"))
            is None
        )


def test_previews_say_why_instead_of_hanging(app, admin_client):
    with app.app_context():
        record = factories.record(first_name="Lena", email="lena@example.com").id
        stored = MessageTemplate(
            key="aep.loops", channel=Channel.EMAIL, name="Loops", subject="S", body=LOOPS
        )
        db.session.add(stored)
        db.session.flush()
        template_id = stored.id
        rule = notification_rules.rule_for("staff.change.approved")
        rule.customer_template_key = "aep.loops"
        db.session.add(rule)
        db.session.commit()

    started = time.monotonic()
    html = admin_client.get(f"/admin/template/{template_id}/preview/").get_data(as_text=True)
    assert "could not be rendered: The template&#39;s loops turn more than 20,000 times" in html

    response = admin_client.get(
        f"/admin/notifications/preview/?event=staff.change.approved&record_id={record}&as=staff"
    )
    assert response.status_code == 200
    assert "loops turn more than 20,000 times" in response.get_data(as_text=True)
    assert time.monotonic() - started < 5
