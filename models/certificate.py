"""Certificates of insurance: the limits of a policy's coverage lines, certificate masters
(what a certificate certifies, shared with the client or not), the holders clients add, and
the certificates issued to them."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Table,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import UTCDateTime, db, utcnow

if TYPE_CHECKING:
    from models.conversation import Conversation
    from models.document import Document
    from models.portal_account import PortalAccount
    from models.product import Product
    from models.record import Record
    from models.user import User


class ProductLimit(db.Model):
    """One coverage line of a policy and its limit ("Each occurrence", 1,000,000)."""

    __tablename__ = "product_limits"
    __table_args__ = (CheckConstraint("amount >= 0", name="amount_not_negative"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(
        ForeignKey("products.id", ondelete="CASCADE"), index=True, nullable=False
    )
    product: Mapped[Product] = relationship(back_populates="limits")
    label: Mapped[str] = mapped_column(String(120), nullable=False)
    amount: Mapped[Decimal] = mapped_column(Numeric(14, 2), nullable=False)
    position: Mapped[int] = mapped_column(Integer, default=0, nullable=False)

    def __str__(self) -> str:
        return f"{self.label} {self.amount:,.0f}"


#: The policies a certificate master covers.
certificate_master_products = Table(
    "certificate_master_products",
    db.metadata,
    Column(
        "master_id",
        ForeignKey("certificate_masters.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("product_id", ForeignKey("products.id", ondelete="CASCADE"), primary_key=True),
    Index("ix_certificate_master_products_product_id", "product_id"),
)


class CertificateMaster(db.Model):
    """What the office certifies for a client: the policies covered, the description of
    operations, and whether the client may add holders themselves (*Client Center*)."""

    __tablename__ = "certificate_masters"

    id: Mapped[int] = mapped_column(primary_key=True)
    record_id: Mapped[int] = mapped_column(
        ForeignKey("records.id", ondelete="CASCADE"), index=True, nullable=False
    )
    record: Mapped[Record] = relationship()
    #: Staff's name for it ("General liability and auto").
    name: Mapped[str] = mapped_column(String(160), nullable=False)
    description_of_operations: Mapped[str] = mapped_column(Text, default="", nullable=False)
    policies: Mapped[list[Product]] = relationship(
        secondary=certificate_master_products, order_by="Product.id"
    )
    #: *Client Center: Enabled*: the client sees it and adds holders.
    shared: Mapped[bool] = mapped_column(Boolean, default=False, index=True, nullable=False)
    shared_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    shared_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    shared_by: Mapped[User | None] = relationship(foreign_keys=[shared_by_id])
    #: When and why sharing last ended (by staff, or by itself when no covered policy is in
    #: force any more).
    unshared_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    unshared_reason: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    holders: Mapped[list[CertificateHolder]] = relationship(
        back_populates="master",
        order_by="CertificateHolder.created_at.desc(), CertificateHolder.id.desc()",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )

    def __str__(self) -> str:
        return self.name


class CertificateHolder(db.Model):
    """Someone a client needs a certificate for (a landlord, a general contractor), and the
    client's answer: the coverage meets their requirements (a certificate is issued) or not
    (a request to the office, with the reason)."""

    __tablename__ = "certificate_holders"

    id: Mapped[int] = mapped_column(primary_key=True)
    master_id: Mapped[int] = mapped_column(
        ForeignKey("certificate_masters.id", ondelete="CASCADE"), index=True, nullable=False
    )
    master: Mapped[CertificateMaster] = relationship(back_populates="holders")
    name: Mapped[str] = mapped_column(String(160), nullable=False)
    #: Up to a few lines, as printed on the certificate.
    address: Mapped[str] = mapped_column(Text, default="", nullable=False)
    email: Mapped[str | None] = mapped_column(String(255))
    meets_requirements: Mapped[bool] = mapped_column(Boolean, nullable=False)
    #: Why the coverage does not meet the holder's requirements (a "No" answer).
    reason: Mapped[str | None] = mapped_column(Text)
    #: The request a "No" answer became.
    conversation_id: Mapped[int | None] = mapped_column(
        ForeignKey("conversations.id", ondelete="SET NULL"), index=True
    )
    conversation: Mapped[Conversation | None] = relationship()
    added_by_account_id: Mapped[int | None] = mapped_column(
        ForeignKey("portal_accounts.id", ondelete="SET NULL"), index=True
    )
    added_by_account: Mapped[PortalAccount | None] = relationship()
    added_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    added_by_user: Mapped[User | None] = relationship()
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)

    def __str__(self) -> str:
        return self.name


class Certificate(db.Model):
    """A certificate issued to a holder: a sealed PDF kept as a document of the record, and
    what it certified when it was issued."""

    __tablename__ = "certificates"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Printed on the certificate ("2026-000123").
    number: Mapped[str] = mapped_column(String(32), unique=True, nullable=False)
    master_id: Mapped[int] = mapped_column(
        ForeignKey("certificate_masters.id", ondelete="CASCADE"), index=True, nullable=False
    )
    master: Mapped[CertificateMaster] = relationship()
    holder_id: Mapped[int] = mapped_column(
        ForeignKey("certificate_holders.id", ondelete="CASCADE"), index=True, nullable=False
    )
    holder: Mapped[CertificateHolder] = relationship(backref="certificates")
    document_id: Mapped[int | None] = mapped_column(
        ForeignKey("documents.id", ondelete="SET NULL"), index=True
    )
    document: Mapped[Document | None] = relationship()
    #: The producer, insured, insurers, coverages, limits and description as printed.
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    issued_by_account_id: Mapped[int | None] = mapped_column(
        ForeignKey("portal_accounts.id", ondelete="SET NULL"), index=True
    )
    issued_by_account: Mapped[PortalAccount | None] = relationship()

    def __str__(self) -> str:
        return f"Certificate {self.number}"


class CertificateCounter(db.Model):
    """The last certificate number given in a year: taken with one UPDATE, so two
    certificates issued at the same moment queue for their numbers rather than collide."""

    __tablename__ = "certificate_counters"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
