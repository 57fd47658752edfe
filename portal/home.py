"""Home: the client's policies and products, and the people on their record."""

from __future__ import annotations

from typing import Any

from flask import g, render_template
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from models import Contact, Product, db
from portal.navigation import client_screen


@client_screen("/home")
def home() -> Any:
    record = g.portal_record
    products = db.session.scalars(
        select(Product)
        .where(Product.record_id == record.id, Product.client_access.is_(True))
        .options(joinedload(Product.coverage_type))
        .order_by(Product.effective_date.desc().nulls_last(), Product.id)
    ).all()
    contacts = db.session.scalars(
        select(Contact).where(Contact.record_id == record.id).order_by(Contact.role, Contact.id)
    ).all()
    return render_template("portal/home.html", record=record, products=products, contacts=contacts)
