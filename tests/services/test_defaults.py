"""Restoring what Portico ships: one helper, the same rows whether seeded or restored."""

from sqlalchemy import select

from app.services import defaults, notification_rules, templates
from app.services.event_catalogue import CATALOGUE
from models import Channel, MessageTemplate, NotificationRule, db

SHIPPED = {
    "office.hello": {"channel": Channel.EMAIL, "name": "Hello", "subject": "Hi", "body": "Hello"},
    "office.bye": {"channel": Channel.SMS, "name": "Bye", "subject": "", "body": "Bye"},
}


def stored(key):
    return db.session.scalar(select(MessageTemplate).where(MessageTemplate.key == key))


def test_restore_puts_the_shipped_values_back_and_creates_missing_rows(ctx):
    db.session.add(
        MessageTemplate(
            key="office.hello", channel=Channel.EMAIL, name="Ours", subject="S", body="B"
        )
    )
    db.session.flush()
    restored = defaults.restore(
        MessageTemplate, "key", SHIPPED, ["office.bye", "mine", "office.hello"]
    )
    assert restored == ["office.bye", "office.hello"]  # in the order asked, unknown keys left out
    assert (stored("office.hello").name, stored("office.hello").body) == ("Hello", "Hello")
    assert (stored("office.bye").channel, stored("office.bye").body) == (Channel.SMS, "Bye")


def test_every_shipped_key_when_none_are_named_and_nothing_when_none_match(ctx):
    assert defaults.restore(MessageTemplate, "key", SHIPPED) == list(SHIPPED)
    assert defaults.restore(MessageTemplate, "key", SHIPPED, ["mine"]) == []
    assert defaults.restore(MessageTemplate, "key", SHIPPED, []) == []


def test_missing_only_creates_and_never_touches_an_edited_row(ctx):
    db.session.add(
        MessageTemplate(
            key="office.hello", channel=Channel.EMAIL, name="Ours", subject="S", body="B"
        )
    )
    db.session.flush()
    assert defaults.restore(MessageTemplate, "key", SHIPPED, missing_only=True) == ["office.bye"]
    assert stored("office.hello").body == "B"
    assert stored("office.bye").body == "Bye"


def test_fixed_columns_are_set_only_on_a_new_row(ctx):
    db.session.add(
        MessageTemplate(key="office.bye", channel=Channel.EMAIL, name="Ours", subject="S", body="B")
    )
    db.session.flush()
    defaults.restore(MessageTemplate, "key", SHIPPED, fixed=("channel",))
    assert (stored("office.bye").channel, stored("office.bye").body) == (Channel.EMAIL, "Bye")
    assert stored("office.hello").channel == Channel.EMAIL


def _rule(key):
    return db.session.scalar(select(NotificationRule).where(NotificationRule.event_key == key))


def _switches(rule):
    names = (*notification_rules.SWITCHES, *notification_rules.TEMPLATE_SETTINGS)
    return {name: getattr(rule, name) for name in names}


def test_a_restored_rule_is_the_rule_seeding_makes(ctx):
    shipped = _switches(notification_rules.default_rule("portal.rx.updated"))
    rule = _rule("portal.rx.updated")
    assert _switches(rule) == shipped  # seeded
    rule.agent_email, rule.task_due_hours, rule.agent_template_key = False, 3, "notify.primary"
    db.session.delete(_rule("portal.providers.updated"))
    db.session.flush()
    assert notification_rules.ensure_rules() == ["portal.providers.updated"]
    assert _rule("portal.rx.updated").task_due_hours == 3  # seeding leaves edits alone
    assert notification_rules.restore_rules(["portal.rx.updated", "no.such.event"]) == [
        "portal.rx.updated"
    ]
    assert _switches(_rule("portal.rx.updated")) == shipped
    assert notification_rules.restore_rules() == list(CATALOGUE)


def test_restoring_a_template_brings_back_its_default_text(ctx):
    template = templates.get_template("notify.agent")
    template.body = "Edited {{ summary }}"
    db.session.delete(templates.get_template("portal.invitation"))
    db.session.flush()
    assert templates.ensure_defaults() == ["portal.invitation"]
    assert templates.get_template("notify.agent").body == "Edited {{ summary }}"
    assert templates.restore_defaults(["notify.agent"]) == ["notify.agent"]
    assert templates.get_template("notify.agent").body == templates.default_of("notify.agent").body
