"""Small factory functions for signing tests, built on the services as staff would use them.
Each commits, as a request would. Call them inside an app context.

    record = factories.record()
    request = sign_factories.sign_request(record)              # sent to the primary applicant
    co = sign_factories.co_applicant(record)
    request = sign_factories.sign_request(record, signers=[None, co.id], in_order=True)
"""

from __future__ import annotations

import io
import itertools
from datetime import UTC, datetime, timedelta

from flask import current_app
from fpdf import FPDF
from werkzeug.routing import Rule

from app.services import documents
from app.services.actors import Actor
from app.services.signing import requests as sign_requests
from models import Contact, ContactRole, Record, SignRequest, db
from tests import factories

_counter = itertools.count(1)


def pdf_bytes(pages: int = 2, *, text: str = "Broker of record letter") -> bytes:
    """A real PDF of ``pages`` A4 pages, each saying which page it is (the same bytes for the
    same arguments)."""
    document = FPDF(format="A4", unit="mm")
    document.set_creation_date(datetime(2026, 1, 1, tzinfo=UTC))  # the same bytes every time
    document.set_font("Helvetica", size=14)
    for number in range(1, pages + 1):
        document.add_page()
        document.cell(0, 10, f"{text}, page {number} of {pages}")
    return bytes(document.output())


def upload(data: bytes | None = None, name: str = "letter.pdf") -> documents.Upload:
    return documents.Upload(io.BytesIO(pdf_bytes() if data is None else data), name)


def co_applicant(
    record: Record, email: str | None = "cody.co@example.com", **values: str
) -> Contact:
    contact = Contact(
        record_id=record.id,
        role=ContactRole.CO_APPLICANT,
        first_name=values.get("first_name", "Cody"),
        last_name=values.get("last_name", "Coapplicant"),
        email=email,
    )
    db.session.add(contact)
    return factories.saved(contact)


def contact_person(record: Record, email: str | None = None, **values: str) -> Contact:
    n = next(_counter)
    contact = Contact(
        record_id=record.id,
        role=ContactRole.CONTACT_PERSON,
        first_name=values.get("first_name", "Connie"),
        last_name=values.get("last_name", f"Contact{n}"),
        email=email if email is not None else f"connie{n}@example.com",
    )
    db.session.add(contact)
    return factories.saved(contact)


def link_route() -> None:
    """Until the portal's signing pages exist, a rule for ``portal.sign_link`` so emails can
    be built (a rule without a view: building works, opening it is a 404)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if "portal.sign_link" not in {rule.endpoint for rule in app.url_map.iter_rules()}:
        app.url_map.add(Rule("/portal/sign/link/<token>", endpoint="portal.sign_link"))


def _choice(
    signer: int | Contact | sign_requests.SignerChoice | None,
) -> sign_requests.SignerChoice:
    if isinstance(signer, sign_requests.SignerChoice):
        return signer
    if isinstance(signer, Contact):
        return sign_requests.SignerChoice(signer.id)
    return sign_requests.SignerChoice(signer)


def sign_request(
    record: Record,
    *,
    signers: list[int | Contact | sign_requests.SignerChoice | None] | None = None,
    in_order: bool = True,
    send: bool = True,
    actor: Actor | None = None,
    pages: int = 2,
    title: str = "Broker of record letter",
    expires_in_days: int = 14,
    remind_every_days: int | None = None,
) -> SignRequest:
    """A request on ``record`` from an uploaded PDF: ``signers`` are contacts or their ids
    (None: the primary applicant; default: the primary applicant alone), one signature and one
    date-signed field each on the last page, then sent (unless ``send`` is False)."""
    link_route()
    actor = actor or Actor.staff(factories.staff())
    chosen = [_choice(c) for c in (signers if signers is not None else [None])]
    request = sign_requests.start(
        record,
        actor=actor,
        title=title,
        message="Please sign where marked.",
        signers=chosen,
        in_order=in_order,
        expires_on=documents.office_today() + timedelta(days=expires_in_days),
        remind_every_days=remind_every_days,
        upload=upload(pdf_bytes(pages)),
    )
    fields = []
    for index in range(len(chosen)):
        top = 0.55 + index * 0.12
        fields += [
            {
                "page": pages - 1,
                "x": 0.1,
                "y": top,
                "width": 0.4,
                "height": 0.06,
                "kind": "signature",
                "signer": index,
            },
            {
                "page": pages - 1,
                "x": 0.6,
                "y": top,
                "width": 0.25,
                "height": 0.04,
                "kind": "date_signed",
                "signer": index,
            },
        ]
    sign_requests.place_fields(request, fields)
    if send:
        sign_requests.send(request, actor=actor)
    return factories.saved(request)
