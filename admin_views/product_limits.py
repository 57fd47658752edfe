"""A policy's limits, as a certificate of insurance prints them: rows of a coverage line's label
and its amount ("Each occurrence", 1,000,000). Reached from the product on the record's
Products tab; saving replaces all rows, through the limits service."""

from __future__ import annotations

import typing as t
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from flask import abort, flash, redirect, request, url_for
from flask_admin import expose
from flask_wtf import FlaskForm

from admin_views.certificate_tab import amount_text, policy_label
from app import transactions
from app.services.certificates import limits
from app.services.errors import ValidationError
from models import Product, db

#: Empty rows offered under the filled ones (more with *Add a row*).
EMPTY_ROWS = 3
#: Rows read from a post at most; the service refuses more than it keeps.
MAX_POSTED = 100


@dataclass
class Row:
    """One row as typed: kept as text so a refused form shows what was typed."""

    label: str = ""
    amount: str = ""
    error: str = ""


def parse_amount(text: str) -> Decimal | None:
    """ "1,000,000", "1000000", "$ 1 000 000.00" → 1000000; None when it is not a number."""
    cleaned = text.replace(",", "").replace(" ", "").replace("\u00a0", "").lstrip("$")
    if not cleaned:
        return None
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def _posted_rows() -> list[Row]:
    labels = request.form.getlist("label")[:MAX_POSTED]
    amounts = request.form.getlist("amount")[:MAX_POSTED]
    amounts = (amounts + [""] * len(labels))[: len(labels)]
    rows = [
        Row(label.strip(), amount.strip()) for label, amount in zip(labels, amounts, strict=True)
    ]
    return [row for row in rows if row.label or row.amount]


def _checked(rows: list[Row]) -> list[tuple[str, Decimal]] | None:
    """The rows as the service takes them, or None after marking the rows that are not."""
    parsed: list[tuple[str, Decimal]] = []
    for row in rows:
        amount = parse_amount(row.amount)
        if not row.label:
            row.error = "Give this amount a label."
        elif amount is None:
            row.error = "Type an amount, such as 1,000,000."
        else:
            parsed.append((row.label, amount))
    return None if any(row.error for row in rows) else parsed


class ProductLimitsRoutes:
    """One policy's limits page, on the Certificates view (no menu entry of its own: it is
    reached from the product)."""

    render: t.Callable[..., t.Any]

    @expose("/limits/<int:product_id>/", methods=("GET", "POST"))
    def policy_limits(self, product_id: int) -> t.Any:
        product = db.session.get(Product, product_id)
        if product is None:
            abort(404)
        form = FlaskForm()
        back = url_for("record.details_view", id=product.record_id) + "#products"
        top_error = None
        if request.method == "POST" and form.validate_on_submit():
            rows = _posted_rows()
            parsed = _checked(rows)
            if parsed is not None:
                try:
                    with transactions.attempt():
                        limits.save_limits(product, parsed)
                except ValidationError as exc:
                    top_error = exc.message
                else:
                    flash(f"Limits saved for {policy_label(product)}.", "success")
                    return redirect(url_for(".policy_limits", product_id=product.id))
        elif request.method == "POST":
            rows = _posted_rows()
            top_error = "The form expired: send it again."
        else:
            rows = [Row(limit.label, amount_text(limit.amount)) for limit in product.limits]
        return self.render(
            "admin/certificates/limits.html",
            product=product,
            record=product.record,
            form=form,
            rows=[*rows, *(Row() for _ in range(EMPTY_ROWS))],
            top_error=top_error,
            label=policy_label(product),
            back=back,
        )


__all__ = ["ProductLimitsRoutes", "parse_amount"]
