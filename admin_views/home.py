"""The staff dashboard."""

from __future__ import annotations

from flask_admin import AdminIndexView, expose
from flask_security import current_user

from admin_views.base import StaffAccessMixin
from admin_views.forms import local_datetime
from app.services import dashboard
from models import utcnow


class HomeView(StaffAccessMixin, AdminIndexView):
    """The staff dashboard at /admin/: the office in numbers and the signed-in person's tasks."""

    @expose("/")
    def index(self) -> str:
        return self.render(
            "admin/home.html",
            summary=dashboard.summary(),
            my_tasks=dashboard.open_tasks(current_user, limit=10),
            now=utcnow(),
            local_datetime=local_datetime,
        )
