"""Portal settings (admins): one page, one row."""

from __future__ import annotations

import typing as t

from flask import redirect, url_for
from flask_admin import expose
from wtforms import BooleanField, FileField

from admin_views.base import ADMIN_ONLY, StaffModelView
from app.services import portal_settings as settings_service
from models import PortalSettings


class PortalSettingsView(StaffModelView):
    noun = "Portal settings"
    required_roles = ADMIN_ONLY
    can_create = False
    can_delete = False
    form_columns = (
        "portal_name",
        "banner_html",
        "office_email",
        "office_phone",
        "allow_link_sign_in",
        "allow_password_sign_in",
        "allow_email_code_sign_in",
        "allow_sms_code_sign_in",
        "link_by_sms_when_preferred",
        "code_valid_minutes",
        "code_max_attempts",
        "lockout_failures",
        "lockout_minutes",
        "session_idle_minutes",
        "invitation_valid_days",
        *settings_service.BUILT_MODULES,  # modules not built yet have no switch
        "review_task_threshold",
        "brand_colour",
        "logo_upload",
        "remove_logo",
    )
    form_extra_fields = {
        "logo_upload": FileField(
            "Logo",
            description="PNG, JPEG, WebP or GIF, up to 1 MB. Shown at the top of every "
            "portal page.",
        ),
        "remove_logo": BooleanField("Remove the current logo"),
    }
    form_args = {
        "banner_html": {
            "label": "Banner message",
            "description": "Shown on every portal page. Simple formatting and links "
            "are kept; anything else is removed.",
        },
        "office_email": {
            "description": "Gets staff notifications for records without an "
            "agent, and replies from clients."
        },
        "allow_link_sign_in": {"label": "Sign in with the personal link and password"},
        "allow_password_sign_in": {"label": "Sign in with email address and password"},
        "allow_email_code_sign_in": {"label": "Sign in with a code sent by email"},
        "allow_sms_code_sign_in": {"label": "Sign in with a code sent by text message"},
        "link_by_sms_when_preferred": {
            "label": "Send the portal link by text when the client "
            "prefers texts (the password still goes by email)"
        },
        "code_valid_minutes": {"label": "Sign-in codes are valid for (minutes)"},
        "code_max_attempts": {"label": "Tries per sign-in code"},
        "lockout_failures": {"label": "Failed sign-ins before sign-in pauses"},
        "lockout_minutes": {"label": "Pause length (minutes)"},
        "session_idle_minutes": {"label": "Sign clients out after inactivity (minutes)"},
        "invitation_valid_days": {"label": "Invitations are valid for (days)"},
        **{module.field: {"label": module.label} for module in settings_service.MODULES},
        "review_task_threshold": {
            "label": "Follow-up task for reviews rated at or below",
            "description": "A review with this many stars or fewer makes a task for the "
            "client's agent, with the comment in it (0: never).",
        },
        "brand_colour": {
            "label": "Brand colour",
            "description": "Header and buttons of the portal, as #rrggbb.",
        },
    }
    form_widget_args = {"banner_html": {"rows": 3}, "brand_colour": {"type": "color"}}

    @expose("/")
    def index_view(self):
        settings = settings_service.get_settings()  # made with defaults on first use
        return redirect(url_for(".edit_view", id=settings.id))

    def on_model_change(self, form: t.Any, model: PortalSettings, is_created: bool) -> None:
        upload = form.logo_upload.data
        logo = None
        if upload is not None and getattr(upload, "filename", None):
            logo = upload.read(settings_service.LOGO_MAX_BYTES + 1)
        settings_service.save_settings(model, logo=logo, remove_logo=bool(form.remove_logo.data))

    def get_save_return_url(self, model: t.Any, is_created: bool = False) -> str:
        return url_for(".edit_view", id=model.id)
