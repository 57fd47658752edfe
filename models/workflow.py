"""Automated workflows: who they are for, what starts them, and their ordered actions."""

from __future__ import annotations

from datetime import time
from typing import TYPE_CHECKING

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, Time
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import LabelledEnum, TimestampMixin, db, str_enum
from models.product import ProductStatus

if TYPE_CHECKING:
    from models.journey import Journey
    from models.product import CoverageType
    from models.sign_request import SignTemplate
    from models.tag import Tag
    from models.user import User


class DelayUnit(LabelledEnum):
    MINUTES = "minutes", "minutes"
    HOURS = "hours", "hours"
    DAYS = "days", "days"
    WEEKS = "weeks", "weeks"
    MONTHS = "months", "months"
    YEARS = "years", "years"


class ActionKind(LabelledEnum):
    """What a workflow action does. Each member has one class in the registry of workflow
    actions (app.services.workflows.actions): its settings, their checks, its wording and its
    effect. Stored with a CHECK of the values, so a new member needs a migration too."""

    ENABLE_SELF_SERVICE = "enable_self_service", "Enable self service"
    SEND_EMAIL = "send_email", "Send email"
    SEND_SMS = "send_sms", "Send text message"
    CREATE_TASK = "create_task", "Create task"
    CREATE_CALL = "create_call", "Create call task"
    ADD_TAG = "add_tag", "Add tag"
    REMOVE_TAG = "remove_tag", "Remove tag"
    SEND_SIGN_REQUEST = "send_sign_request", "Send sign request"


class ActionTarget(LabelledEnum):
    RECORD = "record", "The record"
    AGENT = "agent", "Its assigned agent"
    STAFF = "staff", "A chosen staff member"


class Workflow(TimestampMixin, db.Model):
    __tablename__ = "workflows"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), nullable=False)
    active: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    for_leads: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)
    for_clients: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)
    #: Conditions, all of which must hold (unset ones are ignored). The two product
    #: conditions are about the same product.
    product_status: Mapped[ProductStatus | None] = mapped_column(str_enum(ProductStatus, 16))
    coverage_type_id: Mapped[int | None] = mapped_column(
        ForeignKey("coverage_types.id", ondelete="RESTRICT")
    )
    coverage_type: Mapped[CoverageType | None] = relationship()
    tag_id: Mapped[int | None] = mapped_column(ForeignKey("tags.id", ondelete="RESTRICT"))
    tag: Mapped[Tag | None] = relationship()
    #: Start when a record is created (with the other conditions holding then).
    on_record_created: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    #: Start when a record completes this journey (with the other conditions holding then).
    journey_id: Mapped[int | None] = mapped_column(
        ForeignKey("journeys.id", ondelete="RESTRICT"), index=True
    )
    journey: Mapped[Journey | None] = relationship()
    #: Each action re-checks the conditions when it fires; a record that stops matching
    #: has its remaining actions cancelled.
    stop_when_unmatched: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)
    #: Sending window in the office's time zone; weekdays as digits, 0 = Monday ("01234").
    window_days: Mapped[str | None] = mapped_column(String(7))
    window_start: Mapped[time | None] = mapped_column(Time)
    window_end: Mapped[time | None] = mapped_column(Time)
    description: Mapped[str | None] = mapped_column(Text)
    #: Goes up whenever the actions change; runs remember the version they started with.
    version: Mapped[int] = mapped_column(Integer, default=1, nullable=False)

    actions: Mapped[list[WorkflowAction]] = relationship(
        back_populates="workflow",
        cascade="all, delete-orphan",
        order_by="WorkflowAction.position",
    )

    def __str__(self) -> str:
        return self.name


class WorkflowAction(db.Model):
    __tablename__ = "workflow_actions"

    id: Mapped[int] = mapped_column(primary_key=True)
    workflow_id: Mapped[int] = mapped_column(
        ForeignKey("workflows.id", ondelete="CASCADE"), index=True, nullable=False
    )
    workflow: Mapped[Workflow] = relationship(back_populates="actions")
    position: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    #: Counted from the start of the run.
    delay_amount: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    delay_unit: Mapped[DelayUnit] = mapped_column(
        str_enum(DelayUnit, 16), default=DelayUnit.MINUTES, nullable=False
    )
    kind: Mapped[ActionKind] = mapped_column(str_enum(ActionKind, 24), nullable=False)
    target: Mapped[ActionTarget] = mapped_column(
        str_enum(ActionTarget, 16), default=ActionTarget.RECORD, nullable=False
    )
    staff_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    staff_user: Mapped[User | None] = relationship()
    #: Email or SMS template key.
    template_key: Mapped[str | None] = mapped_column(String(80))
    tag_id: Mapped[int | None] = mapped_column(ForeignKey("tags.id", ondelete="SET NULL"))
    tag: Mapped[Tag | None] = relationship()
    #: Title of the task or call (may use {{ record.full_name }} and the like).
    task_title: Mapped[str | None] = mapped_column(String(200))
    #: The saved sign request (layout and PDF) that "Send sign request" sends.
    sign_template_id: Mapped[int | None] = mapped_column(
        ForeignKey("sign_templates.id", ondelete="SET NULL")
    )
    sign_template: Mapped[SignTemplate | None] = relationship()

    def __str__(self) -> str:
        return f"{self.kind.label} after {self.delay_amount} {self.delay_unit.label}"
