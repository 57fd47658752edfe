"""What a visitor, or whoever types someone else's email, must not get from a journey: a
header directive of their own through the embedding sites, the matched record's name (on the
signing page or in the PDF emailed to them), or an inbox flooded with PINs."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.services.errors import ValidationError
from app.services.journeys import completion, definitions, uploads, visitors
from models import Document, Journey, OutboxMessage, db, utcnow
from tests import factories
from tests.services.test_journey_definitions import journey
from tests.services.test_journey_visitors import (
    EMAIL,
    IP,
    UA,
    png_upload,
    routes,
    start,
    verified,
)

__all__ = ["routes"]  # the fixture, used by name


@pytest.mark.parametrize(
    "typed",
    [
        "https://shop.example.com;sandbox",
        "https://shop.example.com;script-src",
        "https://shop.example.com'",
        'https://shop.example.com"',
        "https://shop.example.com%3bsandbox",
        "https://\uff53hop.example.com",  # a fullwidth s: not a latin-1 header value
    ],
)
def test_an_embedding_site_that_would_end_the_directive_is_refused(ctx, typed):
    with pytest.raises(ValidationError) as refused:
        definitions.parse_origins(typed)
    assert refused.value.field == "embed_origins"


def test_a_stored_site_that_would_end_the_directive_never_reaches_the_header(ctx):
    item = journey(("review",), embed_origins="https://shop.example.com")
    # A row written another way than the admin form (an import, a console).
    item.embed_origins = "https://shop.example.com\nhttps://evil.example;sandbox"
    db.session.commit()
    assert definitions.origins(db.session.get(Journey, item.id)) == ["https://shop.example.com"]


def test_ordinary_sites_still_embed(ctx):
    assert definitions.parse_origins(
        "https://Shop.Example.com:8443/ http://localhost:5000, https://xn--bcher-kva.example"
    ) == ["https://shop.example.com:8443", "http://localhost:5000", "https://xn--bcher-kva.example"]


def test_the_visitor_signs_as_themselves_never_as_the_records_name(routes):
    factories.record(first_name="Private", last_name="Holder", email=EMAIL, company_name="Acme")
    session = verified(journey(("sign", "review")), name="Vera Visitor")
    signer = visitors.sign_request_for(session, 0, ip=IP)
    db.session.commit()
    assert session.record.last_name == "Holder"
    assert signer.name == "Vera Visitor"


def test_the_completion_pdf_names_no_record(routes):
    factories.record(first_name="Private", last_name="Holder", email=EMAIL, company_name="Acme")
    session = verified(journey(("review",)), name="Vera Visitor")
    said = completion.record_of(session, utcnow())
    assert said.record is None  # not even its number: an old one says the email was known
    assert "Holder" not in repr(said) and "Acme" not in repr(said)


def test_one_address_gets_a_few_pins_an_hour_whoever_asks(ctx):
    item = journey(("review",))
    for _ in range(5):
        session = start(item)
        visitors.send_pin(session, IP)  # a "send a new PIN" too
        db.session.commit()
    with pytest.raises(ValidationError):
        visitors.start(item, name="Vera Visitor", email=EMAIL, ip="198.51.100.7", user_agent=UA)
    db.session.rollback()
    sent = db.session.scalar(
        select(func.count())
        .select_from(OutboxMessage)
        .where(OutboxMessage.recipient == EMAIL, OutboxMessage.template_key == "journey.pin")
    )
    assert sent == 10
    # Another address is not held up.
    assert start(item, email="someone.else@example.com").public_id


def test_a_session_sends_a_few_files_per_slot_replacements_included(ctx):
    session = verified(journey(("upload", "review")))  # two slots
    required = session.definition["steps"][0]["fields"][0]["id"]
    taken, refusals = 0, []
    for number in range(30):  # the same slot again and again: each file stays on the record
        try:
            visitors.add_uploads(session, 0, {required: png_upload(f"licence-{number}.png")}, IP)
        except ValidationError as refused:
            refusals.append(refused.field)
            db.session.rollback()
        else:
            db.session.commit()
            taken += 1
    assert taken == 10, taken  # five a slot
    assert uploads.FILES_PER_SLOT == 5
    assert refusals == [f"slot{required}"] * 20
    kept = db.session.scalar(
        select(func.count()).select_from(Document).where(Document.record_id == session.record_id)
    )
    assert kept == taken


def test_the_pin_email_carries_no_text_the_typist_chose(ctx):
    bait = "Your policy lapsed, pay at https://pay.example.net today"
    start(journey(("review",)), name=bait)
    message = db.session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.recipient == EMAIL, OutboxMessage.template_key == "journey.pin")
        .order_by(OutboxMessage.id.desc())
    ).first()
    assert message is not None
    assert "pay.example.net" not in f"{message.subject} {message.body_text} {message.body_html}"
    assert not message.recipient_name
