"""Products and policies, and the coverage types admins keep."""

from __future__ import annotations

import typing as t

from flask import request
from flask_admin.contrib.sqla.filters import DateBetweenFilter
from flask_security import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from admin_views.base import ADMIN_ONLY, RECORD_LOOKUP, StaffModelView, record_link
from admin_views.filters import EnumChoice, IntChoice, coverage_type_options
from app import transactions
from app.services import events
from app.services import products as product_service
from app.services.errors import ValidationError
from models import CoverageType, Product, ProductStatus, Record, db


class ProductView(StaffModelView):
    can_export = True
    export_types = ["csv"]
    column_list = (
        "record",
        "carrier",
        "plan_name",
        "coverage_type",
        "status",
        "policy_number",
        "effective_date",
        "end_date",
        "premium",
        "client_access",
    )
    column_labels = {
        "record": "Record",
        "plan_name": "Plan",
        "client_access": "Shared",
        "effective_date": "Effective",
        "end_date": "Ends",
    }
    column_sortable_list = (
        "carrier",
        "plan_name",
        ("coverage_type", "coverage_type.name"),
        "status",
        "effective_date",
        "end_date",
        "premium",
    )
    column_default_sort = ("id", True)
    column_searchable_list = ("carrier", "plan_name", "policy_number")
    column_formatters = {"record": record_link}
    column_formatters_export = {"record": lambda v, c, m, n: m.record.display_name}
    column_filters = (
        EnumChoice(Product.status, "Status", ProductStatus),
        IntChoice(Product.coverage_type_id, "Coverage type", coverage_type_options),
        DateBetweenFilter(Product.effective_date, "Effective"),
        DateBetweenFilter(Product.end_date, "Ends"),
    )
    form_columns = (
        "record",
        "carrier",
        "plan_name",
        "coverage_type",
        "status",
        "policy_number",
        "effective_date",
        "end_date",
        "premium",
        "client_access",
        "notes",
    )
    form_ajax_refs = {"record": RECORD_LOOKUP}
    form_args = {
        "coverage_type": {
            "query_factory": lambda: db.session.scalars(
                select(CoverageType)
                .where(CoverageType.active.is_(True))
                .order_by(CoverageType.name)
            ).all()
        },
        "client_access": {"label": "Show to the client in the portal"},
        "premium": {"description": "Per year."},
    }

    def get_query(self) -> t.Any:
        return (
            super()
            .get_query()
            .options(joinedload(Product.record), joinedload(Product.coverage_type))
        )

    def create_form(self, obj: t.Any = None) -> t.Any:
        form = super().create_form(obj)
        record_id = request.args.get("record_id", type=int)
        if request.method == "GET" and record_id:
            form.record.data = db.session.get(Record, record_id)
        return form

    def on_model_change(self, form: t.Any, model: Product, is_created: bool) -> None:
        product_service.save(model, created=is_created, actor=events.Actor.staff(current_user))

    def delete_model(self, model: Product) -> bool:
        """One call instead of Flask-Admin's delete and hooks: the product's record and its
        workflows follow the product out. The request commits."""
        try:
            with transactions.attempt():
                product_service.remove(model, actor=events.Actor.staff(current_user))
        except Exception as exc:
            self.handle_view_exception(exc)
            return False
        return True


class CoverageTypeView(StaffModelView):
    required_roles = ADMIN_ONLY
    column_list = ("name", "active")
    column_default_sort = "name"
    form_columns = ("name", "active")

    def on_model_change(self, form: t.Any, model: CoverageType, is_created: bool) -> None:
        model.name = product_service.check_coverage_type_name(
            model.name, exclude_id=None if is_created else model.id
        )

    def on_model_delete(self, model: CoverageType) -> None:
        if product_service.coverage_type_in_use(model):
            raise ValidationError(
                f"{model.name} is used by products; untick Active instead of deleting it."
            )
