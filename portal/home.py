"""Home: the client's policies and products, and the people on their record."""

from __future__ import annotations

from typing import Any

from flask import g, render_template

from app.services import contacts, products
from portal.navigation import client_screen


@client_screen("/home")
def home() -> Any:
    record = g.portal_record
    return render_template(
        "portal/home.html",
        record=record,
        products=products.visible_to_client(record),
        contacts=contacts.of_record(record),
    )
