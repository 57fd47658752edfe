import pytest
from sqlalchemy import func, select

from app.services import tags as tag_service
from app.services.errors import ValidationError
from models import Record, db, record_tags
from tests import factories


def tagged_ids(tag):
    return set(
        db.session.scalars(select(record_tags.c.record_id).where(record_tags.c.tag_id == tag.id))
    )


def test_add_tag_reports_only_records_that_gained_it(ctx):
    vip = factories.tag("VIP client")
    first, second, third = (factories.record() for _ in range(3))
    assert tag_service.add_tag([first.id], vip) == [first.id]
    db.session.commit()

    gained = tag_service.add_tag([first.id, second.id, third.id, 999_999], vip)
    db.session.commit()

    assert gained == [second.id, third.id]  # first had it, 999999 does not exist
    assert tagged_ids(vip) == {first.id, second.id, third.id}


def test_remove_tag_reports_records_that_lost_it(ctx):
    vip = factories.tag("VIP client")
    first, second = factories.record(tags=[vip]), factories.record()
    lost = tag_service.remove_tag([first.id, second.id], vip)
    db.session.commit()
    assert lost == [first.id]
    assert tagged_ids(vip) == set()


def test_bulk_tag_accepts_a_select_and_handles_thousands(ctx):
    review = factories.tag("Annual review")
    rows = [
        {
            "kind": "client",
            "first_name": "Bulk",
            "last_name": f"R{i}",
            "country": "US",
            "preferred_contact": "email",
            "email_opt_in": True,
            "sms_opt_in": False,
        }
        for i in range(6000)
    ]
    from sqlalchemy import insert

    db.session.execute(insert(Record), rows)
    db.session.commit()
    gained = tag_service.add_tag(select(Record.id).where(Record.first_name == "Bulk"), review)
    db.session.commit()
    assert len(gained) == 6000
    assert db.session.scalar(select(func.count()).select_from(record_tags)) == 6000


def test_loaded_records_see_new_tags_at_once(ctx):
    vip = factories.tag("VIP client")
    record = factories.record()
    assert record.tags == []
    tag_service.add_tag([record.id], vip)
    assert [tag.name for tag in record.tags] == ["VIP client"]


@pytest.mark.parametrize(
    "name, message",
    [
        ("", "needs a name"),
        ("   ", "needs a name"),
        ("x" * 65, "64 characters"),
        ("aep review needed", "already a tag"),  # seeded as "AEP Review Needed"
    ],
)
def test_tag_names_are_checked(ctx, name, message):
    with pytest.raises(ValidationError, match=message):
        tag_service.create_tag(name)


def test_tag_name_whitespace_is_tidied(ctx):
    tag = tag_service.create_tag("  Needs   follow-up ", "#AA00CC")
    assert tag.name == "Needs follow-up"
    assert tag.colour == "#aa00cc"


def test_bad_colour_is_refused(ctx):
    with pytest.raises(ValidationError, match="#rrggbb"):
        tag_service.create_tag("Colourful", "red")


def test_a_staff_bulk_tag_logs_each_record_it_changed(ctx):
    from app.services import activity
    from app.services.events import Actor
    from models import ActivityEntry

    vip = factories.tag("VIP client")
    agent = factories.staff("agent")
    records = [factories.record() for _ in range(3)]
    already = factories.record(tags=[vip])
    tag_service.add_tag([r.id for r in [*records, already]], vip, actor=Actor.staff(agent))
    db.session.commit()

    entries = db.session.scalars(select(ActivityEntry).order_by(ActivityEntry.id)).all()
    assert [e.record_id for e in entries] == [r.id for r in records]  # not the one that had it
    assert {e.summary for e in entries} == {entries[0].summary}
    assert entries[0].actor_label == agent.full_name and entries[0].details["tag"] == "VIP client"
    assert activity.verify().ok


def test_a_bulk_tag_creates_a_task_per_record_when_the_rule_asks(ctx):
    from app.services import notification_rules
    from app.services.events import Actor
    from models import ActivityEntry, Task

    rule = notification_rules.rule_for("staff.tags.changed")
    rule.create_task = True
    db.session.add(rule)
    vip = factories.tag("VIP client")
    agent = factories.staff("agent")
    records = [factories.record(assigned_agent=agent) for _ in range(2)]
    db.session.commit()
    tag_service.remove_tag([r.id for r in records], vip, actor=Actor.staff(agent))
    tag_service.add_tag([r.id for r in records], vip, actor=Actor.staff(agent))
    db.session.commit()

    tasks = db.session.scalars(select(Task).order_by(Task.record_id)).all()
    assert [t.record_id for t in tasks] == [r.id for r in records]
    assert all(t.assignee_id == agent.id for t in tasks)
    assert db.session.scalar(select(func.count()).select_from(ActivityEntry)) == 2
