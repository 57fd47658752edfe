"""Self-service journeys at /f/<slug>: what admins set up (the journey, its steps, a form
step's questions and an upload step's slots), the teams whose completion email a journey's
staff user brings, and each visitor's session through it.

A session keeps a copy of the journey as it was when the visitor started (``definition``), so
an admin editing the journey while people are halfway through changes nothing for them.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import LabelledEnum, TimestampMixin, UTCDateTime, db, str_enum, utcnow

if TYPE_CHECKING:
    from models.document import Document
    from models.record import Record
    from models.sign_request import SignRequest, SignTemplate
    from models.user import User


class Team(db.Model):
    """A small group of staff users; a journey's completion email uses the template of its
    assigned user's team (the office's default when there is none)."""

    __tablename__ = "teams"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True, nullable=False)
    #: The key of the email template a visitor who completed a journey receives (an email
    #: template, by its stable key like every message); None: the default one.
    completion_template_key: Mapped[str | None] = mapped_column(String(80))
    members: Mapped[list[User]] = relationship(back_populates="team", order_by="User.email")

    def __str__(self) -> str:
        return self.name


class StepKind(LabelledEnum):
    """What a step asks of the visitor. Each kind has one class in the journey steps registry
    (app.services.journeys.steps)."""

    FORM = "form", "Form"
    UPLOAD = "upload", "Upload"
    SIGN = "sign", "Signature"
    REVIEW = "review", "Review"


class Journey(TimestampMixin, db.Model):
    __tablename__ = "journeys"
    __table_args__ = (
        CheckConstraint("pin_minutes BETWEEN 1 AND 1440", name="pin_minutes_range"),
        CheckConstraint("pin_attempts BETWEEN 1 AND 20", name="pin_attempts_range"),
        CheckConstraint("resume_days BETWEEN 0 AND 90", name="resume_days_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), nullable=False)
    #: The journey's address: /f/<slug>.
    slug: Mapped[str] = mapped_column(String(60), unique=True, nullable=False)
    #: Off: the address shows a polite closed page; open sessions cannot go on.
    active: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)
    #: Every session appears in this staff user's history; a new lead is theirs.
    assigned_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    assigned_user: Mapped[User | None] = relationship()
    #: How long an emailed PIN is good for, and how many tries it allows.
    pin_minutes: Mapped[int] = mapped_column(Integer, default=10, nullable=False)
    pin_attempts: Mapped[int] = mapped_column(Integer, default=5, nullable=False)
    #: Sanitized rich text above the welcome form, and on the ending page ("Well done!" when
    #: empty).
    opening_html: Mapped[str] = mapped_column(Text, default="", nullable=False)
    closing_html: Mapped[str] = mapped_column(Text, default="", nullable=False)
    #: The ending page offers "Email me a copy" (the completion PDF).
    send_copy: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)
    #: Where the visitor goes after the ending page; only hosts on the allow-list setting.
    redirect_url: Mapped[str | None] = mapped_column(String(2000))
    #: Sites allowed to show the journey in a frame, one origin (https://host[:port]) a line.
    embed_origins: Mapped[str] = mapped_column(Text, default="", nullable=False)
    #: Days a visitor who left halfway can come back by their emailed link; 0: no resume.
    resume_days: Mapped[int] = mapped_column(Integer, default=7, nullable=False)
    #: Goes up whenever the journey or its steps change; sessions remember the version.
    version: Mapped[int] = mapped_column(Integer, default=1, nullable=False)

    steps: Mapped[list[JourneyStep]] = relationship(
        back_populates="journey",
        order_by="JourneyStep.position, JourneyStep.id",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )

    def __str__(self) -> str:
        return self.name


class JourneyStep(db.Model):
    __tablename__ = "journey_steps"

    id: Mapped[int] = mapped_column(primary_key=True)
    journey_id: Mapped[int] = mapped_column(
        ForeignKey("journeys.id", ondelete="CASCADE"), index=True, nullable=False
    )
    journey: Mapped[Journey] = relationship(back_populates="steps")
    position: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    kind: Mapped[StepKind] = mapped_column(str_enum(StepKind, 16), nullable=False)
    title: Mapped[str] = mapped_column(String(120), nullable=False)
    #: Plain text shown above the step.
    intro: Mapped[str] = mapped_column(Text, default="", nullable=False)
    #: A signature step's saved e-sign layout (one signer: the visitor).
    sign_template_id: Mapped[int | None] = mapped_column(
        ForeignKey("sign_templates.id", ondelete="RESTRICT"), index=True
    )
    sign_template: Mapped[SignTemplate | None] = relationship()
    fields: Mapped[list[JourneyField]] = relationship(
        back_populates="step",
        order_by="JourneyField.position, JourneyField.id",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )

    def __str__(self) -> str:
        return self.title


class JourneyField(db.Model):
    """A form step's question (a field type of app.services.field_types) or an upload step's
    slot (``field_type`` "file": "Front of driver's licence", required or not)."""

    __tablename__ = "journey_fields"

    id: Mapped[int] = mapped_column(primary_key=True)
    step_id: Mapped[int] = mapped_column(
        ForeignKey("journey_steps.id", ondelete="CASCADE"), index=True, nullable=False
    )
    step: Mapped[JourneyStep] = relationship(back_populates="fields")
    label: Mapped[str] = mapped_column(String(200), nullable=False)
    help_text: Mapped[str] = mapped_column(Text, default="", nullable=False)
    field_type: Mapped[str] = mapped_column(String(16), nullable=False)
    settings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, nullable=False)
    required: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    position: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    #: Archived rows are asked no more; sessions that started with them keep them.
    archived: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)

    def __str__(self) -> str:
        return self.label


class SessionStatus(LabelledEnum):
    #: Welcome form sent; the PIN is not entered yet.
    STARTED = "started", "Waiting for the PIN"
    #: PIN entered: going through the steps.
    IN_PROGRESS = "in_progress", "In progress"
    COMPLETED = "completed", "Completed"
    #: Left halfway for longer than the abandon delay (it can still be resumed while its
    #: resume link lives).
    ABANDONED = "abandoned", "Abandoned"


class JourneySession(db.Model):
    __tablename__ = "journey_sessions"
    __table_args__ = (
        Index("ix_journey_sessions_status_seen", "status", "last_seen_at"),
        Index("ix_journey_sessions_journey_started", "journey_id", "started_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    journey_id: Mapped[int] = mapped_column(
        ForeignKey("journeys.id", ondelete="CASCADE"), nullable=False
    )
    journey: Mapped[Journey] = relationship()
    #: The random id in the session's addresses; the browser that started (or resumed with a
    #: fresh PIN) holds it in its cookie too, so the id alone opens nothing.
    public_id: Mapped[str] = mapped_column(String(32), unique=True, nullable=False)
    #: The journey's version when the visitor started, and the copy of it they go through.
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    definition: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    email: Mapped[str] = mapped_column(String(255), index=True, nullable=False)
    status: Mapped[SessionStatus] = mapped_column(
        str_enum(SessionStatus, 16), default=SessionStatus.STARTED, nullable=False
    )
    #: The step reached (an index into the definition's steps; their count once all done).
    step_index: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    #: ``{step index (text): {question id (text): JSON value}}``.
    answers: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, nullable=False)
    #: The record the visitor's email matched (or the lead made for them), once the PIN is in.
    record_id: Mapped[int | None] = mapped_column(
        ForeignKey("records.id", ondelete="SET NULL"), index=True
    )
    record: Mapped[Record | None] = relationship()
    #: The signature step's request (one per session; a journey has at most one sign step
    #: per session's request at a time).
    sign_request_id: Mapped[int | None] = mapped_column(
        ForeignKey("sign_requests.id", ondelete="SET NULL")
    )
    sign_request: Mapped[SignRequest | None] = relationship()
    #: The sealed completion PDF, a document of the record.
    completion_document_id: Mapped[int | None] = mapped_column(
        ForeignKey("documents.id", ondelete="SET NULL")
    )
    completion_document: Mapped[Document | None] = relationship()
    #: SHA-256 of the emailed resume link's token, and how long it works.
    resume_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    resume_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resume_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    abandoned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    copy_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    ip: Mapped[str | None] = mapped_column(String(45))
    user_agent: Mapped[str | None] = mapped_column(String(400))
    #: The session's audit trail: ``[{"at": ISO time, "what": text, "ip": address}]``.
    trail: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list, nullable=False)

    uploads: Mapped[list[JourneyUpload]] = relationship(
        back_populates="session",
        order_by="JourneyUpload.id",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>"


class JourneyUpload(db.Model):
    """A file a visitor put in an upload step's slot: a document of the session's record."""

    __tablename__ = "journey_uploads"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(
        ForeignKey("journey_sessions.id", ondelete="CASCADE"), index=True, nullable=False
    )
    session: Mapped[JourneySession] = relationship(back_populates="uploads")
    step_index: Mapped[int] = mapped_column(Integer, nullable=False)
    #: The slot's JourneyField id as the session's definition has it, and its label.
    slot_id: Mapped[int] = mapped_column(Integer, nullable=False)
    label: Mapped[str] = mapped_column(String(200), nullable=False)
    document_id: Mapped[int | None] = mapped_column(
        ForeignKey("documents.id", ondelete="SET NULL"), index=True
    )
    document: Mapped[Document | None] = relationship()
    filename: Mapped[str] = mapped_column(String(160), nullable=False)
    size: Mapped[int] = mapped_column(BigInteger, nullable=False)
    sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)


class JourneyMilestone(db.Model):
    """One stage a session reached, once, for the funnel: ``started``, ``verified``,
    ``step:<index>`` (done), ``completed``, ``abandoned``."""

    __tablename__ = "journey_milestones"
    __table_args__ = (
        Index("uq_journey_milestones_session_stage", "session_id", "stage", unique=True),
        Index("ix_journey_milestones_journey_at", "journey_id", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    journey_id: Mapped[int] = mapped_column(
        ForeignKey("journeys.id", ondelete="CASCADE"), nullable=False
    )
    session_id: Mapped[int] = mapped_column(
        ForeignKey("journey_sessions.id", ondelete="CASCADE"), nullable=False
    )
    stage: Mapped[str] = mapped_column(String(24), nullable=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
