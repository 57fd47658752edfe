"""Field places checked before they are kept (a field off the page, on a missing page, of an
unknown kind, for no signer), saved layouts, and the versioned disclosure."""

from __future__ import annotations

import json
import math

import pytest
from sqlalchemy import select

from app.services.actors import Actor
from app.services.errors import ValidationError
from app.services.signing import disclosures, layouts, saved_layouts
from app.services.signing import requests as sign_requests
from app.storage import storage
from models import Disclosure, SignFieldKind, db
from tests import factories, sign_factories
from tests.services.test_documents import stored_files

PAGES = [[595.28, 841.89], [595.28, 841.89]]


def field(**values):
    data = {
        "page": 0,
        "x": 0.1,
        "y": 0.1,
        "width": 0.3,
        "height": 0.05,
        "kind": "signature",
        "signer": 0,
    }
    data.update(values)
    return data


def parse(*fields, signers: int = 1):
    return layouts.parse_fields(list(fields), pages=PAGES, signer_count=signers)


@pytest.fixture
def actor(ctx):
    sign_factories.link_route()
    return Actor.staff(factories.staff(role="admin"))


# -- field places -------------------------------------------------------------------------------


def test_fields_are_read_from_a_list_or_json():
    [spec] = parse(field(kind="initials", page=1, required=False, label="  Initial   here "))
    assert spec == layouts.FieldSpec(
        page=1,
        x=0.1,
        y=0.1,
        width=0.3,
        height=0.05,
        kind=SignFieldKind.INITIALS,
        signer=0,
        required=False,
        label="Initial here",
    )
    as_json = layouts.parse_fields(json.dumps([field()]), pages=PAGES, signer_count=1)
    assert as_json[0].kind == SignFieldKind.SIGNATURE and as_json[0].required


@pytest.mark.parametrize(
    ("values", "says"),
    [
        ({"x": 0.8, "width": 0.3, "page": 1}, "A field on page 2 lies off the page."),
        ({"y": -0.01}, "A field on page 1 lies off the page."),
        ({"y": 0.98, "height": 0.05}, "lies off the page"),
        ({"page": 2}, "page 3, which the document lacks"),
        ({"page": -1}, "page 0, which the document lacks"),
        ({"kind": "stamp"}, "unknown kind"),
        ({"signer": 1}, "has no signer"),
        ({"signer": -1}, "has no signer"),
        ({"width": 0}, "has no size"),
        ({"x": math.nan}, "not a number"),
        ({"x": math.inf}, "not a number"),
        ({"x": "1e999"}, "not a number"),
        ({"x": True}, "not a number"),
        ({"page": 0.5}, "not a whole number"),
    ],
)
def test_a_wrong_field_is_refused_with_a_sentence(values, says):
    with pytest.raises(ValidationError, match=says) as error:
        parse(field(**values))
    assert error.value.field == "fields"


def test_the_number_of_fields_and_their_shape_are_limited():
    with pytest.raises(ValidationError, match="at most 200 fields"):
        parse(*[field() for _ in range(201)])
    assert len(parse(*[field() for _ in range(200)])) == 200
    for raw in ("not json", "{}", json.dumps({"page": 0}), json.dumps(["a"])):
        with pytest.raises(ValidationError, match="could not be read"):
            layouts.parse_fields(raw, pages=PAGES, signer_count=1)


def test_each_signer_needs_a_signature_field():
    fields = parse(field(), field(kind="date_signed", signer=1), signers=2)
    with pytest.raises(ValidationError, match="Signer 2 has no signature field"):
        layouts.check_each_signer_signs(fields, 2)
    layouts.check_each_signer_signs(parse(field(), field(signer=1), signers=2), 2)


def test_placing_fields_replaces_the_drafts_fields(actor):
    record = factories.record()
    request = sign_factories.sign_request(record, actor=actor, send=False)
    assert len(request.fields) == 2
    placed = sign_requests.place_fields(request, [field(page=1, kind="checkbox", label="Agree")])
    db.session.commit()
    assert [(f.kind, f.page, f.label) for f in request.fields] == [
        (SignFieldKind.CHECKBOX, 1, "Agree")
    ]
    assert placed[0].signer is request.signers[0]
    with pytest.raises(ValidationError, match="lies off the page"):
        sign_requests.place_fields(request, [field(x=0.9)])


