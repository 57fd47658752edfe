"""The record list's cells, written for speed: each is called once per row of every page a
staff member opens, so what can be worked out once per page (base URLs, the office's zone)
is, and each shows what the record page's formatters in admin_views.record show."""

from __future__ import annotations

import typing as t
from functools import lru_cache

from markupsafe import escape
from sqlalchemy import bindparam, select

from admin_views.forms import office_zone
from admin_views.record_list import Cell, ListPage
from app.services.validation import format_phone
from models import Record, Tag, db, record_tags

_PORTAL_COLOURS = {"enabled": "#2e7d32", "invited": "#1565c0", "disabled": "#757575"}

#: Phone numbers read for people repeat from page to page; parsing one costs more than the
#: rest of its row.
_phone_shown = lru_cache(maxsize=8192)(format_phone)


def _badge(text: str, colour: str) -> str:
    return (
        f'<span class="badge pt-tag" style="background-color:{escape(colour)}">'
        f"{escape(text)}</span>"
    )


#: The page's tags (names and colours), built once: the statement is the same on every page.
_PAGE_TAGS = (
    select(record_tags.c.record_id, Tag.name, Tag.colour)
    .join(Tag, Tag.id == record_tags.c.tag_id)
    .where(record_tags.c.record_id.in_(bindparam("ids", expanding=True)))
    .order_by(Tag.name)
)


def _tag_badges(record_ids: list[int]) -> dict[int, str]:
    """Each record's tags as badges, for the whole page in one query of names and colours
    (loading them as Tag objects with the records cost more than the rest of the rows)."""
    if not record_ids:
        return {}
    found: dict[int, list[str]] = {}
    for record_id, name, colour in db.session.execute(_PAGE_TAGS, {"ids": record_ids}):
        found.setdefault(record_id, []).append(_badge(name, colour))
    return {record_id: " ".join(shown) for record_id, shown in found.items()}


def record_cells(page: ListPage) -> dict[str, Cell]:
    details = escape(page.details_url)
    zone = office_zone()

    def name(row: Record) -> str:
        return f'<a href="{details}{row.id}">{escape(row.display_name)}</a>'

    def kind(row: Record) -> str:
        return escape(row.kind.label) if row.kind is not None else ""

    def email(row: Record) -> str:
        return escape(row.email) if row.email is not None else ""

    def agent(row: Record) -> str:
        user = row.assigned_agent
        return escape(user.full_name) if user is not None else ""

    def phone(row: Record) -> str:
        return escape(_phone_shown(row.mobile or row.phone))

    badges = _tag_badges([row.id for row in page.rows])

    def tags(row: Record) -> str:
        return badges.get(row.id, "")

    def portal(row: Record) -> str:
        account = row.portal_account
        if account is None:
            return '<span class="text-muted">Not enabled</span>'
        shown = _badge(account.status.label, _PORTAL_COLOURS[account.status.value])
        if account.last_login_at:
            when = account.last_login_at.astimezone(zone).strftime("%Y-%m-%d %H:%M")
            shown += f'<br><span class="small text-muted">signed in {when}</span>'
        return shown

    def updated(row: Record) -> str:
        value = row.updated_at
        return value.astimezone(zone).strftime("%Y-%m-%d %H:%M") if value else ""

    cells: dict[str, t.Callable[[Record], str]] = {
        "last_name": name,
        "kind": kind,
        "email": email,
        "assigned_agent": agent,
        "phone": phone,
        "tags": tags,
        "portal_account": portal,
        "updated_at": updated,
    }
    return cells
