"""The record page's Documents tab: what it shows of each document (receipts, sizes, expiry),
shared by the tab, the rows an upload answers with, and the documents list."""

from __future__ import annotations

import typing as t
from datetime import date, datetime

from flask import g, render_template, request, url_for
from sqlalchemy import func, select

from admin_views.base import int_ids, local_datetime, office_zone
from app.services import document_sharing, documents
from models import Document, Product, Record, RecordKind, db

#: One row of the tab's table, also rendered on its own for the rows an upload adds without
#: reloading the page.
ROW_TEMPLATE = "admin/documents/row.html"


def receipt_time(value: datetime | None) -> str:
    """ "3 Dec 10:12" on the office's clock (the year too when it is not this year's)."""
    if value is None:
        return ""
    local = value.astimezone(office_zone()) if value.tzinfo else value
    shown = f"{local.day} {local:%b %H:%M}"
    if local.year != datetime.now(office_zone()).year:
        shown = f"{local.day} {local:%b %Y %H:%M}"
    return shown


def human_size(size: int | None) -> str:
    if size is None:
        return ""
    if size < 1024:
        return f"{size} bytes"
    if size < 1 << 20:
        return f"{size / 1024:.0f} KB"
    return f"{size / (1 << 20):.1f} MB"


def count_of(record: Record) -> int:
    """The tab's badge: how many documents the record has (the tab's own list when this
    request has read it, so the page does not count them twice)."""
    listed = g.get("record_documents", {}).get(record.id)
    if listed is not None:
        return len(listed)
    return int(
        db.session.scalar(
            select(func.count()).select_from(Document).where(Document.record_id == record.id)
        )
        or 0
    )


def tab_context(record: Record) -> dict[str, t.Any]:
    """What the tab's template reads, as ``documents_tab``."""
    listed = documents.of_record(record)
    g.setdefault("record_documents", {})[record.id] = listed
    return {
        "documents": listed,
        "notify": _just_shared(record, listed),
        **row_context(record),
        "categories": documents.categories(),
        "products": sorted(record.products, key=lambda p: (p.carrier or "", p.id)),
        "is_client": record.kind == RecordKind.CLIENT,
        "lead_refusal": document_sharing.LEAD_REFUSAL,
        "max_mb": documents.upload_rule().max_bytes >> 20,
        "max_files": documents.MAX_FILES,
    }


def _just_shared(record: Record, listed: list[Document]) -> dict[str, t.Any] | None:
    """After a share from the tab, the address names the documents shared (``notify``): the
    tab then opens the notification dialog for them (the ones still shared)."""
    wanted = set(int_ids(request.args.getlist("notify")))
    chosen = [document for document in listed if document.id in wanted and document.shared]
    if not chosen:
        return None
    can_text = document_sharing.can_text(record)
    return {
        "documents": chosen,
        "records": [record],
        "can_text": can_text,
        "cannot_text": [] if can_text else [record],
        "return_url": url_for("record.details_view", id=record.id) + "#documents",
        "page_url": url_for(
            "document.notify_view",
            document_id=[document.id for document in chosen],
            url=url_for("record.details_view", id=record.id) + "#documents",
        ),
    }


def row_context(record: Record) -> dict[str, t.Any]:
    return {
        "record": record,
        "today": documents.office_today(),
        "inline_types": documents.INLINE_TYPES,
        "receipt_time": receipt_time,
        "human_size": human_size,
        "local_datetime": local_datetime,
        "product_label": product_label,
        "expiry_note": expiry_note,
        "web_address": documents.web_address,
        "row_template": ROW_TEMPLATE,
        "back": url_for("record.details_view", id=record.id) + "#documents",
    }


def render_rows(record: Record, added: t.Sequence[Document]) -> list[str]:
    """The tab's rows for documents just added (an upload answering in JSON)."""
    context = row_context(record)
    return [render_template(ROW_TEMPLATE, document=document, tab=context) for document in added]


def product_label(product: Product) -> str:
    return " · ".join(p for p in (product.carrier, product.plan_name, product.policy_number) if p)


def expiry_note(document: Document, today: date) -> str:
    """ "expired" or "until 2027-03-01" for a shared document; "" otherwise."""
    if not document.shared or document.share_expires_on is None:
        return ""
    if document.expired(today):
        return "expired"
    return f"until {document.share_expires_on.isoformat()}"
