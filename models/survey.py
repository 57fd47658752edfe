"""Surveys: questions admins set without code (Feedback, Claim experience survey) and the
clients' answers."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import UTCDateTime, db, utcnow

if TYPE_CHECKING:
    from models.portal_account import PortalAccount
    from models.record import Record


class Survey(db.Model):
    __tablename__ = "surveys"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Stable identifier the portal's routes and the event name (``feedback``, ``claim_survey``).
    key: Mapped[str] = mapped_column(String(60), unique=True, nullable=False)
    title: Mapped[str] = mapped_column(String(120), nullable=False)
    #: Shown above the questions.
    intro: Mapped[str] = mapped_column(Text, default="", nullable=False)
    #: Off: the portal page and its API are gone (404).
    active: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)
    questions: Mapped[list[SurveyQuestion]] = relationship(
        back_populates="survey", order_by="SurveyQuestion.position, SurveyQuestion.id"
    )

    def __str__(self) -> str:
        return self.title


class SurveyQuestion(db.Model):
    __tablename__ = "survey_questions"

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(
        ForeignKey("surveys.id", ondelete="CASCADE"), index=True, nullable=False
    )
    survey: Mapped[Survey] = relationship(back_populates="questions")
    label: Mapped[str] = mapped_column(String(200), nullable=False)
    help_text: Mapped[str] = mapped_column(Text, default="", nullable=False)
    #: A field type's name (app.services.field_types): text, long_text, number, choice, ...
    field_type: Mapped[str] = mapped_column(String(16), nullable=False)
    #: The type's settings: options (choice), min and max (number), max_length (text).
    settings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, nullable=False)
    required: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    position: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    #: Archived questions are asked no more; answers already given keep them.
    archived: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)

    def __str__(self) -> str:
        return self.label


class SurveyResponse(db.Model):
    __tablename__ = "survey_responses"

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(
        ForeignKey("surveys.id", ondelete="CASCADE"), index=True, nullable=False
    )
    survey: Mapped[Survey] = relationship()
    record_id: Mapped[int] = mapped_column(
        ForeignKey("records.id", ondelete="CASCADE"), index=True, nullable=False
    )
    record: Mapped[Record] = relationship()
    account_id: Mapped[int | None] = mapped_column(
        ForeignKey("portal_accounts.id", ondelete="SET NULL")
    )
    account: Mapped[PortalAccount | None] = relationship()
    #: ``{question id (as text): value in JSON form}``.
    answers: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, nullable=False)
    created_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=utcnow, index=True, nullable=False
    )
