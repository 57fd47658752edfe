"""The coverage lines of a policy and their limits ("Each occurrence", 1,000,000), as a
certificate prints them."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal, InvalidOperation

from flask_babel import gettext as _

from app.services.errors import ValidationError
from app.services.validation import check_single_line, visible
from models import Product, ProductLimit, db

#: At most this many coverage lines per policy.
MAX_ROWS = 30
MAX_LABEL = 120
#: The largest amount the column holds (14 digits, 2 after the point).
MAX_AMOUNT = Decimal("999999999999.99")


def _label(text: object, row: int) -> str:
    label = " ".join(visible(str(text)).split()) if text is not None else ""
    try:
        check_single_line(str(text or ""))
    except ValidationError as error:
        raise ValidationError(f"{_('Line %(row)s', row=row)}: {error.message}", "limits") from None
    if not label:
        raise ValidationError(_("Line %(row)s: give the coverage line a label.", row=row), "limits")
    if len(label) > MAX_LABEL:
        raise ValidationError(
            _("Line %(row)s: keep the label under %(count)s characters.", row=row, count=MAX_LABEL),
            "limits",
        )
    return label


def _amount(value: object, row: int) -> Decimal:
    text = str(value if value is not None else "").strip().replace(",", "").lstrip("$")
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise ValidationError(
            _("Line %(row)s: the amount must be a number, such as 1,000,000.", row=row), "limits"
        ) from None
    if not amount.is_finite() or amount < 0:
        raise ValidationError(
            _("Line %(row)s: the amount must be zero or more.", row=row), "limits"
        )
    if amount > MAX_AMOUNT:
        raise ValidationError(_("Line %(row)s: the amount is too large.", row=row), "limits")
    return amount.quantize(Decimal("0.01"))


def save_limits(product: Product, rows: Sequence[tuple[object, object]]) -> list[ProductLimit]:
    """Replace the policy's coverage lines with ``rows`` of (label, amount), in that order.
    Labels are one line of at most :data:`MAX_LABEL` characters, amounts 0 or more (a
    string may carry thousands separators and a dollar sign); at most :data:`MAX_ROWS` rows.
    Fully blank rows (an empty form row) are skipped. The first bad row refuses them all."""
    kept = [
        (label, amount)
        for label, amount in rows
        if str(label or "").strip() or str(amount if amount is not None else "").strip()
    ]
    if len(kept) > MAX_ROWS:
        raise ValidationError(
            _("Keep to %(count)s coverage lines or fewer.", count=MAX_ROWS), "limits"
        )
    clean = [
        (_label(label, row), _amount(amount, row))
        for row, (label, amount) in enumerate(kept, start=1)
    ]
    product.limits = [
        ProductLimit(label=label, amount=amount, position=position)
        for position, (label, amount) in enumerate(clean)
    ]
    db.session.flush()
    return list(product.limits)
