"""Request types: the forms built from the fields admins define (every type, required fields,
choices, files), the policy choice, sending (readable lines, answers by field id, files as
documents), refusals that keep nothing, and the admins' checks."""

from __future__ import annotations

import io
from typing import Any

import pytest
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage, MultiDict

from app.services import request_types
from app.services.errors import NotFound, ValidationError
from models import (
    ActivityEntry,
    Conversation,
    Document,
    RecordKind,
    RequestField,
    RequestType,
    db,
)
from tests import factories
from tests.services.test_conversations import PDF, _client


def _type(key: str) -> RequestType:
    return db.session.scalar(select(RequestType).where(RequestType.key == key))


def _ids(key: str) -> dict[str, str]:
    return {f.label: request_types.field_name(f) for f in _type(key).fields}


_POSTED: list[Any] = []


@pytest.fixture(autouse=True)
def _close_posts() -> Any:
    """Each form's request stays open until the test ends (its files are read on submit)."""
    yield
    while _POSTED:
        _POSTED.pop().pop()


def _form(app: Any, account: Any, key: str, data: dict[str, Any]) -> Any:
    """The type's form as a page posts it (multipart, files as file parts)."""
    posted = MultiDict()
    for name, value in data.items():
        for item in value if isinstance(value, list) else [value]:
            posted.add(name, item)
    context = app.test_request_context("/", method="POST", data=posted)
    context.push()
    _POSTED.append(context)
    form = request_types.form_class(_type(key), account)(meta={"csrf": False})
    form.validate()
    return form


def _pdf(name: str = "licence.pdf", data: bytes = PDF) -> FileStorage:
    return FileStorage(io.BytesIO(data), filename=name, content_type="application/pdf")


def test_the_seeded_types_are_offered_in_order_with_their_fields(ctx):
    assert [t.key for t in request_types.offered()] == [
        "personal-change",
        "commercial-change",
        "general",
        "add-driver",
        "add-vehicle",
    ]
    driver = _type("add-driver")
    assert [(f.label, f.field_type, f.required) for f in driver.fields] == [
        ("Full name", "text", True),
        ("Date of birth", "date", True),
        ("Licence number", "text", False),
        ("Relationship to you", "choice", False),
    ]


def test_seeding_again_keeps_what_admins_changed(ctx):
    from seeds.request_types import ensure_request_types

    general = _type("general")
    general.name = "Ask us anything"
    general.fields[0].archived = True
    db.session.delete(_type("add-vehicle").fields[0])
    db.session.flush()
    assert ensure_request_types() == 0
    assert _type("general").name == "Ask us anything" and _type("general").fields[0].archived
    assert len(_type("add-vehicle").fields) == 3


def test_an_inactive_or_unknown_type_and_a_leads_account_are_not_found(ctx):
    _record, _agent, account = _client()
    _type("add-vehicle").active = False
    with pytest.raises(NotFound):
        request_types.get("add-vehicle")
    with pytest.raises(NotFound):
        request_types.get("no-such-type")
    assert "add-vehicle" not in [t.key for t in request_types.offered()]
    account.record.kind = RecordKind.LEAD
    with pytest.raises(NotFound):
        request_types.for_client(account, "general")


def test_required_fields_choices_and_dates_are_checked_by_the_form(app, ctx):
    _record, _agent, account = _client()
    f = _ids("add-driver")
    form = _form(app, account, "add-driver", {f["Relationship to you"]: "Cousin"})
    assert set(form.errors) == {f["Full name"], f["Date of birth"], f["Relationship to you"]}
    choices = [value for value, _label in form[f["Relationship to you"]].choices]
    assert choices == ["", "Spouse", "Child", "Other"]
    form = _form(
        app,
        account,
        "add-driver",
        {f["Full name"]: "Dan Driver", f["Date of birth"]: "2999-01-01"},
    )
    assert list(form.errors) == [f["Date of birth"]]
    form = _form(
        app,
        account,
        "add-driver",
        {f["Full name"]: "Dan\x00Driver", f["Date of birth"]: "2001-02-03"},
    )
    assert list(form.errors) == [f["Full name"]]


