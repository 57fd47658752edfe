"""Documents on a record: files kept in storage or website links, their categories, and the
log of who opened, downloaded or uploaded each one."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import LabelledEnum, TimestampMixin, UTCDateTime, db, str_enum, utcnow

if TYPE_CHECKING:
    from models.conversation import ConversationMessage
    from models.portal_account import PortalAccount
    from models.product import Product
    from models.record import Record
    from models.user import User


class DocumentKind(LabelledEnum):
    FILE = "file", "File"
    LINK = "link", "Website link"


class DocumentSource(LabelledEnum):
    STAFF = "staff", "Added by staff"
    CLIENT = "client", "Uploaded by client"


class AccessAction(LabelledEnum):
    VIEWED = "viewed", "Viewed"
    DOWNLOADED = "downloaded", "Downloaded"
    UPLOADED = "uploaded", "Uploaded"
    SHARED = "shared", "Shared"
    UNSHARED = "unshared", "Unshared"
    NOTIFIED = "notified", "Client notified"


class DocumentCategory(db.Model):
    """Policy documents, ID cards, applications, ...: admins keep the list."""

    __tablename__ = "document_categories"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True, nullable=False)
    #: Documents of this category are the client's ID cards: one click from the portal's home.
    is_id_card: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    position: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)

    def __str__(self) -> str:
        return self.name


class Document(TimestampMixin, db.Model):
    __tablename__ = "documents"
    __table_args__ = (
        CheckConstraint(
            "(kind = 'file' AND storage_key IS NOT NULL AND url IS NULL) OR "
            "(kind = 'link' AND url IS NOT NULL AND storage_key IS NULL)",
            name="file_or_link",
        ),
        CheckConstraint("size IS NULL OR size >= 0", name="size_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    record_id: Mapped[int] = mapped_column(
        ForeignKey("records.id", ondelete="CASCADE"), index=True, nullable=False
    )
    record: Mapped[Record] = relationship()
    product_id: Mapped[int | None] = mapped_column(
        ForeignKey("products.id", ondelete="SET NULL"), index=True
    )
    product: Mapped[Product | None] = relationship()
    category_id: Mapped[int | None] = mapped_column(
        ForeignKey("document_categories.id", ondelete="SET NULL"), index=True
    )
    category: Mapped[DocumentCategory | None] = relationship()
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    kind: Mapped[DocumentKind] = mapped_column(
        str_enum(DocumentKind, 8), default=DocumentKind.FILE, nullable=False
    )
    #: A website link (kind "link"): http or https only.
    url: Mapped[str | None] = mapped_column(String(2000))
    #: The file in storage (kind "file"): its random key, cleaned display name, sniffed type.
    storage_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    filename: Mapped[str | None] = mapped_column(String(160))
    content_type: Mapped[str | None] = mapped_column(String(120))
    size: Mapped[int | None] = mapped_column(BigInteger)
    source: Mapped[DocumentSource] = mapped_column(
        str_enum(DocumentSource, 8), default=DocumentSource.STAFF, index=True, nullable=False
    )
    added_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    added_by: Mapped[User | None] = relationship(foreign_keys=[added_by_id])
    uploaded_by_account_id: Mapped[int | None] = mapped_column(
        ForeignKey("portal_accounts.id", ondelete="SET NULL")
    )
    uploaded_by_account: Mapped[PortalAccount | None] = relationship()
    #: What the client wrote with an upload.
    client_note: Mapped[str | None] = mapped_column(Text)
    #: When staff marked a client's upload seen (it leaves the inbox); None: still new.
    staff_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    #: Shared with the client ("client access"): only ever on a client record.
    shared: Mapped[bool] = mapped_column(Boolean, default=False, index=True, nullable=False)
    shared_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    shared_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    shared_by: Mapped[User | None] = relationship(foreign_keys=[shared_by_id])
    #: Last day (office time) the client sees it; None: no end.
    share_expires_on: Mapped[date | None] = mapped_column(Date)
    #: When the client first opened or downloaded it (the receipt); None: not opened yet.
    first_opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: The conversation message it was sent with (a request's attachment); None otherwise.
    #: Sent by staff, it is seen through its conversation, not on the Documents page.
    message_id: Mapped[int | None] = mapped_column(
        ForeignKey("conversation_messages.id", ondelete="SET NULL"), index=True
    )
    message: Mapped[ConversationMessage | None] = relationship(back_populates="attachments")

    def __str__(self) -> str:
        return self.title

    @property
    def is_file(self) -> bool:
        return self.kind == DocumentKind.FILE

    def expired(self, today: date) -> bool:
        return self.share_expires_on is not None and self.share_expires_on < today


class DocumentAccess(db.Model):
    """One view, download, upload, share or notice of a document: who, when, from where.
    Append-only, like the activity log."""

    __tablename__ = "document_access"

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(
        ForeignKey("documents.id", ondelete="CASCADE"), index=True, nullable=False
    )
    action: Mapped[AccessAction] = mapped_column(str_enum(AccessAction, 12), nullable=False)
    #: client, staff or system (as in the activity log).
    actor_kind: Mapped[str] = mapped_column(String(8), nullable=False)
    actor_label: Mapped[str] = mapped_column(String(200), nullable=False)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    account_id: Mapped[int | None] = mapped_column(
        ForeignKey("portal_accounts.id", ondelete="SET NULL")
    )
    ip: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(300))
    #: e.g. the channel of a notice ("email", "sms").
    detail: Mapped[str | None] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True, nullable=False)
