"""Conversations between a client and the office: a message through *Contact us*, a request
staff send the client, and the client's own requests (change requests and general requests,
whose fields admins define per request type). Each is a thread of messages; files sent with a
message are documents on the record, linked to their message."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import LabelledEnum, UTCDateTime, db, str_enum, utcnow

if TYPE_CHECKING:
    from models.document import Document
    from models.portal_account import PortalAccount
    from models.product import Product
    from models.record import Record
    from models.user import User


class ConversationKind(LabelledEnum):
    CONTACT_US = "contact_us", "Contact us"
    #: Staff asked the client for something (information, documents).
    STAFF_REQUEST = "staff_request", "Request to client"
    #: The client sent a request of a request type (change requests, general requests).
    CLIENT_REQUEST = "client_request", "Client request"


class ConversationStatus(LabelledEnum):
    #: New from the client: the office has not answered yet.
    OPEN = "open", "Open"
    #: The office wrote last and waits for the client.
    WAITING = "waiting", "Waiting on client"
    #: The client answered the office: the office's turn again.
    ANSWERED = "answered", "Answered"
    CLOSED = "closed", "Closed"


class RequestEvent(LabelledEnum):
    """The event a request type's submissions emit, which the notification matrix answers."""

    PERSONAL = "portal.change_request.personal", "Change request (personal)"
    COMMERCIAL = "portal.change_request.commercial", "Change request (commercial)"
    GENERAL = "portal.request.general", "General request"


class RequestType(db.Model):
    """A kind of request clients send from the portal; admins define its fields."""

    __tablename__ = "request_types"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Stable identifier in portal addresses (``/portal/requests/new/<key>``).
    key: Mapped[str] = mapped_column(String(60), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(String(120), nullable=False)
    #: Shown above the fields.
    description: Mapped[str] = mapped_column(Text, default="", nullable=False)
    event: Mapped[RequestEvent] = mapped_column(
        str_enum(RequestEvent, 40), default=RequestEvent.GENERAL, nullable=False
    )
    #: The form starts with a choice of the client's policies.
    asks_policy: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    #: Off: clients cannot send it (requests already sent stay).
    active: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)
    position: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    fields: Mapped[list[RequestField]] = relationship(
        back_populates="request_type", order_by="RequestField.position, RequestField.id"
    )

    def __str__(self) -> str:
        return self.name


class RequestField(db.Model):
    __tablename__ = "request_fields"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_type_id: Mapped[int] = mapped_column(
        ForeignKey("request_types.id", ondelete="CASCADE"), index=True, nullable=False
    )
    request_type: Mapped[RequestType] = relationship(back_populates="fields")
    label: Mapped[str] = mapped_column(String(200), nullable=False)
    help_text: Mapped[str] = mapped_column(Text, default="", nullable=False)
    #: A field type's name (app.services.field_types), or ``file`` for attachments.
    field_type: Mapped[str] = mapped_column(String(16), nullable=False)
    #: The type's settings: options (choice), min and max (number), max_length (text).
    settings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, nullable=False)
    required: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    position: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    #: Archived fields are asked no more; requests already sent keep their answers.
    archived: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)

    def __str__(self) -> str:
        return self.label


class Conversation(db.Model):
    __tablename__ = "conversations"
    __table_args__ = (Index("ix_conversations_status_last", "status", "last_message_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    record_id: Mapped[int] = mapped_column(
        ForeignKey("records.id", ondelete="CASCADE"), index=True, nullable=False
    )
    record: Mapped[Record] = relationship()
    kind: Mapped[ConversationKind] = mapped_column(str_enum(ConversationKind, 16), nullable=False)
    status: Mapped[ConversationStatus] = mapped_column(
        str_enum(ConversationStatus, 16), nullable=False
    )
    subject: Mapped[str] = mapped_column(String(200), nullable=False)
    #: The client's request type (client requests only).
    request_type_id: Mapped[int | None] = mapped_column(
        ForeignKey("request_types.id", ondelete="SET NULL"), index=True
    )
    request_type: Mapped[RequestType | None] = relationship()
    #: The policy a request is about, when it asks for one.
    product_id: Mapped[int | None] = mapped_column(ForeignKey("products.id", ondelete="SET NULL"))
    product: Mapped[Product | None] = relationship()
    #: A client request's answers, ``{field id: JSON value}`` (files: their document ids).
    answers: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, nullable=False)
    #: The client account that started it; None when staff did. A conversation a client
    #: starts is theirs alone; a staff request is seen by every account of the record.
    account_id: Mapped[int | None] = mapped_column(
        ForeignKey("portal_accounts.id", ondelete="SET NULL"), index=True
    )
    account: Mapped[PortalAccount | None] = relationship()
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    #: The staff member who answers it (the record's agent when it started).
    assignee_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    assignee: Mapped[User | None] = relationship(foreign_keys=[assignee_id])
    #: The day (office time) a staff request should be answered by.
    due_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    last_message_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    #: When each side last wrote, and last read the thread: unread is "the other side wrote
    #: after I last read".
    last_client_message_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_staff_message_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    client_read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    staff_read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    messages: Mapped[list[ConversationMessage]] = relationship(
        back_populates="conversation",
        order_by="ConversationMessage.created_at, ConversationMessage.id",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )

    def __str__(self) -> str:
        return self.subject

    @property
    def unread_by_client(self) -> bool:
        wrote = self.last_staff_message_at
        return wrote is not None and (self.client_read_at is None or wrote > self.client_read_at)

    @property
    def unread_by_staff(self) -> bool:
        wrote = self.last_client_message_at
        return wrote is not None and (self.staff_read_at is None or wrote > self.staff_read_at)


class ConversationMessage(db.Model):
    __tablename__ = "conversation_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), index=True, nullable=False
    )
    conversation: Mapped[Conversation] = relationship(back_populates="messages")
    #: Exactly one of the two: the staff member or the client account who wrote it.
    author_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    author_user: Mapped[User | None] = relationship()
    author_account_id: Mapped[int | None] = mapped_column(
        ForeignKey("portal_accounts.id", ondelete="SET NULL")
    )
    author_account: Mapped[PortalAccount | None] = relationship()
    #: "client" or "staff": who wrote it, kept when the author's row is gone.
    side: Mapped[str] = mapped_column(String(8), nullable=False)
    #: The author's name when written.
    author_name: Mapped[str] = mapped_column(String(200), nullable=False)
    #: Plain text as typed; shown with links made clickable and nothing else rendered.
    body: Mapped[str] = mapped_column(Text, default="", nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    attachments: Mapped[list[Document]] = relationship(
        back_populates="message", order_by="Document.id"
    )
