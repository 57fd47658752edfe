"""The configurable portal: modes, generated forms, saving, approvals, custom fields."""

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from app.services import (
    builtin_fields,
    custom_fields,
    field_values,
    pending_changes,
    portal_fields,
    portal_forms,
)
from app.services.errors import ValidationError
from app.services.events import Actor
from models import (
    ActivityEntry,
    ChangeStatus,
    Contact,
    ContactRole,
    CustomField,
    CustomFieldType,
    FieldMode,
    OutboxMessage,
    PendingChange,
    PortalField,
    db,
)
from tests import factories


@pytest.fixture
def record(ctx):
    agent = factories.staff(email="agent.ann@example.com")
    return factories.record(
        first_name="Cora",
        last_name="Client",
        email="cora@example.com",
        phone="+12025550143",
        assigned_agent_id=agent.id,
        country="US",
    )


@pytest.fixture
def client_actor(record):
    return Actor("client", "Cora Client", email="cora@example.com", is_primary=True)


def set_mode(key, mode):
    row = db.session.scalar(select(PortalField).where(PortalField.key == key))
    row.mode = mode
    db.session.commit()


def submit(record, section, data, actor):
    fields = field_values.layout()[section]
    form_class = portal_forms.section_form(section, fields, record)
    with factories_request():
        form = form_class(formdata=MultiDict(data), meta={"csrf": False})
        valid = form.validate()
        result = portal_fields.save_section(record, section, form, actor) if valid else None
    return form, result


def factories_request():
    from flask import current_app

    return current_app.test_request_context(method="POST")


def test_every_builtin_field_has_a_row(ctx):
    keys = set(db.session.scalars(select(PortalField.key)))
    assert {b.key for b in builtin_fields.BUILTIN} <= keys


def test_only_editable_fields_are_in_the_form(record):
    set_mode("phone", FieldMode.READ_ONLY)
    set_mode("mobile", FieldMode.HIDDEN)
    fields = field_values.layout()["contact"]
    form_class = portal_forms.section_form("contact", fields, record)
    with factories_request():
        form = form_class(meta={"csrf": False})
    assert "email" in form._fields
    assert "phone" not in form._fields and "mobile" not in form._fields
    assert [f.key for f in fields if f.visible] == ["email", "phone"]


def test_optional_changes_are_saved_and_logged_with_old_and_new(record, client_actor):
    _form, result = submit(
        record,
        "contact",
        {"email": "cora@example.com", "phone": "(202) 555-0199", "mobile": ""},
        client_actor,
    )
    db.session.commit()
    assert record.phone == "+12025550199"
    assert result.saved == {"Phone": ("(202) 555-0143", "(202) 555-0199")}
    entry = db.session.scalar(select(ActivityEntry))
    assert entry.event_key == "portal.profile.updated"
    assert entry.details["changes"] == {"Phone": ["(202) 555-0143", "(202) 555-0199"]}


def test_mandatory_fields_must_be_filled(record, client_actor):
    set_mode("phone", FieldMode.MANDATORY)
    form, result = submit(
        record, "contact", {"email": "cora@example.com", "phone": ""}, client_actor
    )
    assert result is None
    assert form.errors["phone"] == ["This field is required."]
    assert record.phone == "+12025550143"


def test_bad_values_are_refused_by_the_form(record, client_actor):
    form, result = submit(
        record, "contact", {"email": "not-an-address", "phone": "12"}, client_actor
    )
    assert result is None
    assert "valid email" in form.errors["email"][0]
    assert "wrong number of digits" in form.errors["phone"][0]


