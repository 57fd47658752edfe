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
