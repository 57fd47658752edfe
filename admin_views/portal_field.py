"""Portal fields (admins): one page to decide every field clients see, and how."""

from __future__ import annotations

from flask import flash, redirect, request, url_for
from flask_admin import expose

from admin_views.base import ADMIN_ONLY, StaffView, plural
from app.services import builtin_fields, portal_fields
from app.services.errors import ValidationError
from app.transactions import attempt
from models import FieldMode


class PortalFieldView(StaffView):
    required_roles = ADMIN_ONLY

    @expose("/", methods=("GET", "POST"))
    def index(self):
        rows = portal_fields.config_rows()
        error_key = None
        if request.method == "POST":
            changes = []
            for row in rows:
                try:
                    position = int(request.form.get(f"{row.key}:position") or row.position)
                except ValueError:
                    position = row.position
                changes.append(
                    portal_fields.RowChange(
                        key=row.key,
                        label=request.form.get(f"{row.key}:label", row.label),
                        help_text=request.form.get(f"{row.key}:help_text", row.help_text),
                        section=request.form.get(f"{row.key}:section", row.section),
                        mode=request.form.get(f"{row.key}:mode", row.mode.value),
                        position=position,
                    )
                )
            try:
                with attempt():  # a row refused undoes the rows before it: all or nothing
                    changed = portal_fields.update_config(changes)
            except ValidationError as exc:
                flash(exc.message + " Nothing was saved.", "error")
                error_key = exc.field
                rows = portal_fields.config_rows()
            else:
                flash(
                    f"Saved {plural(changed, 'field')}. "
                    "The portal shows the change on the next page a client opens.",
                    "success",
                )
                return redirect(url_for(".index"))
        grouped = {
            section.key: [r for r in rows if r.section == section.key]
            for section in builtin_fields.SECTIONS
        }
        return self.render(
            "admin/portal_fields/index.html",
            grouped=grouped,
            sections=builtin_fields.SECTIONS,
            modes=list(FieldMode),
            builtin=builtin_fields.BUILTIN_BY_KEY,
            error_key=error_key,
        )

    @expose("/restore/", methods=("POST",))
    def restore(self):
        restored = portal_fields.restore_defaults()
        flash(
            "Restored the default label, section and mode of "
            f"{plural(len(restored), 'built-in field')}.",
            "success",
        )
        return redirect(url_for(".index"))
