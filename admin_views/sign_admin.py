"""E-signature's settings and tools: saved layouts (admins rename and delete them; staff use
them from a record's New sign request), the Electronic Record and Signature Disclosure
(admins publish a new version; each signer's consent names the version they read), and the
Verify a signed PDF page (any staff member: is this file ours and unchanged?)."""

from __future__ import annotations

import typing as t

from flask import abort, flash, redirect, request, url_for
from flask_admin import expose
from flask_security import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from sqlalchemy import select
from werkzeug.wrappers import Response
from wtforms import StringField, TextAreaField
from wtforms.validators import InputRequired, Length

from admin_views.base import ADMIN_ONLY, StaffView, local_datetime
from app import transactions
from app.errors import takes_documents
from app.services import documents
from app.services.actors import Actor
from app.services.errors import ValidationError
from app.services.field_types import check_form_text
from app.services.signing import completion, disclosures, saved_layouts
from models import SignTemplate, db


class _CheckedForm(FlaskForm):
    def validate(self, extra_validators: t.Any = None) -> bool:
        valid = super().validate(extra_validators)
        return check_form_text(self) and valid


class RenameLayoutForm(_CheckedForm):
    name = StringField(
        "Name", validators=[InputRequired("Give the layout a name."), Length(max=120)]
    )


class DisclosureForm(_CheckedForm):
    text = TextAreaField("New version", validators=[InputRequired("Write the disclosure's text.")])


class VerifyForm(FlaskForm):
    file = FileField("Signed PDF")


class SignLayoutView(StaffView):
    """Saved layouts ("Broker of record letter"): a PDF with its fields, by signer part."""

    required_roles = ADMIN_ONLY

    def _layout(self, layout_id: int) -> SignTemplate:
        layout = db.session.get(SignTemplate, layout_id)
        if layout is None:
            abort(404)
        return layout

    @expose("/")
    def index(self) -> t.Any:
        layouts = list(db.session.scalars(select(SignTemplate).order_by(SignTemplate.name)))
        return self.render(
            "admin/sign/layouts.html",
            layouts=layouts,
            form=RenameLayoutForm(),
            local_datetime=local_datetime,
        )

    @expose("/<int:layout_id>/rename/", methods=("POST",))
    def rename(self, layout_id: int) -> Response:
        layout = self._layout(layout_id)
        form = RenameLayoutForm()
        if not form.validate_on_submit():
            flash(" ".join(e for errors in form.errors.values() for e in errors), "error")
            return redirect(url_for(".index"))
        try:
            with transactions.attempt():
                saved_layouts.rename(layout, form.name.data or "")
        except ValidationError as exc:
            flash(exc.message, "error")
        else:
            flash(f"Renamed to “{layout.name}”.", "success")
        return redirect(url_for(".index"))

    @expose("/<int:layout_id>/delete/", methods=("POST",))
    def delete(self, layout_id: int) -> Response:
        layout = self._layout(layout_id)
        name = layout.name
        try:
            with transactions.attempt():
                saved_layouts.delete(layout)
        except ValidationError as exc:
            flash(exc.message, "error")
        else:
            flash(
                f"Deleted the layout “{name}”. Requests made from it keep their fields.", "success"
            )
        return redirect(url_for(".index"))


class DisclosureView(StaffView):
    """The disclosure every signer agrees to first; versions are never edited."""

    required_roles = ADMIN_ONLY

    @expose("/", methods=("GET", "POST"))
    def index(self) -> t.Any:
        current = disclosures.current()
        form = DisclosureForm()
        if request.method == "GET":
            form.text.data = current.text
        elif form.validate_on_submit():
            try:
                with transactions.attempt():
                    published = disclosures.publish(
                        form.text.data or "", actor=Actor.staff(current_user)
                    )
            except ValidationError as exc:
                form.text.errors = [*form.text.errors, exc.message]
            else:
                flash(
                    f"Published version {published.version}: signers from now on read it.",
                    "success",
                )
                return redirect(url_for(".index"))
        return self.render(
            "admin/sign/disclosure.html",
            current=current,
            history=disclosures.history(),
            form=form,
            local_datetime=local_datetime,
        )


class VerifyView(StaffView):
    """Upload a PDF: is it sealed by this office, and unchanged since?"""

    @expose("/", methods=("GET", "POST"))
    @takes_documents
    def index(self) -> t.Any:
        form = VerifyForm()
        verdict = None
        error = None
        name = None
        if form.validate_on_submit():
            file = form.file.data
            if file is None or not getattr(file, "filename", ""):
                error = "Choose the PDF to check."
            else:
                name = file.filename
                try:
                    verdict = completion.verify_upload(
                        documents.Upload(stream=file.stream, filename=file.filename)
                    )
                except ValidationError as exc:
                    error = exc.message
        return self.render(
            "admin/sign/verify.html", form=form, verdict=verdict, error=error, name=name
        )


__all__ = ["DisclosureView", "SignLayoutView", "VerifyView"]
