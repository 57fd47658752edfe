"""The record page's Certificates tab: the record's certificate masters, each with its policies
and their limits, whether the client may use it (*Client Center*) or why not, and the holders
added so far with their certificates or requests. What the tab shows is read here; every
change is made by the certificate masters' service, through admin_views.certificate."""

from __future__ import annotations

import typing as t
from collections import defaultdict
from dataclasses import dataclass

from flask import g, url_for
from sqlalchemy import select
from sqlalchemy.orm.attributes import set_committed_value

from admin_views.base import local_datetime
from app.services import documents, portal_settings
from app.services.certificates import masters
from models import Certificate, CertificateMaster, Product, Record, RecordKind, User, db

#: The record page's tab, as the address names it.
TAB = "#certificates"
UNDERSTOOD = (
    "I understand that the client will be able to issue certificates of insurance for these "
    "policies themselves"
)
LEAD_NOTE = "Certificates of insurance are for clients: convert this lead to a client first."
MODULE_OFF = (
    "The portal's Certificates module is off (Settings, Portal): clients cannot see or use "
    "certificates until an admin switches it on."
)


def certificates_tab(record_id: int) -> str:
    return url_for("record.details_view", id=record_id) + TAB


@dataclass(frozen=True)
class MasterRow:
    """A master as the tab shows it: can it be shared today, and if not, why."""

    master: CertificateMaster
    shareable: bool
    reason: str


def _listed(record: Record) -> list[CertificateMaster]:
    """The record's masters, read once per request (the tab and its badge share them)."""
    cache: dict[int, list[CertificateMaster]] = g.setdefault("record_certificate_masters", {})
    listed = cache.get(record.id)
    if listed is None:
        # Read for a lead too (none, unless it was a client once): the page costs the same.
        listed = list(masters.for_record(record))
        _load_the_rest(listed)
        cache[record.id] = listed
    return listed


def _load_the_rest(listed: list[CertificateMaster]) -> None:
    """What the tab shows besides what the service loads (each holder's certificates, the
    staff who shared or added), in two queries however many masters and holders there are."""
    holders = [holder for master in listed for holder in master.holders]
    if holders:
        issued: dict[int, list[Certificate]] = defaultdict(list)
        for certificate in db.session.scalars(
            select(Certificate)
            .where(Certificate.holder_id.in_([holder.id for holder in holders]))
            .order_by(Certificate.id)
        ):
            issued[certificate.holder_id].append(certificate)
        for holder in holders:
            set_committed_value(holder, "certificates", issued[holder.id])
    user_ids = {master.shared_by_id for master in listed} | {
        holder.added_by_user_id for holder in holders
    }
    user_ids.discard(None)
    if user_ids:  # in the session's identity map: the relationships read them from there
        db.session.scalars(select(User).where(User.id.in_(user_ids))).all()


def count_of(record: Record) -> int | None:
    """The tab's badge: the record's masters (none for a lead)."""
    if record.kind != RecordKind.CLIENT:
        return None
    return len(_listed(record))


def policy_label(product: Product) -> str:
    """ "Acme Insurance · GL-1234 · Active · 2026-01-01 to 2026-12-31"."""
    dates = ""
    if product.effective_date or product.end_date:
        start = product.effective_date.isoformat() if product.effective_date else "…"
        end = product.end_date.isoformat() if product.end_date else "…"
        dates = f"{start} to {end}"
    parts = [product.carrier, product.plan_name, product.policy_number, product.status.label]
    return " · ".join(p for p in (*parts, dates) if p)


def amount_text(amount: t.Any) -> str:
    return f"{amount:,.0f}" if amount == int(amount) else f"{amount:,.2f}"


def tab_context(record: Record) -> dict[str, t.Any]:
    """What the tab's template reads, as ``certificates_tab``."""
    is_client = record.kind == RecordKind.CLIENT
    today = documents.office_today()
    rows = []
    for master in _listed(record):
        ok, reason = masters.shareable(master, today)
        rows.append(MasterRow(master, ok, "" if ok else reason))
    return {
        "is_client": is_client,
        "lead_note": LEAD_NOTE,
        # Sharing while the module is off told the client "ready in the portal" for a 404.
        "module_off": MODULE_OFF if not portal_settings.module_enabled("certificates") else "",
        "rows": rows,
        "understood": UNDERSTOOD,
        "new_url": url_for("certificates.new_master", record_id=record.id) if is_client else "",
        "local_datetime": local_datetime,
        "amount_text": amount_text,
    }


__all__ = [
    "MODULE_OFF",
    "TAB",
    "UNDERSTOOD",
    "certificates_tab",
    "count_of",
    "policy_label",
    "tab_context",
]
