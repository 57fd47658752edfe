from datetime import date, timedelta

import pytest

from app.services import contacts as contact_service
from app.services import records as record_service
from app.services.errors import ValidationError
from app.services.validation import format_phone, normalise_email, normalise_phone
from models import Contact, ContactMethod, ContactRole, Record, RecordKind


def make(**values):
    base = {
        "first_name": " Ada ",
        "last_name": " Lovelace ",
        "email": "Ada@Example.COM",
        "kind": RecordKind.LEAD,
        "country": "us",
        "preferred_contact": ContactMethod.EMAIL,
    }
    base.update(values)
    return Record(**base)


def test_clean_record_normalises_names_email_and_phones():
    record = record_service.clean_record(make(phone="(202) 555-0143", mobile="202.555.0199"))
    assert (record.first_name, record.last_name) == ("Ada", "Lovelace")
    assert record.email == "Ada@example.com"
    assert record.phone == "+12025550143"
    assert record.mobile == "+12025550199"
    assert record.country == "US"


def test_phone_numbers_are_read_in_the_records_country():
    record = record_service.clean_record(make(country="GB", phone="020 7946 0958"))
    assert record.phone == "+442079460958"
    assert format_phone(record.phone) == "+44 20 7946 0958"


@pytest.mark.parametrize(
    "values, field, message",
    [
        ({"first_name": "  "}, "first_name", "first name"),
        ({"last_name": ""}, "last_name", "last name"),
        ({"email": "not-an-address"}, "email", "valid email"),
        ({"phone": "call me"}, "phone", "area code"),
        ({"phone": "12"}, "phone", "wrong number of digits"),
        ({"mobile": "+1 202 555 01"}, "mobile", "wrong number of digits"),
        ({"date_of_birth": date.today() + timedelta(days=1)}, "date_of_birth", "future"),
        ({"date_of_birth": date(1850, 1, 1)}, "date_of_birth", "year"),
        ({"preferred_contact": ContactMethod.SMS}, "mobile", "mobile number"),
        ({"preferred_contact": ContactMethod.EMAIL, "email": None}, "email", "email address"),
        ({"preferred_contact": ContactMethod.PHONE}, "phone", "phone number"),
    ],
)
def test_clean_record_names_the_field_to_fix(values, field, message):
    with pytest.raises(ValidationError, match=message) as caught:
        record_service.clean_record(make(**values))
    assert caught.value.field == field


def test_convert_lead_to_client_once(ctx):
    from tests import factories

    record = factories.record(kind=RecordKind.LEAD)
    assert record_service.convert_to_client(record) is True
    assert record.kind == RecordKind.CLIENT
    assert record_service.convert_to_client(record) is False


def test_a_record_has_at_most_one_co_applicant():
    record = make()
    record.contacts = [
        Contact(role=ContactRole.CO_APPLICANT, first_name="A", last_name="B"),
        Contact(role=ContactRole.CO_APPLICANT, first_name="C", last_name="D"),
    ]
    with pytest.raises(ValidationError, match="one co-applicant"):
        contact_service.clean_contacts(record)


def test_contacts_are_normalised_and_errors_name_the_contact():
    record = make()
    record.contacts = [
        Contact(
            role=ContactRole.CONTACT_PERSON,
            first_name=" Li ",
            last_name="Wei",
            email="LI@EXAMPLE.COM",
            phone="2025550101",
        )
    ]
    contact_service.clean_contacts(record)
    assert record.contacts[0].first_name == "Li"
    assert record.contacts[0].phone == "+12025550101"
    record.contacts[0].email = "nope"
    with pytest.raises(ValidationError, match="Li Wei: Enter a valid email"):
        contact_service.clean_contacts(record)


def test_empty_values_become_none():
    assert normalise_email("  ") is None
    assert normalise_phone("") is None


def _tag_workflow(tag):
    from models import ActionKind, ActionTarget, DelayUnit, Workflow, WorkflowAction, db

    flow = Workflow(name=f"When tagged {tag.name}", active=True, tag_id=tag.id)
    flow.actions = [
        WorkflowAction(
            position=0,
            delay_amount=1,
            delay_unit=DelayUnit.DAYS,
            kind=ActionKind.CREATE_TASK,
            target=ActionTarget.AGENT,
            task_title="Call",
        )
    ]
    db.session.add(flow)
    db.session.commit()
    return flow


def test_saving_a_record_with_a_tag_put_on_starts_its_workflow_and_says_so(ctx):
    from app.services import events
    from models import ActivityEntry, db
    from tests import factories

    actor = events.Actor.staff(factories.staff())
    tag = factories.tag()
    _tag_workflow(tag)
    record = db.session.get(Record, factories.record().id)
    record.tags.append(tag)  # as the form does, unsaved (nothing may flush before the save)
    runs = record_service.save(record, created=False, actor=actor)
    assert runs == record_service.RunsChanged(started=1)
    assert record_service.running_runs(record) == 1
    logged = db.session.query(ActivityEntry).filter_by(event_key="staff.tags.changed").all()
    assert [entry.record_id for entry in logged] == [record.id]

    record.tags.remove(tag)
    runs = record_service.save(record, created=False, actor=actor)
    assert runs == record_service.RunsChanged(stopped=1)


def test_saving_refuses_a_bad_record_before_writing_anything(ctx):
    from models import db

    record = make(first_name=" ")
    db.session.add(record)
    with pytest.raises(ValidationError, match="first name"):
        record_service.save(record, created=True)
    assert record.id is None


def test_a_new_record_reports_no_change_of_runs(ctx):
    from models import db

    record = make()
    db.session.add(record)
    assert record_service.save(record, created=True) == record_service.RunsChanged()
    assert record.id is not None and record.first_name == "Ada"


def test_bulk_self_service_previews_then_enables_each_record_it_can(ctx):
    from models import db
    from tests import factories

    staff = factories.staff()
    ready = factories.record()
    no_email = factories.record(email=None)
    preview = record_service.self_service_preview([ready.id, no_email.id, ready.id])
    assert {r.id for r in preview.records} == {ready.id, no_email.id}
    assert [r.id for r in preview.without_email] == [no_email.id]
    assert preview.already == []
    done, refused = record_service.enable_self_service_for([ready.id, no_email.id], staff)
    assert done == 1
    assert len(refused) == 1 and refused[0].startswith(no_email.display_name)
    db.session.expire_all()  # the next request reads afresh
    preview = record_service.self_service_preview([ready.id])
    assert [r.id for r in preview.already] == [ready.id]
