"""Requests: every conversation between the office and its clients (requests staff sent,
the clients' own requests, Contact us), with the filters staff work from (status, kind, who
it is assigned to, overdue, unread, record) and bulk close and assign. One thread and the
record's Requests tab are in admin_views.conversation_thread."""

from __future__ import annotations

import typing as t

from flask import flash, redirect, url_for
from flask_admin.actions import action
from flask_admin.contrib.sqla.filters import BaseSQLAFilter
from flask_admin.helpers import get_redirect_target
from flask_security import current_user
from markupsafe import Markup
from sqlalchemy import or_, select
from sqlalchemy.orm import joinedload

from admin_views.base import StaffModelView, int_ids, local_datetime, plural, record_link
from admin_views.conversation_thread import ConversationRoutes
from admin_views.filters import EnumChoice, IntChoice, IntIs, agent_options
from app import transactions
from app.services import conversation_access, conversations, documents
from app.services.errors import ValidationError
from models import Conversation, ConversationKind, ConversationStatus, db

YES = (("1", "yes"),)


class _Condition(BaseSQLAFilter):
    """A condition a row meets, chosen as "yes" (no choice means no filter)."""

    def __init__(self, name: str) -> None:
        super().__init__(Conversation.id, name, options=YES)

    def condition(self) -> t.Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def validate(self, value: t.Any) -> bool:
        return value == "1"

    def apply(self, query: t.Any, value: t.Any, alias: t.Any = None) -> t.Any:
        return query.filter(self.condition())

    def operation(self) -> str:
        return "is"


class Mine(_Condition):
    """Assigned to the signed-in staff member."""

    def __init__(self) -> None:
        super().__init__("Assigned to me")

    def condition(self) -> t.Any:
        return Conversation.assignee_id == current_user.id


class Overdue(_Condition):
    """Past its due day on the office's calendar, still waiting on the client (the rule of
    conversation_access.is_overdue, as SQL)."""

    def __init__(self) -> None:
        super().__init__("Overdue")

    def condition(self) -> t.Any:
        return (
            Conversation.due_on.is_not(None)
            & (Conversation.due_on < documents.office_today())
            & (Conversation.status == ConversationStatus.WAITING)
        )


class Unread(_Condition):
    """The client wrote after staff last read the thread (Conversation.unread_by_staff)."""

    def __init__(self) -> None:
        super().__init__("Unread")

    def condition(self) -> t.Any:
        return Conversation.last_client_message_at.is_not(None) & or_(
            Conversation.staff_read_at.is_(None),
            Conversation.last_client_message_at > Conversation.staff_read_at,
        )


def _subject(view: t.Any, context: t.Any, model: Conversation, name: str) -> Markup:
    return Markup('<a href="{}">{}</a>').format(
        url_for("requests.thread", conversation_id=model.id), model.subject
    )


def _due(view: t.Any, context: t.Any, model: Conversation, name: str) -> Markup | str:
    if model.due_on is None:
        return ""
    if conversation_access.is_overdue(model, context.get("today") or documents.office_today()):
        return Markup('<span class="text-danger font-weight-bold">{} (overdue)</span>').format(
            model.due_on.isoformat()
        )
    return model.due_on.isoformat()


def _unread(view: t.Any, context: t.Any, model: Conversation, name: str) -> Markup | str:
    if model.unread_by_staff:
        return Markup('<span class="badge badge-danger">New from the client</span>')
    return ""


def _assignee(view: t.Any, context: t.Any, model: Conversation, name: str) -> str:
    return model.assignee.full_name if model.assignee else ""


class ConversationView(ConversationRoutes, StaffModelView):
    """The Requests inbox: newest activity first; every staff member sees every request, as
    with documents."""

    noun = "Request"
    can_create = False
    can_edit = False
    #: Threads are the record's history with the client: closed, never deleted.
    delete_roles: tuple[str, ...] = ()
    list_template = "admin/conversation/list.html"
    column_list = (
        "subject",
        "record",
        "kind",
        "status",
        "assignee",
        "due_on",
        "last_message_at",
        "unread_by_staff",
    )
    column_labels = {
        "assignee": "Assigned to",
        "due_on": "Due",
        "last_message_at": "Last activity",
        "unread_by_staff": "Unread",
    }
    column_sortable_list = (
        "subject",
        "kind",
        "status",
        ("assignee", "assignee.first_name"),
        "due_on",
        "last_message_at",
    )
    column_default_sort = [("last_message_at", True), ("id", True)]
    column_searchable_list = ("subject",)
    column_formatters = {
        "subject": _subject,
        "record": record_link,
        "assignee": _assignee,
        "due_on": _due,
        "last_message_at": lambda v, c, m, n: local_datetime(m.last_message_at),
        "unread_by_staff": _unread,
    }
    column_filters = (
        EnumChoice(Conversation.status, "Status", ConversationStatus),
        EnumChoice(Conversation.kind, "Kind", ConversationKind),
        IntChoice(Conversation.assignee_id, "Assigned to", agent_options),
        Mine(),
        Overdue(),
        Unread(),
        IntIs(Conversation.record_id, "Record"),
    )

    def get_query(self) -> t.Any:
        return (
            super()
            .get_query()
            .options(joinedload(Conversation.record), joinedload(Conversation.assignee))
        )

    def render(self, template: str, **kwargs: t.Any) -> t.Any:
        if template == self.list_template:
            kwargs["today"] = documents.office_today()
            kwargs["mine_url"] = url_for(".index_view", flt0_assigned_to_me_is="1")
        return super().render(template, **kwargs)

    def _chosen(self, ids: list[str]) -> list[Conversation]:
        return list(
            db.session.scalars(
                select(Conversation)
                .where(Conversation.id.in_(int_ids(ids)))
                .options(joinedload(Conversation.record))
            )
        )

    def _back(self) -> str:
        return get_redirect_target() or url_for(".index_view")

    @action("close", "Close", "Close the selected requests? The clients can no longer reply.")
    def action_close(self, ids: list[str]) -> t.Any:
        chosen = [c for c in self._chosen(ids) if c.status != ConversationStatus.CLOSED]
        for conversation in chosen:
            conversations.close(conversation, current_user)
        flash(f"Closed {plural(len(chosen), 'request')}.", "success")
        return redirect(self._back())

    @action("assign_me", "Assign to me")
    def action_assign_me(self, ids: list[str]) -> t.Any:
        chosen = self._chosen(ids)
        try:
            with transactions.attempt():
                for conversation in chosen:
                    conversations.assign(conversation, current_user._get_current_object())
        except ValidationError as exc:
            flash(exc.message, "error")
        else:
            flash(f"Assigned {plural(len(chosen), 'request')} to you.", "success")
        return redirect(self._back())


__all__ = ["ConversationView"]
