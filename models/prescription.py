"""Prescriptions a client keeps in the portal (the Rx module)."""

from __future__ import annotations

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import TimestampMixin, db


class Prescription(TimestampMixin, db.Model):
    __tablename__ = "prescriptions"

    id: Mapped[int] = mapped_column(primary_key=True)
    record_id: Mapped[int] = mapped_column(
        ForeignKey("records.id", ondelete="CASCADE"), index=True, nullable=False
    )
    drug_name: Mapped[str] = mapped_column(String(160), nullable=False)
    strength: Mapped[str | None] = mapped_column(String(80))
    dosage: Mapped[str | None] = mapped_column(String(80))
    frequency: Mapped[str | None] = mapped_column(String(80))
    notes: Mapped[str | None] = mapped_column(Text)

    def describe(self) -> str:
        return ", ".join(part for part in (self.strength, self.dosage, self.frequency) if part)

    def __str__(self) -> str:
        return self.drug_name