def test_approval_fields_wait_and_leave_the_record_alone(record, client_actor):
    _, result = submit(
        record,
        "contact",
        {"email": "new.cora@example.com", "phone": "(202) 555-0143"},
        client_actor,
    )
    db.session.commit()
    assert result.pending == {"Email address": "new.cora@example.com"}
    assert record.email == "cora@example.com"
    change = db.session.scalar(select(PendingChange))
    assert (change.old_display, change.new_display, change.status) == (
        "cora@example.com",
        "new.cora@example.com",
        ChangeStatus.PENDING,
    )
    # A newer proposal replaces it; the same proposal again adds nothing.
    submit(
        record, "contact", {"email": "other@example.com", "phone": "(202) 555-0143"}, client_actor
    )
    submit(
        record, "contact", {"email": "other@example.com", "phone": "(202) 555-0143"}, client_actor
    )
    statuses = [
        c.status for c in db.session.scalars(select(PendingChange).order_by(PendingChange.id))
    ]
    assert statuses == [ChangeStatus.SUPERSEDED, ChangeStatus.PENDING]


def test_an_approval_that_would_leave_no_way_to_reach_the_client_is_refused(record, client_actor):
    staff = factories.staff(email="boss3@example.com")
    _, result = submit(record, "contact", {"email": "", "phone": "(202) 555-0143"}, client_actor)
    db.session.commit()
    assert result.pending == {"Email address": ""}  # emptying it waits for approval
    change = db.session.scalar(select(PendingChange))
    with pytest.raises(ValidationError, match="Add an email address to prefer email"):
        pending_changes.approve(change, staff)
    db.session.rollback()
    assert record.email == "cora@example.com" and change.status == ChangeStatus.PENDING


def test_approving_writes_the_value_and_tells_the_client(record, client_actor):
    staff = factories.staff(email="boss2@example.com")
    submit(
        record,
        "contact",
        {"email": "new.cora@example.com", "phone": "(202) 555-0143"},
        client_actor,
    )
    change = db.session.scalar(select(PendingChange))
    pending_changes.approve(change, staff)
    db.session.commit()
    assert record.email == "new.cora@example.com"
    assert change.status == ChangeStatus.APPROVED
    keys = [e.event_key for e in db.session.scalars(select(ActivityEntry))]
    assert "staff.change.approved" in keys
    told = db.session.scalar(
        select(OutboxMessage).where(OutboxMessage.event_key == "staff.change.approved")
    )
    assert told.recipient == "new.cora@example.com"
    with pytest.raises(ValidationError, match="already decided"):
        pending_changes.reject(change, staff)


def test_rejecting_keeps_the_record_and_gives_the_reason(record, client_actor):
    staff = factories.staff(email="boss3@example.com")
    submit(record, "personal", {"first_name": "Corinna", "last_name": "Client"}, client_actor)
    change = db.session.scalar(select(PendingChange))
    pending_changes.reject(change, staff, "Please send us your ID first.")
    db.session.commit()
    assert record.first_name == "Cora"
    assert change.reason == "Please send us your ID first."
    entry = db.session.scalar(
        select(ActivityEntry).where(ActivityEntry.event_key == "staff.change.rejected")
    )
    assert entry.details["reason"] == "Please send us your ID first."
    assert pending_changes.decisions_to_show(record) == [change]


def test_forbidden_keys_name_the_reason(record):
    set_mode("date_of_birth", FieldMode.READ_ONLY)
    set_mode("company_name", FieldMode.HIDDEN)
    fields = field_values.layout()["personal"]
    problems = portal_forms.forbidden_keys(
        {"first_name", "date_of_birth", "company_name", "is_admin"}, fields
    )
    assert problems == {
        "company_name": "There is no such field to change here.",
        "date_of_birth": "This field is read-only: ask your adviser to change it.",
        "is_admin": "There is no such field to change here.",
    }


