"""Staff users: creation with checked passwords, roles, and who counts as an agent."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask import current_app
from flask_security import hash_password
from sqlalchemy import Select, func, select

from app.services import sessions
from app.services.errors import ValidationError
from models import Role, StaffRole, User, db

ROLE_DESCRIPTIONS = {
    StaffRole.ADMIN: "Everything, including settings, templates, workflows and staff users.",
    StaffRole.AGENT: "Works leads and clients: records, products, contacts, tags and tasks.",
}


def _security() -> Any:
    return current_app.extensions["security"]


def ensure_roles() -> dict[str, Role]:
    """The two staff roles, created if missing (idempotent)."""
    existing: dict[str, Role] = {str(role.name): role for role in db.session.scalars(select(Role))}
    for role_name, description in ROLE_DESCRIPTIONS.items():
        if role_name.value not in existing:
            role = Role(name=role_name.value, description=description)
            db.session.add(role)
            existing[role_name.value] = role
    db.session.flush()
    return existing


def check_new_password(
    password: str, email: str | None = None, user_inputs: Iterable[str | None] = ()
) -> str:
    """The normalised password, or :class:`ValidationError` saying what is wrong with it
    (:func:`app.services.passwords.check_strength`, which knows the person's ``email`` and
    ``user_inputs`` such as names)."""
    words = [word for word in (email, *user_inputs) if word]
    problems, normalised = _security().password_util.validate(password, True, user_inputs=words)
    if problems:
        raise ValidationError(" ".join(str(problem) for problem in problems), field="password")
    return str(normalised)


def check_staff_email(email: str, *, exclude_user_id: int | None = None) -> str:
    try:
        normalised = _security().mail_util.validate(email)
    except ValueError as exc:
        raise ValidationError(f"Enter a valid email address ({exc}).", field="email") from None
    query: Select[int] = select(User.id).where(func.lower(User.email) == normalised.lower())
    if exclude_user_id is not None:
        query = query.where(User.id != exclude_user_id)
    with db.session.no_autoflush:  # the user being saved may already be in the session
        taken = db.session.scalar(query) is not None
    if taken:
        raise ValidationError("A staff user with this email address already exists.", field="email")
    return str(normalised)


def create_staff_user(
    email: str,
    password: str,
    role: str,
    first_name: str = "",
    last_name: str = "",
) -> User:
    """A new active staff user with one role; the password is checked and argon2-hashed."""
    if role not in {member.value for member in StaffRole}:
        raise ValidationError(f"Role must be admin or agent, not {role!r}.", field="role")
    email = check_staff_email(email)
    password = check_new_password(password, email=email, user_inputs=(first_name, last_name))
    roles = ensure_roles()
    datastore = _security().datastore
    user: User = datastore.create_user(
        email=email,
        password=hash_password(password),
        first_name=first_name.strip(),
        last_name=last_name.strip(),
        active=True,
        roles=[roles[role]],
    )
    db.session.flush()
    return user


def set_password(user: User, password: str) -> None:
    """A new password (set by an admin): every browser signed in as the user is signed out."""
    password = check_new_password(
        password, email=str(user.email), user_inputs=(user.first_name, user.last_name)
    )
    user.password = hash_password(password)  # type: ignore[assignment]
    sessions.end_all(user=user, reason=sessions.PASSWORD_CHANGED)


def set_role(user: User, role: str) -> None:
    """Give the user exactly this role (staff have one role each)."""
    roles = ensure_roles()
    if role not in roles:
        raise ValidationError(f"Role must be admin or agent, not {role!r}.", field="role")
    user.roles = [roles[role]]


def agents_query() -> Select[User]:
    """Active staff users who can own records, by name."""
    return select(User).filter_by(active=True).order_by(User.first_name, User.last_name, User.email)
