"""Home: the client's policies and products, the people on their record, their ID cards (one
click to download), and the surveys the office asks."""

from __future__ import annotations

from typing import Any

from flask import g, render_template

from app.services import client_documents, contacts, products, surveys
from app.services.signing import access
from models import RecordKind
from portal.navigation import client_screen
from portal.page_cache import cached_page, keep_until
from portal.signing import listing


@client_screen("/home")
@cached_page
def home() -> Any:
    record = g.portal_record
    account = g.get("portal_account")
    # Read before the menu, whose badge then counts them; one that expires ends this page.
    for signer in listing.incoming():
        if access.can_sign(signer):
            keep_until(signer.request.expires_at)
    return render_template(
        "portal/home.html",
        record=record,
        products=products.visible_to_client(record),
        contacts=contacts.of_record(record),
        id_cards=client_documents.id_cards(account) if account else [],
        surveys=surveys.offered() if record.kind == RecordKind.CLIENT else [],
    )
