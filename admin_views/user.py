"""Staff users and their role (admins only)."""

from __future__ import annotations

import typing as t
import uuid

from flask_security import current_user
from markupsafe import Markup
from wtforms import PasswordField, SelectField, validators

from admin_views.base import ADMIN_ONLY, StaffModelView, badge
from app.services import users as user_service
from app.services.errors import ValidationError
from models import StaffRole, User


def _roles(view: t.Any, context: t.Any, model: User, name: str) -> Markup:
    return Markup(" ").join(badge(role.name) for role in model.roles)


class UserView(StaffModelView):
    required_roles = ADMIN_ONLY
    column_list = ("email", "first_name", "last_name", "roles", "active", "last_login_at")
    column_labels = {"last_login_at": "Last sign-in"}
    column_default_sort = "email"
    column_searchable_list = ("email", "first_name", "last_name")
    column_formatters = {"roles": _roles}
    form_columns = (
        "email",
        "first_name",
        "last_name",
        "phone",
        "active",
        "role",
        "team",
        "new_password",
    )
    form_args = {
        "team": {
            "blank_text": "—",
            "description": "The team whose journey completion email this user's journeys send.",
        }
    }
    form_extra_fields = {
        "role": SelectField(
            "Role",
            choices=[(r.value, r.value.capitalize()) for r in StaffRole],
            validators=[validators.InputRequired()],
        ),
        "new_password": PasswordField(
            "Password",
            description="At least 10 characters. Leave empty to keep the current password.",
        ),
    }

    def on_form_prefill(self, form: t.Any, id: t.Any) -> None:
        user = self.get_one(id)
        if user is not None and user.roles:
            form.role.data = user.roles[0].name

    def on_model_change(self, form: t.Any, model: User, is_created: bool) -> None:
        # Flask-Security's user mixin declares its columns (email, id) untyped: Column, not
        # Mapped, so they read as Column[str] where the instance holds a str.
        user: t.Any = model
        if is_created:
            user.fs_uniquifier = uuid.uuid4().hex
        user.email = user_service.check_staff_email(
            user.email or "", exclude_user_id=None if is_created else user.id
        )
        if model.id == current_user.id and (not model.active or form.role.data != "admin"):
            raise ValidationError(
                "You cannot deactivate yourself or take away your own admin role.", field="role"
            )
        password = form.new_password.data
        if is_created and not password:
            raise ValidationError("Set a password for the new user.", field="new_password")
        if password:
            try:
                user_service.set_password(model, password)
            except ValidationError as exc:
                raise ValidationError(exc.message, field="new_password") from None
        user_service.set_role(model, form.role.data)

    def on_model_delete(self, model: User) -> None:
        if model.id == current_user.id:
            raise ValidationError("You cannot delete your own account.")
