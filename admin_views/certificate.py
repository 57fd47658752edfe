"""Certificates of insurance for staff: every record's certificate masters (filtered by shared
and by record), a master's new and edit forms, *Client Center: Enabled / Disabled*, delete,
and the download of an issued certificate. The record page's tab is admin_views.certificate_tab;
every decision is the certificate masters' service's: these routes parse, call it and render."""

from __future__ import annotations

import typing as t

from flask import abort, flash, redirect, request
from flask_admin import expose
from flask_admin.contrib.sqla.filters import BooleanEqualFilter
from flask_security import current_user
from flask_wtf import FlaskForm
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload
from werkzeug.wrappers import Response
from wtforms import SelectMultipleField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from admin_views.base import (
    StaffModelView,
    badge,
    int_ids,
    local_datetime,
    record_link,
    record_or_404,
)
from admin_views.certificate_tab import UNDERSTOOD, certificates_tab, policy_label
from admin_views.filters import IntIs
from admin_views.product_limits import ProductLimitsRoutes
from app import transactions
from app.services import documents
from app.services.actors import Actor
from app.services.certificates import masters
from app.services.errors import NotFound, ValidationError
from app.services.field_types import check_form_text
from models import (
    Certificate,
    CertificateMaster,
    Product,
    Record,
    RecordKind,
    StaffRole,
    db,
)

#: A service's name for a field, where the form calls it something else.
FIELD_ALIASES = {"description_of_operations": "description", "products": "policies"}


class MasterForm(FlaskForm):
    """A certificate master: its name, the record's policies it covers, the description of
    operations printed on each certificate."""

    name = StringField(
        "Name",
        validators=[InputRequired("Give the certificate a name."), Length(max=masters.MAX_NAME)],
        render_kw={"maxlength": masters.MAX_NAME},
    )
    #: Matched against products in the view; the service refuses another record's.
    policies = SelectMultipleField("Policies", choices=[], validate_choice=False)
    description = TextAreaField(
        "Description of operations",
        validators=[Optional(), Length(max=masters.MAX_DESCRIPTION)],
        render_kw={"rows": 5, "maxlength": masters.MAX_DESCRIPTION},
    )

    def validate(self, extra_validators: t.Any = None) -> bool:
        valid = super().validate(extra_validators)
        return check_form_text(self) and valid


def _set_error(form: FlaskForm, exc: ValidationError) -> str | None:
    """Put a service's refusal on its field; what has no field is returned for the top."""
    name = FIELD_ALIASES.get(exc.field or "", exc.field or "")
    if name and name in form:
        form[name].errors = [*form[name].errors, exc.message]
        return None
    return exc.message


def _chosen_policies(form: MasterForm) -> list[Product]:
    """The products posted, whichever record they belong to: the service decides."""
    ids = int_ids(form.policies.data or [])
    if not ids:
        return []
    return list(db.session.scalars(select(Product).where(Product.id.in_(ids))))


def _name(view: t.Any, context: t.Any, model: CertificateMaster, name: str) -> Markup:
    return Markup('<a href="{}">{}</a>').format(certificates_tab(model.record_id), model.name)


def _shared(view: t.Any, context: t.Any, model: CertificateMaster, name: str) -> Markup:
    if model.shared:
        return badge("Enabled", "#28a745")
    return badge("Disabled", "#6c757d")


def _policies(view: t.Any, context: t.Any, model: CertificateMaster, name: str) -> Markup:
    return Markup("<br>").join(policy_label(p) for p in model.policies)