def test_co_applicant_is_created_checked_and_removed(record, client_actor):
    form, result = submit(record, "co_applicant", {"co_applicant_first_name": "Dan"}, client_actor)
    assert result is None
    assert "first and last name" in form.errors["co_applicant_last_name"][0]
    submit(
        record,
        "co_applicant",
        {
            "co_applicant_first_name": "Dan",
            "co_applicant_last_name": "Client",
            "co_applicant_relationship": "Husband",
            "co_applicant_date_of_birth": "1950-02-03",
        },
        client_actor,
    )
    db.session.commit()
    co = db.session.scalar(select(Contact).where(Contact.role == ContactRole.CO_APPLICANT))
    assert (co.full_name, co.date_of_birth) == ("Dan Client", date(1950, 2, 3))
    assert db.session.scalar(select(ActivityEntry)).event_key == "portal.co_applicant.updated"
    submit(record, "co_applicant", {}, client_actor)
    db.session.commit()
    assert db.session.scalar(select(Contact)) is None


def test_preferring_texts_needs_a_mobile_number(record, client_actor):
    form, result = submit(record, "preferences", {"preferred_contact": "sms"}, client_actor)
    assert result is None
    assert "Add a mobile number" in form.errors["preferred_contact"][0]
    form, result = submit(
        record, "preferences", {"preferred_contact": "phone", "email_opt_in": "y"}, client_actor
    )
    db.session.commit()
    assert record.preferred_contact.value == "phone"
    assert db.session.scalar(select(ActivityEntry)).event_key == (
        "portal.contact_preferences.updated"
    )


def test_dates_of_birth_cannot_be_in_the_future(record, client_actor):
    set_mode("date_of_birth", FieldMode.OPTIONAL)
    form, result = submit(
        record,
        "personal",
        {"first_name": "Cora", "last_name": "Client", "date_of_birth": "2999-01-01"},
        client_actor,
    )
    assert result is None and "future" in form.errors["date_of_birth"][0]


CUSTOM_CASES = [
    # type, settings, bad value and its message, good value, stored, shown
    (
        "text",
        {"pattern": "[A-Z]{2}[0-9]{4}", "pattern_message": "Like AB1234."},
        "ab12",
        "Like AB1234.",
        "AB1234",
        "AB1234",
        "AB1234",
    ),
    (
        "long_text",
        {"max_length": 10},
        "x" * 11,
        "10 characters or fewer",
        "short note",
        "short note",
        "short note",
    ),
    ("number", {"min": "0", "max": "100"}, "150", "between 0 and 100", "42.5", "42.5", "42.5"),
    ("date", {"max": "today"}, "2999-01-01", "future", "2020-05-06", "2020-05-06", "6 May 2020"),
    ("yes_no", {}, None, None, "y", "true", "Yes"),
    ("choice", {"options": "Dog\nCat\nNone"}, "Horse", "Not a valid choice", "Cat", "Cat", "Cat"),
    ("email", {}, "nope", "valid email", "Pet@Example.com", "Pet@example.com", "Pet@example.com"),
    (
        "phone",
        {},
        "12",
        "wrong number of digits",
        "(202) 555-0188",
        "+12025550188",
        "(202) 555-0188",
    ),
]


@pytest.mark.parametrize("kind, settings, bad, message, good, stored, shown", CUSTOM_CASES)
def test_custom_field_of_each_type(
    record, client_actor, kind, settings, bad, message, good, stored, shown
):
    field = CustomField(
        key=f"my_{kind}",
        label=f"My {kind}",
        field_type=CustomFieldType(kind),
        settings=settings,
        required=False,
    )
    custom_fields.check_custom_field(field, is_new=True)
    db.session.add(field)
    db.session.flush()
    row = custom_fields.add_portal_row(field)
    assert row.mode == FieldMode.HIDDEN  # nothing shows until an admin decides
    row.mode = FieldMode.OPTIONAL
    db.session.commit()
    key = f"custom_my_{kind}"
    if bad is not None:
        form, result = submit(record, "additional", {key: bad}, client_actor)
        assert result is None
        assert message.lower() in " ".join(form.errors[key]).lower()
    form, result = submit(record, "additional", {key: good}, client_actor)
    db.session.commit()
    assert result is not None and result.saved
    [value] = custom_fields.values_of(record).values()
    [row_value] = db.session.scalars(select(custom_fields.CustomFieldValue.value)).all()
    assert row_value == stored
    assert custom_fields.display_values(record) == [(f"My {kind}", shown)]
    if kind == "number":
        assert value == Decimal("42.5")


