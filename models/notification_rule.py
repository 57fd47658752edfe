"""Per event, who hears about it: the office admin's notification matrix."""

from __future__ import annotations

from sqlalchemy import Boolean, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from models.base import TimestampMixin, db


class NotificationRule(TimestampMixin, db.Model):
    __tablename__ = "notification_rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_key: Mapped[str] = mapped_column(String(80), unique=True, nullable=False)
    #: Email the record's assigned agent (or the office address when nobody is assigned).
    agent_email: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    #: Email (or text, when they prefer it) the client who acted, or the record's client.
    customer_email: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    #: Email the primary applicant when a co-applicant or contact person acted.
    primary_applicant_email: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    #: Create a task for the record's agent.
    create_task: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    #: Write an entry in the record's activity log.
    log_activity: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)
    agent_template_key: Mapped[str] = mapped_column(String(80), nullable=False)
    customer_template_key: Mapped[str] = mapped_column(String(80), nullable=False)
    customer_sms_template_key: Mapped[str] = mapped_column(String(80), nullable=False)
    primary_template_key: Mapped[str] = mapped_column(String(80), nullable=False)
    #: Hours from the event to the task's due time.
    task_due_hours: Mapped[int] = mapped_column(Integer, default=24, nullable=False)
