"""The activity log (read-only): every event, filterable by event, actor, record and date."""

from __future__ import annotations

import json
import typing as t

from flask import url_for
from flask_admin.contrib.sqla.filters import BaseSQLAFilter
from markupsafe import Markup

from admin_views.filters import IntChoice, IntIs, OfficeDayBetween, agent_options
from admin_views.record_list import FastListView
from app.services.event_catalogue import CATALOGUE, EMITTED
from models import ActivityEntry


class _Choice(BaseSQLAFilter):
    def __init__(self, column: t.Any, name: str, options: list[tuple[str, str]]) -> None:
        super().__init__(column, name, options=options)
        self.valid = {value for value, _ in options}

    def validate(self, value: t.Any) -> bool:
        return value in self.valid

    def apply(self, query: t.Any, value: t.Any, alias: t.Any = None) -> t.Any:
        return query.filter(self.column == value)

    def operation(self) -> str:
        return "is"


def _record(view: t.Any, context: t.Any, model: ActivityEntry, name: str) -> Markup | str:
    if model.record_id is None:
        return ""
    return Markup('<a href="{}">{}</a>').format(
        url_for("record.details_view", id=model.record_id), model.record_label or model.record_id
    )


def _event(view: t.Any, context: t.Any, model: ActivityEntry, name: str) -> Markup:
    spec = CATALOGUE.get(model.event_key)
    return Markup('{}<br><code class="small">{}</code>').format(
        spec.label if spec else model.event_key, model.event_key
    )


def _details(view: t.Any, context: t.Any, model: ActivityEntry, name: str) -> Markup:
    return Markup('<pre style="white-space: pre-wrap">{}</pre>').format(
        json.dumps(model.details, indent=2, ensure_ascii=False)
    )


class ActivityView(FastListView):
    """Append-only: no create, edit or delete, here or anywhere else."""

    noun = "Activity entry"

    can_create = False
    can_edit = False
    delete_roles = ()
    can_view_details = True
    can_export = True
    export_types = ["csv"]
    column_list = ("occurred_at", "event_key", "actor_label", "record_label", "summary")
    column_labels = {
        "occurred_at": "When",
        "event_key": "Event",
        "actor_label": "Who",
        "record_label": "Record",
    }
    column_default_sort = ("id", True)
    column_sortable_list = ("occurred_at",)
    column_searchable_list = ("summary", "actor_label", "record_label")
    column_formatters = {"record_label": _record, "event_key": _event}
    column_filters = (
        _Choice(
            ActivityEntry.event_key,
            "Event",
            sorted(
                ((key, f"{spec.label} ({key})") for key, spec in EMITTED.items()),
                key=lambda option: option[1],
            ),
        ),
        _Choice(
            ActivityEntry.actor_kind,
            "Actor kind",
            [("client", "Client"), ("staff", "Staff"), ("system", "System")],
        ),
        IntChoice(ActivityEntry.actor_user_id, "Staff member", agent_options),
        IntIs(ActivityEntry.record_id, "Record"),
        OfficeDayBetween(ActivityEntry.occurred_at, "Date"),
    )
    column_details_list = (
        "occurred_at",
        "event_key",
        "actor_kind",
        "actor_label",
        "actor_user_id",
        "actor_account_id",
        "record_label",
        "summary",
        "details",
        "ip",
        "user_agent",
        "prev_hash",
        "hash",
    )
    column_formatters_detail = {"details": _details, "record_label": _record, "event_key": _event}