def test_a_driver_is_sent_with_readable_lines_and_answers_by_field(app, ctx):
    record, _agent, account = _client()
    f = _ids("add-driver")
    form = _form(
        app,
        account,
        "add-driver",
        {
            f["Full name"]: "Dan Driver",
            f["Date of birth"]: "2001-02-03",
            f["Relationship to you"]: "Child",
        },
    )
    assert form.errors == {}
    conversation = request_types.submit(account, "add-driver", form)
    driver = {field.label: str(field.id) for field in _type("add-driver").fields}
    assert conversation.answers == {
        driver["Full name"]: "Dan Driver",
        driver["Date of birth"]: "2001-02-03",
        driver["Relationship to you"]: "Child",
    }
    assert conversation.subject == "Add a driver" and conversation.product_id is None
    body = conversation.messages[0].body
    assert body.splitlines() == [
        "Full name: Dan Driver",
        "Date of birth: 3 February 2001",
        "Relationship to you: Child",
    ]
    [logged] = db.session.scalars(
        select(ActivityEntry).where(ActivityEntry.event_key == "portal.change_request.personal")
    )
    assert logged.record_id == record.id


def test_a_change_request_names_one_of_the_clients_own_policies(app, ctx):
    record, _agent, account = _client()
    mine = factories.product(record, carrier="Acme", plan_name="Auto Plus", client_access=True)
    hidden = factories.product(record, carrier="Hidden", client_access=False)
    other_record, _other_agent, _other = _client("olga@example.com")
    theirs = factories.product(other_record, carrier="Theirs", client_access=True)
    f = _ids("personal-change")
    what = f["What would you like to change?"]
    form = _form(app, account, "personal-change", {what: "New address."})
    assert "policy" in form.errors  # required when the client has policies
    assert [v for v, _l in form.policy.choices] == ["", str(mine.id)]
    for refused in (hidden, theirs):
        form = _form(app, account, "personal-change", {"policy": str(refused.id), what: "x"})
        assert "policy" in form.errors
    form = _form(
        app,
        account,
        "personal-change",
        {"policy": str(mine.id), what: "New address:\n1 Main St."},
    )
    assert form.errors == {}
    conversation = request_types.submit(account, "personal-change", form)
    assert conversation.product_id == mine.id
    assert conversation.messages[0].body.splitlines() == [
        "Policy: Acme Auto Plus",
        "What would you like to change?: New address:",
        "1 Main St.",
    ]


def test_files_are_kept_as_documents_and_named_in_the_answers(app, ctx):
    record, _agent, account = _client()
    f = _ids("general")
    form = _form(
        app,
        account,
        "general",
        {
            f["How can we help?"]: "Please see the letter.",
            f["Files"]: [_pdf("a.pdf"), _pdf("b.pdf")],
        },
    )
    assert form.errors == {}
    conversation = request_types.submit(account, "general", form)
    db.session.flush()
    kept = list(db.session.scalars(select(Document).where(Document.record_id == record.id)))
    assert sorted(d.filename for d in kept) == ["a.pdf", "b.pdf"]
    files_id = str(next(x.id for x in _type("general").fields if x.label == "Files"))
    assert sorted(conversation.answers[files_id]) == sorted(d.id for d in kept)
    assert "Files: a.pdf, b.pdf" in conversation.messages[0].body


def test_a_refused_file_keeps_nothing_and_names_its_field(app, ctx):
    _record, _agent, account = _client()
    f = _ids("general")
    form = _form(
        app,
        account,
        "general",
        {
            f["How can we help?"]: "Here.",
            f["Files"]: [_pdf("fine.pdf"), _pdf("evil.pdf", b"MZ\x90\x00 not a pdf")],
        },
    )
    with pytest.raises(ValidationError) as refused:
        request_types.submit(account, "general", form)
    assert refused.value.field == f["Files"] and "evil.pdf" in refused.value.message
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Conversation)) == 0
    assert db.session.scalar(select(func.count()).select_from(Document)) == 0