class CertificateView(ProductLimitsRoutes, StaffModelView):
    """Every record's certificate masters, newest first; their forms and actions; a
    policy's limits page."""

    noun = "Certificate"
    can_create = False
    can_edit = False
    #: Deleted from the record's tab, one at a time, through the service.
    delete_roles: tuple[str, ...] = ()
    column_list = ("name", "record", "policies", "shared", "holders", "created_at")
    column_labels = {"shared": "Client Center", "created_at": "Created"}
    column_sortable_list = ("name", "shared", "created_at")
    column_default_sort = [("created_at", True), ("id", True)]
    column_searchable_list = ("name",)
    column_formatters = {
        "name": _name,
        "record": record_link,
        "policies": _policies,
        "shared": _shared,
        "holders": lambda v, c, m, n: str(len(m.holders)),
        "created_at": lambda v, c, m, n: local_datetime(m.created_at),
    }
    column_filters = (
        BooleanEqualFilter(CertificateMaster.shared, "Shared"),
        IntIs(CertificateMaster.record_id, "Record"),
    )

    def get_query(self) -> t.Any:
        return (
            super()
            .get_query()
            .options(
                joinedload(CertificateMaster.record),
                selectinload(CertificateMaster.policies),
                selectinload(CertificateMaster.holders),
            )
        )

    # -- one master, through its own record ------------------------------------------------

    _record = staticmethod(record_or_404)

    def _master(self, record_id: int, master_id: int) -> CertificateMaster:
        try:
            master = masters.get_for_staff(master_id)
        except NotFound:
            abort(404)
        if master.record_id != record_id:
            abort(404)
        return master

    def _render_form(
        self, record: Record, form: MasterForm, master: CertificateMaster | None, top: str | None
    ) -> t.Any:
        return self.render(
            "admin/certificates/master.html",
            record=record,
            form=form,
            master=master,
            products=sorted(record.products, key=lambda p: (p.carrier or "", p.id)),
            chosen=set(int_ids(form.policies.data or [])),
            policy_label=policy_label,
            top_error=top,
            back=certificates_tab(record.id),
        )

    @expose("/record/<int:record_id>/new/", methods=("GET", "POST"))
    def new_master(self, record_id: int) -> t.Any:
        record = self._record(record_id)
        if record.kind != RecordKind.CLIENT:
            flash("Certificates of insurance are for clients.", "error")
            return redirect(certificates_tab(record.id))
        form = MasterForm()
        top = None
        if form.validate_on_submit():
            try:
                with transactions.attempt():
                    master = masters.create(
                        record,
                        actor=Actor.staff(current_user),
                        name=(form.name.data or "").strip(),
                        policies=_chosen_policies(form),
                        description=form.description.data or "",
                    )
            except ValidationError as exc:
                top = _set_error(form, exc)
            else:
                flash(f"Certificate “{master.name}” created.", "success")
                return redirect(certificates_tab(record.id))
        return self._render_form(record, form, None, top)

    @expose("/record/<int:record_id>/<int:master_id>/edit/", methods=("GET", "POST"))
    def edit_master(self, record_id: int, master_id: int) -> t.Any:
        master = self._master(record_id, master_id)
        record = master.record
        form = MasterForm()
        if request.method == "GET":
            form.name.data = master.name
            form.policies.data = [str(p.id) for p in master.policies]
            form.description.data = master.description_of_operations
        top = None
        if form.validate_on_submit():
            try:
                with transactions.attempt():
                    masters.edit(
                        master,
                        actor=Actor.staff(current_user),
                        name=(form.name.data or "").strip(),
                        policies=_chosen_policies(form),
                        description=form.description.data or "",
                    )
            except ValidationError as exc:
                top = _set_error(form, exc)
            else:
                flash(f"Certificate “{master.name}” saved.", "success")
                return redirect(certificates_tab(record.id))
        return self._render_form(record, form, master, top)

    @expose("/record/<int:record_id>/<int:master_id>/delete/", methods=("POST",))
    def delete_master(self, record_id: int, master_id: int) -> Response:
        if not current_user.has_role(StaffRole.ADMIN.value):
            abort(403)  # as every delete in the panel: admins only
        master = self._master(record_id, master_id)
        name = master.name
        try:
            with transactions.attempt():
                masters.delete(master)
        except ValidationError as exc:
            flash(exc.message, "error")
        else:
            flash(f"Certificate “{name}” deleted.", "success")
        return redirect(certificates_tab(record_id))

    @expose("/record/<int:record_id>/<int:master_id>/share/", methods=("POST",))
    def share(self, record_id: int, master_id: int) -> Response:
        master = self._master(record_id, master_id)
        understood = request.form.get("understood") in ("1", "y", "on", "yes")
        try:
            with transactions.attempt():
                masters.share(master, actor=Actor.staff(current_user), understood=understood)
        except ValidationError as exc:
            flash(exc.message, "error")
        else:
            flash(
                f"Client Center enabled for “{master.name}”: the client can add certificate "
                "holders.",
                "success",
            )
        return redirect(certificates_tab(record_id))

    @expose("/record/<int:record_id>/<int:master_id>/unshare/", methods=("POST",))
    def unshare(self, record_id: int, master_id: int) -> Response:
        master = self._master(record_id, master_id)
        try:
            with transactions.attempt():
                masters.unshare(master, actor=Actor.staff(current_user))
        except ValidationError as exc:
            flash(exc.message, "error")
        else:
            flash(f"Client Center disabled for “{master.name}”.", "success")
        return redirect(certificates_tab(record_id))

    @expose("/issued/<int:certificate_id>/download/")
    def download(self, certificate_id: int) -> Response:
        """An issued certificate's sealed PDF, logged in its document's history."""
        certificate = db.session.get(Certificate, certificate_id)
        if certificate is None or certificate.document is None:
            abort(404)
        try:
            return documents.staff_download(certificate.document, Actor.staff(current_user))
        except NotFound:
            abort(404)


__all__ = ["UNDERSTOOD", "CertificateView", "MasterForm"]
