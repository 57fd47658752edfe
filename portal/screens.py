"""Client screens. Each is registered on the portal and on the staff preview, so staff see
exactly what the client sees. Screens read ``g.portal_record`` and ``g.portal_account``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any

from flask import g, redirect, render_template, url_for
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from models import Contact, Product, db
from portal import bp, preview_bp


@dataclass(frozen=True)
class Section:
    """An entry of the portal's navigation; later features append theirs."""

    endpoint: str
    label: str


#: The portal's navigation, in order.
SECTIONS: list[Section] = [Section("home", "Home")]


def client_screen(rule: str, **options: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register a screen on the portal (signed-in clients) and on the preview (staff)."""

    def register(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            if g.get("portal_record") is None:
                return redirect(url_for("portal.signin"))
            return view(*args, **kwargs)

        bp.add_url_rule(rule, view.__name__, guarded, **options)
        preview_bp.add_url_rule(rule, view.__name__, guarded, **options)
        return guarded

    return register


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
    return render_template(
        "portal/home.html",
        record=record,
        products=products,
        contacts=contacts,
        sections=SECTIONS,
    )
