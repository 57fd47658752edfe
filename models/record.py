"""Records: the leads and clients of the office, in one table told apart by ``kind``.

A record is a person (the primary applicant) or, for commercial clients, a business with a
primary applicant; co-applicants and contact persons are :class:`models.contact.Contact` rows.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from sqlalchemy import Boolean, Date, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import LabelledEnum, TimestampMixin, db, only_on, str_enum
from models.tag import record_tags

if TYPE_CHECKING:
    from models.contact import Contact
    from models.portal_account import PortalAccount
    from models.product import Product
    from models.tag import Tag
    from models.task import Task
    from models.user import User


class RecordKind(LabelledEnum):
    LEAD = "lead", "Lead"
    CLIENT = "client", "Client"


class ContactMethod(LabelledEnum):
    EMAIL = "email", "Email"
    SMS = "sms", "Text message"
    PHONE = "phone", "Phone call"
    MAIL = "mail", "Post"


#: The columns the staff list searches (``admin_views/record.py``), each with a trigram
#: index on PostgreSQL: a search ("%smith%") reads the indexes instead of every record.
SEARCHED = ("first_name", "last_name", "company_name", "email", "phone", "mobile")


def _trigram_index(column: str) -> Index:
    index = Index(
        f"ix_records_{column}_trgm",
        column,
        postgresql_using="gin",
        postgresql_ops={column: "gin_trgm_ops"},
        info=only_on("postgresql"),
    )
    return index.ddl_if(dialect="postgresql")


class Record(TimestampMixin, db.Model):
    __tablename__ = "records"
    __table_args__ = (
        Index("ix_records_name", "last_name", "first_name"),
        # The staff list sorted by "Updated" reads a page of the index, not every record.
        Index("ix_records_updated_at", "updated_at"),
        *(_trigram_index(column) for column in SEARCHED),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[RecordKind] = mapped_column(
        str_enum(RecordKind, 16), default=RecordKind.LEAD, nullable=False
    )
    first_name: Mapped[str] = mapped_column(String(80), nullable=False)
    last_name: Mapped[str] = mapped_column(String(80), nullable=False)
    #: Set for commercial clients; the person named above is then the primary applicant.
    company_name: Mapped[str | None] = mapped_column(String(160))
    email: Mapped[str | None] = mapped_column(String(255), index=True)
    phone: Mapped[str | None] = mapped_column(String(32))
    mobile: Mapped[str | None] = mapped_column(String(32))
    date_of_birth: Mapped[date | None] = mapped_column(Date)

    address_line1: Mapped[str | None] = mapped_column(String(160))
    address_line2: Mapped[str | None] = mapped_column(String(160))
    city: Mapped[str | None] = mapped_column(String(80))
    state: Mapped[str | None] = mapped_column(String(64))
    postal_code: Mapped[str | None] = mapped_column(String(16))
    country: Mapped[str] = mapped_column(String(2), default="US", nullable=False)

    preferred_contact: Mapped[ContactMethod] = mapped_column(
        str_enum(ContactMethod, 16), default=ContactMethod.EMAIL, nullable=False
    )
    email_opt_in: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)
    sms_opt_in: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)

    #: Where the lead came from (referral, web form, event, ...).
    source: Mapped[str | None] = mapped_column(String(80))
    notes: Mapped[str | None] = mapped_column(Text)

    assigned_agent_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    assigned_agent: Mapped[User | None] = relationship()

    tags: Mapped[list[Tag]] = relationship(secondary=record_tags, order_by="Tag.name")
    products: Mapped[list[Product]] = relationship(
        back_populates="record",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="Product.id",
    )
    contacts: Mapped[list[Contact]] = relationship(
        back_populates="record",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="Contact.id",
    )
    #: The primary applicant's portal account, if any (contact persons have their own).
    portal_account: Mapped[PortalAccount | None] = relationship(
        primaryjoin="and_(Record.id == foreign(PortalAccount.record_id), "
        "PortalAccount.contact_id.is_(None))",
        uselist=False,
        viewonly=True,
    )
    tasks: Mapped[list[Task]] = relationship(
        back_populates="record",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="Task.due_at",
    )

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    @property
    def display_name(self) -> str:
        if self.company_name:
            return f"{self.company_name} ({self.full_name})"
        return self.full_name

    def __str__(self) -> str:
        return self.display_name
