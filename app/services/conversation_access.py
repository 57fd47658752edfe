"""Reading conversations: who sees which (the one rule, :func:`visible_to`), the client's
list, thread, files and unread badge, and the office's side (a record's threads, a thread,
overdue). Writing them is :mod:`app.services.conversations`.

A request staff sent is seen by every account of its record (like a shared document); a
conversation a client started is theirs alone (a contact person and the primary applicant do
not read each other's). Anything else is "not found".
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import selectinload

from app.services import document_access, documents
from app.services.actors import Actor
from app.services.errors import NotFound
from models import (
    AccessAction,
    Conversation,
    ConversationKind,
    ConversationMessage,
    ConversationStatus,
    Document,
    DocumentKind,
    PortalAccount,
    Record,
    db,
    utcnow,
)

# -- reading: the client's side -----------------------------------------------------------------


def visible_to(account: PortalAccount) -> Select[Any]:
    """The one rule of which conversations an account sees: on its record, and either sent
    by staff (every account of the record) or started by this account."""
    return select(Conversation).where(
        Conversation.record_id == account.record_id,
        or_(
            Conversation.kind == ConversationKind.STAFF_REQUEST,
            Conversation.account_id == account.id,
        ),
    )


def of_client(account: PortalAccount) -> list[Conversation]:
    """The account's conversations, newest activity first."""
    return list(
        db.session.scalars(
            visible_to(account).order_by(
                Conversation.last_message_at.desc(), Conversation.id.desc()
            )
        )
    )


def unread_query(account: PortalAccount) -> Select[Any]:
    """How many conversations the office wrote in after the client last read them, as a
    statement (the navigation asks it together with its other numbers)."""
    query = visible_to(account).where(
        Conversation.last_staff_message_at.is_not(None),
        or_(
            Conversation.client_read_at.is_(None),
            Conversation.last_staff_message_at > Conversation.client_read_at,
        ),
    )
    return select(func.count()).select_from(query.subquery())


def unread_count(account: PortalAccount) -> int:
    """Conversations where the office wrote after the client last read (the badge)."""
    return int(db.session.scalar(unread_query(account)) or 0)


def for_client(account: PortalAccount, conversation_id: int) -> Conversation:
    """A conversation the account sees, its messages and files loaded, or NotFound."""
    conversation = db.session.scalar(
        visible_to(account)
        .where(Conversation.id == conversation_id)
        .options(selectinload(Conversation.messages).selectinload(ConversationMessage.attachments))
    )
    if conversation is None:
        raise NotFound(_("This request does not exist."))
    return conversation


def read_by_client(conversation: Conversation) -> None:
    """The client has seen the thread as it is now (the badge goes)."""
    if conversation.unread_by_client:
        conversation.client_read_at = utcnow()


def read_by_staff(conversation: Conversation) -> None:
    """Staff have seen the thread as it is now (it is no longer unread in the inbox)."""
    if conversation.unread_by_staff:
        conversation.staff_read_at = utcnow()


def attachment_for_client(
    account: PortalAccount, conversation_id: int, document_id: int
) -> Document:
    """A file sent in a conversation the account sees, logged as downloaded; or NotFound."""
    conversation = for_client(account, conversation_id)
    document = db.session.scalar(
        select(Document)
        .join(ConversationMessage, ConversationMessage.id == Document.message_id)
        .where(
            Document.id == document_id,
            Document.kind == DocumentKind.FILE,
            Document.record_id == conversation.record_id,
            ConversationMessage.conversation_id == conversation.id,
        )
    )
    if document is None:
        raise NotFound(_("This document is not available."))
    document_access.log(document, AccessAction.DOWNLOADED, Actor.client(account))
    return document


# -- reading: the office's side -----------------------------------------------------------------


def of_record(record: Record) -> list[Conversation]:
    """A record's conversations for its Requests tab, newest activity first."""
    return list(
        db.session.scalars(
            select(Conversation)
            .where(Conversation.record_id == record.id)
            .options(selectinload(Conversation.assignee), selectinload(Conversation.account))
            .order_by(Conversation.last_message_at.desc(), Conversation.id.desc())
        )
    )


def thread(conversation_id: int) -> Conversation:
    """A conversation with its messages and files, for staff; or NotFound."""
    conversation = db.session.scalar(
        select(Conversation)
        .where(Conversation.id == conversation_id)
        .options(selectinload(Conversation.messages).selectinload(ConversationMessage.attachments))
    )
    if conversation is None:
        raise NotFound("This request does not exist.")
    return conversation


def is_overdue(conversation: Conversation, today: date | None = None) -> bool:
    """A staff request past its due day that the client has not answered."""
    today = today or documents.office_today()
    return (
        conversation.due_on is not None
        and conversation.due_on < today
        and conversation.status == ConversationStatus.WAITING
    )
