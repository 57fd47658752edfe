"""Reviews (staff): every client's rating and comment, filterable by rating, record and date,
with the average and the last six months' trend above the list; and *Request review* from a
record's page."""

from __future__ import annotations

import typing as t

from flask import abort, flash, redirect, url_for
from flask_admin import expose
from flask_security import current_user
from markupsafe import Markup
from sqlalchemy.orm import joinedload
from werkzeug.wrappers import Response

from admin_views.base import StaffModelView, record_link
from admin_views.filters import IntChoice, IntIs, OfficeDayBetween
from app import transactions
from app.services import reviews
from app.services.errors import ValidationError
from app.services.portal_settings import module_enabled
from models import PortalAccount, Record, Review, db


def _ratings() -> list[tuple[int, str]]:
    return [(value, f"{value} out of {reviews.HIGHEST}") for value in range(1, 6)]


def _stars(view: t.Any, context: t.Any, model: Review, name: str) -> Markup:
    return Markup('<span title="{} out of {}">{}</span>').format(
        model.rating, reviews.HIGHEST, "★" * model.rating + "☆" * (reviews.HIGHEST - model.rating)
    )


def _who(view: t.Any, context: t.Any, model: Review, name: str) -> str:
    return model.account.person_name if model.account is not None else ""


def _asked(view: t.Any, context: t.Any, model: Review, name: str) -> str:
    return "Requested" if model.review_request_id else "Unasked"


class ReviewView(StaffModelView):
    """Read-only: a client's review is theirs; admins may delete one."""

    noun = "Review"
    list_template = "admin/review/list.html"
    can_create = False
    can_edit = False
    can_view_details = True
    can_export = True
    export_types = ["csv"]
    column_list = ("created_at", "record", "rating", "comment", "account", "review_request_id")
    column_details_list = column_list
    column_labels = {
        "created_at": "When",
        "account": "By",
        "review_request_id": "Asked?",
    }
    column_default_sort = ("created_at", True)
    column_sortable_list = ("created_at", "rating")
    column_searchable_list = ("comment",)
    column_formatters = {
        "record": record_link,
        "rating": _stars,
        "account": _who,
        "review_request_id": _asked,
    }
    column_formatters_export = {
        "record": lambda v, c, m, n: m.record.display_name,
        "account": _who,
        "review_request_id": _asked,
    }
    column_filters = (
        IntChoice(Review.rating, "Rating", _ratings),
        IntIs(Review.record_id, "Record"),
        OfficeDayBetween(Review.created_at, "Date"),
    )

    def get_query(self) -> t.Any:
        return (
            super()
            .get_query()
            .options(
                joinedload(Review.record),
                # Who answered: the contact's name, or the record's for the primary applicant.
                joinedload(Review.account).joinedload(PortalAccount.contact),
                joinedload(Review.account).joinedload(PortalAccount.record),
            )
        )

    def render(self, template: str, **kwargs: t.Any) -> t.Any:
        if template == self.list_template:
            kwargs["review_average"], kwargs["review_count"] = reviews.average()
            kwargs["review_trend"] = reviews.trend()
        return super().render(template, **kwargs)

    def create_blueprint(self, admin: t.Any) -> t.Any:
        blueprint = super().create_blueprint(admin)

        # The record's Portal tab offers Request review only while the portal has the page.
        @blueprint.app_template_global()
        def reviews_module_on() -> bool:
            return module_enabled(reviews.MODULE)

        return blueprint

    @expose("/request/<int:record_id>/", methods=("POST",))
    def request_review(self, record_id: int) -> Response:
        record = db.session.get(Record, record_id)
        if record is None:
            abort(404)
        try:
            with transactions.attempt():
                reviews.request_review(record, current_user)
        except ValidationError as exc:
            flash(exc.message, "error")
        else:
            flash(f"Review requested: {record.display_name} was emailed a link to rate.", "success")
        return redirect(url_for("record.details_view", id=record_id) + "#portal")
