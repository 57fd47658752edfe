"""The outbox (admins): every email and text, its status, attempts and last error."""

from __future__ import annotations

import typing as t

from flask import flash
from flask_admin.actions import action
from markupsafe import Markup

from admin_views.base import ADMIN_ONLY, int_ids, local_datetime, plural
from admin_views.filters import EnumChoice
from admin_views.record_list import FastListView
from app.services import outbox as outbox_service
from models import Channel, OutboxMessage, OutboxStatus

REDACTED_FOR_STAFF = "[Hidden: it carries a password, link or code meant only for the client.]"


def _status(view: t.Any, context: t.Any, model: OutboxMessage, name: str) -> Markup:
    colour = {
        "queued": "info",
        "sending": "warning",
        "sent": "success",
        "failed": "danger",
        "unknown": "warning",
    }
    badge = Markup('<span class="badge badge-{}">{}</span>').format(
        colour[model.status.value], model.status.label
    )
    if model.status == OutboxStatus.UNKNOWN:
        return badge + Markup(' <small class="text-muted">{}</small>').format(
            "sending again on its own"
        )
    return badge


def _body(view: t.Any, context: t.Any, model: OutboxMessage, name: str) -> Markup:
    text = (
        REDACTED_FOR_STAFF
        if model.sensitive and model.body_text != outbox_service.REDACTED
        else model.body_text
    )
    return Markup('<pre style="white-space: pre-wrap">{}</pre>').format(text)


def _file(view: t.Any, context: t.Any, model: OutboxMessage, name: str) -> str:
    if not model.attachment_title:
        return ""
    gone = "" if model.attachment_document_id else " (document deleted: sent without it)"
    return f"{model.attachment_title}{gone}"


class OutboxView(FastListView):
    noun = "Message"
    required_roles = ADMIN_ONLY
    can_create = False
    can_edit = False
    #: A row is what keeps a message from going twice (its key): deleting it could resend.
    delete_roles = ()
    can_view_details = True
    column_list = (
        "created_at",
        "channel",
        "recipient",
        "subject",
        "template_key",
        "status",
        "attempts",
        "last_error",
        "sent_at",
    )
    column_labels = {
        "template_key": "Template",
        "created_at": "Queued",
        "attachment_title": "Attachment",
    }
    column_default_sort = ("id", True)
    column_searchable_list = ("recipient", "subject")
    column_filters = (
        EnumChoice(OutboxMessage.status, "Status", OutboxStatus),
        EnumChoice(OutboxMessage.channel, "Channel", Channel),
    )
    column_formatters = {
        "status": _status,
        "body_text": _body,
        "last_error": lambda v, c, m, n: (m.last_error or "")[:120],
        "next_attempt_at": lambda v, c, m, n: local_datetime(m.next_attempt_at),
    }
    column_details_list = (
        "created_at",
        "channel",
        "recipient",
        "recipient_name",
        "reply_to",
        "subject",
        "body_text",
        "attachment_title",
        "template_key",
        "event_key",
        "record_id",
        "status",
        "attempts",
        "next_attempt_at",
        "sent_at",
        "provider_id",
        "last_error",
        "idempotency_key",
    )
    column_formatters_detail = {"status": _status, "body_text": _body, "attachment_title": _file}

    @action("retry", "Retry", "Try to send the selected failed messages again?")
    def action_retry(self, ids: list[str]) -> t.Any:
        retried, refused = outbox_service.retry_many(int_ids(ids))
        flash(
            f"{plural(retried, 'message')} queued again; only failed messages can be retried.",
            "success",
        )
        for reason in sorted(set(refused)):
            flash(reason, "error")