# -- saved layouts ------------------------------------------------------------------------------


def test_a_layout_keeps_its_own_copy_of_the_pdf(app, actor):
    record = factories.record()
    co = sign_factories.co_applicant(record)
    request = sign_factories.sign_request(record, signers=[None, co], actor=actor, send=False)
    template = saved_layouts.save_from_request(request, " Broker of record letter ", actor=actor)
    db.session.commit()
    assert template.name == "Broker of record letter" and template.title == request.title
    assert template.signer_roles == ["primary", "co_applicant"]
    assert template.storage_key != request.document.storage_key
    assert template.sha256 == request.original_sha256 and template.pages == request.pages
    assert sorted((f["kind"], f["signer"]) for f in template.fields) == [
        ("date_signed", 0),
        ("date_signed", 1),
        ("signature", 0),
        ("signature", 1),
    ]
    with storage().open(template.storage_key) as stream:
        assert stream.read() == sign_requests.pdf_files.original_bytes(request)
    with pytest.raises(ValidationError, match="called Broker of record letter already"):
        saved_layouts.save_from_request(request, "Broker of record letter", actor=actor)
    with pytest.raises(ValidationError, match="Name the saved layout"):
        saved_layouts.save_from_request(request, "  ", actor=actor)


def test_contact_persons_cannot_be_in_a_layout(actor):
    record = factories.record()
    person = sign_factories.contact_person(record)
    request = sign_factories.sign_request(record, signers=[None, person], actor=actor, send=False)
    with pytest.raises(
        ValidationError, match=r"Saved layouts are for the primary applicant and co-applicant\."
    ):
        sign_requests.send(request, actor=actor, save_as_template="With a contact")
    assert request.status.value == "draft"


def test_a_layout_is_renamed_and_deleted_with_its_file(app, actor):
    record = factories.record()
    request = sign_factories.sign_request(record, actor=actor, send=False)
    first = saved_layouts.save_from_request(request, "First", actor=actor)
    second = saved_layouts.save_from_request(request, "Second", actor=actor)
    db.session.commit()
    saved_layouts.rename(first, "Annual disclosure")
    saved_layouts.rename(first, "Annual disclosure")  # its own name again is fine
    with pytest.raises(ValidationError, match="already"):
        saved_layouts.rename(second, "Annual disclosure")
    db.session.commit()
    key = f"{second.storage_key[:2]}/{second.storage_key}"
    assert key in stored_files(app)
    saved_layouts.delete(second)
    db.session.commit()
    assert key not in stored_files(app)
    assert [t.name for t in saved_layouts.all_layouts()] == ["Annual disclosure"]


# -- the disclosure -----------------------------------------------------------------------------


def test_the_first_version_is_made_when_first_needed(ctx):
    assert db.session.scalar(select(Disclosure)) is None
    first = disclosures.current()
    assert first.version == 1 and "electronic" in first.text.lower()
    assert disclosures.current() is first


def test_publishing_makes_a_new_version_and_keeps_the_old(actor):
    first = disclosures.current()
    second = disclosures.publish("Our new disclosure.\r\n\r\nRead it.", actor=actor)
    db.session.commit()
    assert (second.version, second.text) == (2, "Our new disclosure.\n\nRead it.")
    assert second.created_by_id == actor.user_id
    assert disclosures.current() == second
    assert [d.version for d in disclosures.history()] == [2, 1]
    assert first.text == disclosures.DEFAULT_TEXT
    with pytest.raises(ValidationError, match="same as the current version"):
        disclosures.publish("  Our new disclosure.\n\nRead it.  ", actor=actor)
    with pytest.raises(ValidationError, match="Write the disclosure"):
        disclosures.publish("   ", actor=actor)
