"""E-signature: sign requests (a PDF, its signers and the fields they fill), the saved field
layouts staff reuse as templates, and the versioned Electronic Record and Signature Disclosure
every signer agrees to first.

Field places are fractions of their page (0 to 1, origin at the top left, as a person sees the
page image), so they do not depend on the size a page is drawn at.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import LabelledEnum, UTCDateTime, db, str_enum, utcnow

if TYPE_CHECKING:
    from models.contact import Contact
    from models.document import Document
    from models.record import Record
    from models.user import User


class SignRequestStatus(LabelledEnum):
    #: Staff are still placing fields: no signer knows of it yet.
    DRAFT = "draft", "Draft"
    SENT = "sent", "Sent"
    #: At least one signer opened it; not everyone has signed yet.
    VIEWED = "viewed", "Viewed"
    #: Everyone signed: the sealed signed PDF exists.
    SIGNED = "signed", "Signed"
    DECLINED = "declined", "Declined"
    EXPIRED = "expired", "Expired"
    CANCELLED = "cancelled", "Cancelled"


#: A request in one of these can still be viewed and signed.
OPEN_STATUSES = (SignRequestStatus.SENT, SignRequestStatus.VIEWED)


class SignerStatus(LabelledEnum):
    #: Signing in order, and an earlier signer has not signed yet: not told, cannot sign.
    WAITING = "waiting", "Waiting for an earlier signer"
    SENT = "sent", "Sent"
    VIEWED = "viewed", "Viewed"
    SIGNED = "signed", "Signed"
    DECLINED = "declined", "Declined"
    EXPIRED = "expired", "Expired"
    #: The request was cancelled, or another signer declined.
    CANCELLED = "cancelled", "Cancelled"


class SignFieldKind(LabelledEnum):
    SIGNATURE = "signature", "Signature"
    INITIALS = "initials", "Initials"
    DATE_SIGNED = "date_signed", "Date signed"
    TEXT = "text", "Text"
    CHECKBOX = "checkbox", "Checkbox"


class SignatureStyle(LabelledEnum):
    DRAWN = "drawn", "Drawn"
    TYPED = "typed", "Typed"


class SignerRole(LabelledEnum):
    """Who signs, in a saved template: the record's people by their part, found when the
    template is used."""

    PRIMARY = "primary", "Primary applicant"
    CO_APPLICANT = "co_applicant", "Co-applicant"


class Disclosure(db.Model):
    """The Electronic Record and Signature Disclosure. Admins never edit a version: saving
    new text makes the next version, and each signer's consent names the version they read."""

    __tablename__ = "sign_disclosures"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(Integer, unique=True, nullable=False)
    text: Mapped[str] = mapped_column(Text, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_by: Mapped[User | None] = relationship()

    def __str__(self) -> str:
        return f"Version {self.version}"


class SignTemplate(db.Model):
    """A saved PDF with its field layout ("Broker of record letter"), reused for new requests
    and sent by the workflow action "Send sign request"."""

    __tablename__ = "sign_templates"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True, nullable=False)
    #: The title a request made from it starts with.
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    message: Mapped[str] = mapped_column(Text, default="", nullable=False)
    storage_key: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    filename: Mapped[str] = mapped_column(String(160), nullable=False)
    sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    #: ``[[width, height], ...]`` in PDF points, one pair per page.
    pages: Mapped[list[Any]] = mapped_column(JSON, nullable=False)
    #: The signers by part, in signing order: ``["primary", "co_applicant"]``.
    signer_roles: Mapped[list[str]] = mapped_column(JSON, nullable=False)
    #: ``[{"page", "x", "y", "width", "height", "kind", "signer", "required", "label"}]`` with
    #: ``signer`` an index into :attr:`signer_roles`.
    fields: Mapped[list[dict[str, Any]]] = mapped_column(JSON, nullable=False)
    in_order: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)
    expires_in_days: Mapped[int] = mapped_column(Integer, default=30, nullable=False)
    remind_every_days: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_by: Mapped[User | None] = relationship()

    def __str__(self) -> str:
        return self.name


