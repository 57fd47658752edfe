"""Home: the client's policies and products, the people on their record, and their ID cards
(one click to download)."""

from __future__ import annotations

from typing import Any

from flask import g, render_template

from app.services import client_documents, contacts, products
from portal.navigation import client_screen


@client_screen("/home")
def home() -> Any:
    record = g.portal_record
    account = g.get("portal_account")
    return render_template(
        "portal/home.html",
        record=record,
        products=products.visible_to_client(record),
        contacts=contacts.of_record(record),
        id_cards=client_documents.id_cards(account) if account else [],
    )
