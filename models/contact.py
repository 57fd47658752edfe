"""Contacts of a record besides its primary applicant: a co-applicant and contact persons."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from sqlalchemy import Date, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import LabelledEnum, TimestampMixin, db, str_enum

if TYPE_CHECKING:
    from models.record import Record


class ContactRole(LabelledEnum):
    CO_APPLICANT = "co_applicant", "Co-applicant"
    CONTACT_PERSON = "contact_person", "Contact person"


class Contact(TimestampMixin, db.Model):
    __tablename__ = "contacts"
    __table_args__ = (
        # A record has at most one co-applicant.
        Index(
            "uq_contacts_one_co_applicant",
            "record_id",
            unique=True,
            sqlite_where=text("role = 'co_applicant'"),
            postgresql_where=text("role = 'co_applicant'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    record_id: Mapped[int] = mapped_column(
        ForeignKey("records.id", ondelete="CASCADE"), index=True, nullable=False
    )
    record: Mapped[Record] = relationship(back_populates="contacts")
    role: Mapped[ContactRole] = mapped_column(
        str_enum(ContactRole, 20), default=ContactRole.CONTACT_PERSON, nullable=False
    )
    first_name: Mapped[str] = mapped_column(String(80), nullable=False)
    last_name: Mapped[str] = mapped_column(String(80), nullable=False)
    #: How the contact relates to the primary applicant (spouse, accountant, ...).
    relationship_to_record: Mapped[str | None] = mapped_column(String(40))
    email: Mapped[str | None] = mapped_column(String(255))
    phone: Mapped[str | None] = mapped_column(String(32))
    date_of_birth: Mapped[date | None] = mapped_column(Date)
    notes: Mapped[str | None] = mapped_column(Text)

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    def __str__(self) -> str:
        return f"{self.full_name} ({self.role.label})"