class SignRequest(db.Model):
    __tablename__ = "sign_requests"
    __table_args__ = (
        Index("ix_sign_requests_status_expires", "status", "expires_at"),
        Index("ix_sign_requests_status_remind", "status", "next_reminder_at"),
        CheckConstraint(
            "remind_every_days IS NULL OR remind_every_days > 0", name="remind_every_positive"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    record_id: Mapped[int] = mapped_column(
        ForeignKey("records.id", ondelete="CASCADE"), index=True, nullable=False
    )
    record: Mapped[Record] = relationship()
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    message: Mapped[str] = mapped_column(Text, default="", nullable=False)
    status: Mapped[SignRequestStatus] = mapped_column(
        str_enum(SignRequestStatus, 16), default=SignRequestStatus.SENT, nullable=False
    )
    #: The PDF to sign: a document of the record (uploaded for this request, or chosen). A
    #: document an open request uses cannot be removed; afterwards the hash below still names it.
    document_id: Mapped[int | None] = mapped_column(
        ForeignKey("documents.id", ondelete="SET NULL"), index=True
    )
    document: Mapped[Document | None] = relationship(foreign_keys=[document_id])
    original_sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    #: ``[[width, height], ...]`` in PDF points, one pair per page.
    pages: Mapped[list[Any]] = mapped_column(JSON, nullable=False)
    #: The sealed signed PDF with its audit trail, a document of the record, once all signed.
    signed_document_id: Mapped[int | None] = mapped_column(
        ForeignKey("documents.id", ondelete="SET NULL"), index=True
    )
    signed_document: Mapped[Document | None] = relationship(foreign_keys=[signed_document_id])
    #: Signers sign one after another (each is told when the one before has signed), or all
    #: at once.
    in_order: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)
    template_id: Mapped[int | None] = mapped_column(
        ForeignKey("sign_templates.id", ondelete="SET NULL"), index=True
    )
    template: Mapped[SignTemplate | None] = relationship()
    #: The end of the last day it can be signed (office time), in UTC.
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    remind_every_days: Mapped[int | None] = mapped_column(Integer)
    #: When the signers whose turn it is are next reminded; None when no reminder is due.
    next_reminder_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_by: Mapped[User | None] = relationship()
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    signers: Mapped[list[SignRequestSigner]] = relationship(
        back_populates="request",
        order_by="SignRequestSigner.position",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )
    fields: Mapped[list[SignField]] = relationship(
        back_populates="request",
        order_by="SignField.page, SignField.y, SignField.x, SignField.id",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )

    def __str__(self) -> str:
        return self.title

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


class SignRequestSigner(db.Model):
    """One signer of a request: the record's primary applicant (``contact_id`` None) or one of
    its contacts. Name and email are kept as they were when the request was sent."""

    __tablename__ = "sign_request_signers"
    __table_args__ = (
        Index("uq_sign_request_signers_position", "sign_request_id", "position", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    sign_request_id: Mapped[int] = mapped_column(
        ForeignKey("sign_requests.id", ondelete="CASCADE"), index=True, nullable=False
    )
    request: Mapped[SignRequest] = relationship(back_populates="signers")
    #: Signing order, from 0.
    position: Mapped[int] = mapped_column(Integer, nullable=False)
    contact_id: Mapped[int | None] = mapped_column(
        ForeignKey("contacts.id", ondelete="SET NULL"), index=True
    )
    contact: Mapped[Contact | None] = relationship()
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    email: Mapped[str] = mapped_column(String(255), nullable=False)
    status: Mapped[SignerStatus] = mapped_column(str_enum(SignerStatus, 16), nullable=False)
    #: SHA-256 of the signer's link token (the emailed link); dead once they signed or declined.
    token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    viewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    consented_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    disclosure_id: Mapped[int | None] = mapped_column(
        ForeignKey("sign_disclosures.id", ondelete="RESTRICT")
    )
    disclosure: Mapped[Disclosure | None] = relationship()
    consent_ip: Mapped[str | None] = mapped_column(String(45))
    consent_user_agent: Mapped[str | None] = mapped_column(String(400))
    signed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    declined_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decline_reason: Mapped[str | None] = mapped_column(Text)
    #: Where the signer finished (signed or declined) from.
    ip: Mapped[str | None] = mapped_column(String(45))
    user_agent: Mapped[str | None] = mapped_column(String(400))
    signature_style: Mapped[SignatureStyle | None] = mapped_column(str_enum(SignatureStyle, 8))
    #: A drawn signature (PNG), or the typed one's text.
    signature_image: Mapped[bytes | None] = mapped_column(LargeBinary)
    signature_text: Mapped[str | None] = mapped_column(String(120))
    initials_image: Mapped[bytes | None] = mapped_column(LargeBinary)
    initials_text: Mapped[str | None] = mapped_column(String(20))
    #: What a signer filled in so far, kept until they finish or the request ends, so a closed
    #: browser loses nothing: ``{"fields": {field id: value}, "signature": {...}}``.
    draft: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, nullable=False)

    def __str__(self) -> str:
        return f"{self.name} ({self.status.label})"

    @property
    def is_done(self) -> bool:
        return self.status in (SignerStatus.SIGNED, SignerStatus.DECLINED)


class SignField(db.Model):
    __tablename__ = "sign_fields"
    __table_args__ = (
        CheckConstraint(
            "x >= 0 AND y >= 0 AND width > 0 AND height > 0 AND x + width <= 1.0001 "
            "AND y + height <= 1.0001",
            name="on_the_page",
        ),
        CheckConstraint("page >= 0", name="page_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    sign_request_id: Mapped[int] = mapped_column(
        ForeignKey("sign_requests.id", ondelete="CASCADE"), index=True, nullable=False
    )
    request: Mapped[SignRequest] = relationship(back_populates="fields")
    signer_id: Mapped[int] = mapped_column(
        ForeignKey("sign_request_signers.id", ondelete="CASCADE"), index=True, nullable=False
    )
    signer: Mapped[SignRequestSigner] = relationship()
    #: 0-based page index.
    page: Mapped[int] = mapped_column(Integer, nullable=False)
    x: Mapped[float] = mapped_column(Float, nullable=False)
    y: Mapped[float] = mapped_column(Float, nullable=False)
    width: Mapped[float] = mapped_column(Float, nullable=False)
    height: Mapped[float] = mapped_column(Float, nullable=False)
    kind: Mapped[SignFieldKind] = mapped_column(str_enum(SignFieldKind, 16), nullable=False)
    required: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)
    label: Mapped[str] = mapped_column(String(120), default="", nullable=False)
    #: What the signer put: text, the date signed, "1"/"" for a checkbox (signatures and
    #: initials are the signer's image or text).
    value: Mapped[str | None] = mapped_column(Text)

    def __str__(self) -> str:
        return self.label or self.kind.label
