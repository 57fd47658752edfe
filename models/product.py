"""Products and policies held or quoted by a record, and the coverage types they belong to."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Numeric,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import LabelledEnum, TimestampMixin, db, str_enum

if TYPE_CHECKING:
    from models.certificate import ProductLimit
    from models.record import Record


class ProductStatus(LabelledEnum):
    QUOTED = "quoted", "Quoted"
    SUBMITTED = "submitted", "Submitted"
    ACTIVE = "active", "Active"
    DECLINED = "declined", "Declined by client"
    CANCELLED = "cancelled", "Cancelled"


class CoverageType(db.Model):
    """A line of business (Medicare Advantage, Auto, Home, ...); admins keep the list."""

    __tablename__ = "coverage_types"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True, nullable=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)

    def __str__(self) -> str:
        return self.name


class Product(TimestampMixin, db.Model):
    __tablename__ = "products"
    __table_args__ = (
        CheckConstraint(
            "end_date IS NULL OR effective_date IS NULL OR end_date >= effective_date",
            name="dates_in_order",
        ),
        CheckConstraint("premium IS NULL OR premium >= 0", name="premium_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    record_id: Mapped[int] = mapped_column(
        ForeignKey("records.id", ondelete="CASCADE"), index=True, nullable=False
    )
    record: Mapped[Record] = relationship(back_populates="products")
    carrier: Mapped[str] = mapped_column(String(120), nullable=False)
    plan_name: Mapped[str | None] = mapped_column(String(160))
    coverage_type_id: Mapped[int] = mapped_column(
        ForeignKey("coverage_types.id", ondelete="RESTRICT"), index=True, nullable=False
    )
    coverage_type: Mapped[CoverageType] = relationship()
    status: Mapped[ProductStatus] = mapped_column(
        str_enum(ProductStatus, 16), default=ProductStatus.QUOTED, index=True, nullable=False
    )
    policy_number: Mapped[str | None] = mapped_column(String(64))
    effective_date: Mapped[date | None] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    #: Premium per year.
    premium: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    #: Shown to the client in the portal.
    client_access: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    notes: Mapped[str | None] = mapped_column(Text)
    #: The coverage lines and their limits, as a certificate prints them.
    limits: Mapped[list[ProductLimit]] = relationship(
        back_populates="product",
        order_by="ProductLimit.position, ProductLimit.id",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )

    def __str__(self) -> str:
        label = " ".join(part for part in (self.carrier, self.plan_name) if part)
        return f"{label} ({self.status.label})"
