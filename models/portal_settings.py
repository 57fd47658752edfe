"""The portal's settings: one row, edited by admins."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import TimestampMixin, UTCDateTime, db


class PortalSettings(TimestampMixin, db.Model):
    __tablename__ = "portal_settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    portal_name: Mapped[str] = mapped_column(String(120), default="Client portal", nullable=False)
    #: Shown at the top of every portal page; sanitized HTML.
    banner_html: Mapped[str] = mapped_column(Text, default="", nullable=False)
    #: Where staff notifications go when a record has no assigned agent, and the reply address.
    office_email: Mapped[str | None] = mapped_column(String(255))
    office_phone: Mapped[str | None] = mapped_column(String(32))

    #: Sign-in with the personal link and password.
    allow_link_sign_in: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)
    #: Sign-in with email address and password.
    allow_password_sign_in: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)
    #: Sign-in with a one-time code sent by email.
    allow_email_code_sign_in: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)
    #: Sign-in with a one-time code sent by text message.
    allow_sms_code_sign_in: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)
    #: Send the portal link by text when the record prefers texts and has a mobile number.
    link_by_sms_when_preferred: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)

    code_valid_minutes: Mapped[int] = mapped_column(Integer, default=10, nullable=False)
    code_max_attempts: Mapped[int] = mapped_column(Integer, default=5, nullable=False)
    lockout_failures: Mapped[int] = mapped_column(Integer, default=5, nullable=False)
    lockout_minutes: Mapped[int] = mapped_column(Integer, default=15, nullable=False)
    session_idle_minutes: Mapped[int] = mapped_column(Integer, default=30, nullable=False)
    invitation_valid_days: Mapped[int] = mapped_column(Integer, default=7, nullable=False)

    #: Modules clients see in the portal.
    module_rx: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)
    module_providers: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)
    module_reviews: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    module_uploads: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    module_certificates: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    #: A review rated at or below this makes a follow-up task for the agent (0: never).
    review_task_threshold: Mapped[int] = mapped_column(Integer, default=2, nullable=False)

    #: Branding: a colour for the portal's header and buttons, and a logo.
    brand_colour: Mapped[str] = mapped_column(String(7), default="#1a5d96", nullable=False)
    logo_file: Mapped[str | None] = mapped_column(String(120))
    logo_updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
