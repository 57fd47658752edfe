"""Certificates of insurance, the client's side: the certificate masters the office shared
(their policies, insurers, dates and limits), *Add certificate holder* (Yes: a certificate at
once; No: a request to the agent, with the reason), *Your certificates* with their downloads,
and *Request new certificate*. The pages (``pages``) and the JSON routes (``api``) share what
is here and the forms (``forms``).

Who sees what is the services' one rule (:mod:`app.services.certificates.client_certificates`):
a master or a certificate that is not the client's answers 404, never 403; a lead sees none.
The module is the office's to switch on: off, every page and JSON route is gone (404).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

from flask import abort, g
from flask_babel import format_date, format_decimal

from app.extensions import limiter
from models import PortalAccount, Product, RecordKind
from portal.limits import account_key, per_account_reads, taken_only

#: The portal module (``module_certificates`` in portal settings).
MODULE = "certificates"

#: Holders a client adds, per signed-in account, one count for the page and the API: each may
#: issue a certificate or write to the agent; a busy day's worth, not a script's flood. Only
#: holders taken count (a certificate issued, a request sent): a form sent back does not.
HOLDER_LIMIT = "30 per hour;100 per day"
#: *Request new certificate* per signed-in account (each writes to the agent), counted alike.
REQUEST_LIMIT = "10 per hour;30 per day"


def _holder_taken(response: Any) -> bool:
    # 201 a certificate issued, 202 a request made (API); 302 either (the page).
    return response.status_code in (201, 202, 302)


def holders_per_account() -> Any:
    """:data:`HOLDER_LIMIT` per signed-in account, one count for the page and the API."""
    return limiter.shared_limit(
        lambda: HOLDER_LIMIT,
        scope="portal-certificate-holder-account",
        key_func=account_key,
        methods=["POST"],
        deduct_when=_holder_taken,
    )


def requests_per_account() -> Any:
    """:data:`REQUEST_LIMIT` per signed-in account, one count for the page and the API."""
    return taken_only(lambda: REQUEST_LIMIT, "portal-certificate-request-account")


def downloads_per_account() -> Any:
    """Every download is logged (and may tell the office): the portal's read limit."""
    return per_account_reads("certificates")


def account_or_404() -> PortalAccount:
    """The signed-in client's account; a lead's portal and staff's preview without an
    account have no certificates."""
    account: PortalAccount | None = g.get("portal_account")
    if account is None or account.record.kind != RecordKind.CLIENT:
        abort(404)
    return account


# -- how a master and a certificate are described ----------------------------------------------


def day(value: date | None) -> str:
    return format_date(value) if value else ""


def amount(value: Decimal) -> str:
    """A limit as the client reads it: "1,000,000" (cents only when there are some)."""
    whole = value == value.to_integral_value()
    return format_decimal(value, format="#,##0" if whole else "#,##0.00")


def coverage(product: Product) -> str:
    """What kind of insurance a policy is ("Commercial general liability")."""
    return product.plan_name or str(product.coverage_type)


def policy_json(product: Product) -> dict[str, Any]:
    return {
        "id": product.id,
        "insurer": product.carrier,
        "coverage": coverage(product),
        "policy_number": product.policy_number,
        "effective_date": product.effective_date.isoformat() if product.effective_date else None,
        "expiry_date": product.end_date.isoformat() if product.end_date else None,
        "limits": [{"label": line.label, "amount": float(line.amount)} for line in product.limits],
    }


#: Helpers the templates use.
TEMPLATE_HELPERS: dict[str, Callable[..., Any]] = {
    "cert_day": day,
    "cert_amount": amount,
    "cert_coverage": coverage,
}


# Importing the pages and JSON routes registers them.
from portal.certificates import api, pages  # noqa: E402,F401
