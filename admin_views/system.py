"""System (admins): how the background work is doing, as /healthz reports it."""

from __future__ import annotations

import typing as t

from flask_admin import expose

from admin_views.base import ADMIN_ONLY, StaffView, local_datetime
from app.services import system


class SystemView(StaffView):
    required_roles = ADMIN_ONLY

    @expose("/")
    def index(self) -> t.Any:
        status = system.queue_status()
        return self.render(
            "admin/system.html",
            status=status,
            late_after=int(system.LATE_AFTER.total_seconds()),
            when=local_datetime,
        )
