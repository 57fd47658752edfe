"""Staff users and their roles (Flask-Security-Too's fsqla v3 models)."""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING

from flask_security.models import fsqla_v3 as fsqla
from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import db

if TYPE_CHECKING:
    from models.journey import Team

fsqla.FsModels.set_db_info(db, user_table_name="users", role_table_name="roles")


class StaffRole(enum.StrEnum):
    """The two staff roles; ``admin`` sees everything, ``agent`` works records."""

    ADMIN = "admin"
    AGENT = "agent"


class Role(db.Model, fsqla.FsRoleMixin):
    __tablename__ = "roles"

    def __str__(self) -> str:
        return self.name


class User(db.Model, fsqla.FsUserMixin):
    """A staff member: signs in at /admin/, owns records and tasks."""

    __tablename__ = "users"

    first_name: Mapped[str] = mapped_column(String(80), default="", nullable=False)
    last_name: Mapped[str] = mapped_column(String(80), default="", nullable=False)
    phone: Mapped[str | None] = mapped_column(String(32))
    #: The team whose journey completion email this user's journeys send.
    team_id: Mapped[int | None] = mapped_column(
        ForeignKey("teams.id", ondelete="SET NULL"), index=True
    )
    team: Mapped[Team | None] = relationship(back_populates="members")

    @property
    def full_name(self) -> str:
        name = f"{self.first_name} {self.last_name}".strip()
        return name or self.email

    @property
    def is_admin(self) -> bool:
        return self.has_role(StaffRole.ADMIN.value)

    def __str__(self) -> str:
        return self.full_name


class WebAuthn(db.Model, fsqla.FsWebAuthnMixin):
    """Required by the fsqla v3 user model even while WebAuthn sign-in is off."""

    __tablename__ = "webauthn"
