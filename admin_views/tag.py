"""The tag list (admins keep it; everyone tags records)."""

from __future__ import annotations

import typing as t

from markupsafe import Markup

from admin_views.base import ADMIN_ONLY, StaffModelView, badge
from app.services import tags as tag_service
from app.services.validation import check_colour
from models import Tag


def _badge(view: t.Any, context: t.Any, model: Tag, name: str) -> Markup:
    return badge(model.name, model.colour)


class TagView(StaffModelView):
    required_roles = ADMIN_ONLY
    column_list = ("name", "description", "created_at")
    column_default_sort = "name"
    column_searchable_list = ("name",)
    column_formatters = {"name": _badge}
    form_columns = ("name", "colour", "description")
    form_args = {"colour": {"description": "Badge colour as #rrggbb."}}
    form_widget_args = {"colour": {"type": "color"}, "description": {"rows": 3}}

    def on_model_change(self, form: t.Any, model: Tag, is_created: bool) -> None:
        model.name = tag_service.check_tag_name(
            model.name, exclude_tag_id=None if is_created else model.id
        )
        model.colour = check_colour(model.colour)

    def on_model_delete(self, model: Tag) -> None:
        tag_service.check_removable(model)