def test_a_required_file_field(app, ctx):
    _record, _agent, account = _client()
    general = _type("general")
    files = next(x for x in general.fields if x.field_type == "file")
    files.required = True
    db.session.flush()
    f = _ids("general")
    form = _form(app, account, "general", {f["How can we help?"]: "Here."})
    assert form.errors == {f["Files"]: ["Choose at least one file."]}
    schema = request_types.value_schema(files)
    assert schema["type"] == "array" and schema["minItems"] == 1


def test_email_and_phone_fields_work_without_a_record_of_their_own(app, ctx):
    _record, _agent, account = _client()
    general = _type("general")
    email = RequestField(request_type=general, label="Email", field_type="email", position=5)
    phone = RequestField(request_type=general, label="Phone", field_type="phone", position=6)
    db.session.add_all([email, phone])
    db.session.flush()
    f = _ids("general")
    form = _form(
        app,
        account,
        "general",
        {f["How can we help?"]: "Call me.", f["Email"]: "nope", f["Phone"]: "12"},
    )
    assert set(form.errors) == {f["Email"], f["Phone"]}
    form = _form(
        app,
        account,
        "general",
        {
            f["How can we help?"]: "Call me.",
            f["Email"]: "me@example.com",
            f["Phone"]: "202 555 0143",
        },
    )
    assert form.errors == {}
    conversation = request_types.submit(account, "general", form)
    assert conversation.answers[str(phone.id)] == "+12025550143"
    assert "Phone: (202) 555-0143" in conversation.messages[0].body


def test_admins_checks_for_types_and_fields(ctx):
    with pytest.raises(ValidationError) as refused:
        request_types.check_type(RequestType(key="Add Boat", name="Add a boat"))
    assert refused.value.field == "key"
    with pytest.raises(ValidationError) as refused:
        request_types.check_type(RequestType(key="general", name="Another general"))
    assert refused.value.field == "key"
    with pytest.raises(ValidationError):
        request_types.check_type(RequestType(key="add-boat", name="  "))
    boat = RequestType(key=" add-boat ", name=" Add  a boat ")
    request_types.check_type(boat)
    assert (boat.key, boat.name) == ("add-boat", "Add a boat")

    field = RequestField(label=" Hull  type ", field_type="choice")
    with pytest.raises(ValidationError) as refused:
        request_types.check_field(field, {"options": "Sail"})
    assert refused.value.field == "options"
    request_types.check_field(field, {"options": "Sail\nMotor\n"})
    assert (field.label, field.settings) == ("Hull type", {"options": ["Sail", "Motor"]})
    with pytest.raises(ValidationError):
        request_types.check_field(RequestField(label="x", field_type="state"), {})
    attachment = RequestField(label="Photos", field_type="file")
    request_types.check_field(attachment, {"options": "ignored"})
    assert attachment.settings == {}


def test_a_type_with_requests_is_not_deleted(app, ctx):
    _record, _agent, account = _client()
    f = _ids("general")
    form = _form(app, account, "general", {f["How can we help?"]: "Hello."})
    request_types.submit(account, "general", form)
    with pytest.raises(ValidationError) as refused:
        request_types.before_delete(_type("general"))
    assert "1 request " in refused.value.message and "Switch it off" in refused.value.message


def test_nothing_filled_in_is_refused(app, ctx):
    _record, _agent, account = _client()
    vehicle = _type("add-vehicle")
    for field in vehicle.fields:
        field.required = False
    db.session.flush()
    form = _form(app, account, "add-vehicle", {})
    assert form.errors == {}
    with pytest.raises(ValidationError):
        request_types.submit(account, "add-vehicle", form)