def test_a_pattern_is_checked_as_forms_use_it(record):
    # Flags are allowed only at the very start of an expression: inside the anchors the
    # forms wrap it in, this one would break every form showing the field.
    field = CustomField(
        key="policy_ref",
        label="Policy reference",
        field_type=CustomFieldType.TEXT,
        settings={"pattern": "(?i)[a-z]{2}[0-9]{6}"},
    )
    with pytest.raises(ValidationError, match="not a valid regular expression"):
        custom_fields.check_custom_field(field, is_new=True)


@pytest.mark.parametrize("settings", [{}, {"min": "0", "max": "100"}])
@pytest.mark.parametrize("odd", ["NaN", "Infinity", "-inf", "sNaN"])
def test_a_number_field_refuses_what_is_not_a_number(record, client_actor, settings, odd):
    field = CustomField(
        key="pets", label="Pets", field_type=CustomFieldType.NUMBER, settings=settings
    )
    custom_fields.check_custom_field(field, is_new=True)
    db.session.add(field)
    db.session.flush()
    custom_fields.add_portal_row(field).mode = FieldMode.OPTIONAL
    db.session.commit()
    form, result = submit(record, "additional", {"custom_pets": odd}, client_actor)
    assert result is None and form.errors["custom_pets"] == ["Enter a number."]
    for huge, message in (("1e5000", "at most 15 digits"), ("1e-5000", "10 decimal places")):
        form, result = submit(record, "additional", {"custom_pets": huge}, client_actor)
        assert result is None and message in form.errors["custom_pets"][0]
    with pytest.raises(ValidationError, match="must be a number"):
        custom_fields.check_custom_field(
            CustomField(
                key="bad", label="Bad", field_type=CustomFieldType.NUMBER, settings={"min": odd}
            ),
            is_new=True,
        )


def test_custom_fields_with_values_are_archived_not_deleted(record):
    field = CustomField(
        key="pet_name", label="Pet name", field_type=CustomFieldType.TEXT, settings={}
    )
    db.session.add(field)
    db.session.flush()
    custom_fields.check_delete(field)  # no values yet: deletable
    custom_fields.set_values(record, {"custom_pet_name": "Rex"})
    db.session.flush()
    with pytest.raises(ValidationError, match="Tick Archived instead"):
        custom_fields.check_delete(field)
    field.archived = True
    db.session.flush()
    assert custom_fields.values_of(record) == {}
    assert all(
        f.key != "custom_pet_name" for section in field_values.layout().values() for f in section
    )


@pytest.mark.parametrize(
    "kind, settings, message",
    [
        ("choice", {"options": "Only one"}, "at least two options"),
        ("number", {"min": "10", "max": "1"}, "minimum is above the maximum"),
        ("text", {"pattern": "[unclosed"}, "not a valid regular expression"),
        ("date", {"min": "yesterday-ish"}, "YYYY-MM-DD"),
    ],
)
def test_custom_field_settings_are_checked(ctx, kind, settings, message):
    field = CustomField(
        key="x_field", label="X", field_type=CustomFieldType(kind), settings=settings
    )
    with pytest.raises(ValidationError, match=message):
        custom_fields.check_custom_field(field, is_new=True)


def test_custom_field_keys_are_checked(ctx):
    for key, message in (("Bad Key", "starts with a letter"), ("1abc", "starts with a letter")):
        field = CustomField(key=key, label="X", field_type=CustomFieldType.TEXT, settings={})
        with pytest.raises(ValidationError, match=message):
            custom_fields.check_custom_field(field, is_new=True)
