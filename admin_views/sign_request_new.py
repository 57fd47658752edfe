"""A new sign request, in two steps: the form that starts a draft (the PDF, its signers, order,
message, expiry, reminders), then the field placer, where staff click on the page images to
place each signer's fields and send. Every decision is the signing service's; these routes
parse, call it and render."""

from __future__ import annotations

import json
import typing as t
from datetime import timedelta

from flask import abort, flash, redirect, request, url_for
from flask_admin import expose
from flask_security import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from sqlalchemy import select
from werkzeug.wrappers import Response
from wtforms import (
    DateField,
    IntegerField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from admin_views.base import record_or_404
from app import pdf, transactions
from app.errors import takes_documents
from app.services import documents
from app.services.actors import Actor
from app.services.errors import NotFound, ValidationError
from app.services.field_types import check_form_text
from app.services.signing import completion
from app.services.signing import requests as sign_requests
from models import (
    Document,
    DocumentKind,
    Record,
    SignFieldKind,
    SignRequest,
    SignRequestStatus,
    SignTemplate,
    db,
)

#: The record's Signing tab.
TAB = "#signing"
PRIMARY = "primary"
#: A service's name for a field, where the form calls it something else.
FIELD_ALIASES = {"document": "document_id", "template": "template_id", "upload": "file"}
FILE_AGAIN = "Your browser does not keep a chosen file: choose the PDF again."


def signing_tab(record_id: int) -> str:
    return url_for("record.details_view", id=record_id) + TAB


class NewSignRequestForm(FlaskForm):
    """Step 1. The PDF comes from exactly one of: an upload, a PDF document of the record, a
    saved layout (the service refuses none or several)."""

    title = StringField(
        "Title", validators=[Optional(), Length(max=200)], render_kw={"maxlength": 200}
    )
    file = FileField("Upload a PDF")
    #: Matched against the record's PDFs and the layouts in the view: anything else is none.
    document_id = SelectField("Or a PDF document of the record", choices=[], validate_choice=False)
    template_id = SelectField("Or a saved layout", choices=[], validate_choice=False)
    signers = SelectMultipleField(
        "Signers", choices=[], validators=[InputRequired("Choose at least one signer.")]
    )
    in_order = RadioField(
        "Signing order",
        choices=[
            ("1", "In order: each signer is emailed when the one before has signed"),
            ("0", "All at once"),
        ],
        default="1",
    )
    message = TextAreaField(
        "Message to the signers",
        validators=[Optional(), Length(max=5000)],
        render_kw={"rows": 4},
    )
    expires_on = DateField("Expires after (last day to sign)", validators=[InputRequired()])
    remind_every_days = IntegerField(
        "Remind every (days)",
        validators=[Optional(), NumberRange(1, 30, "Remind every 1 to 30 days, or leave empty.")],
        render_kw={"min": 1, "max": 30},
    )

    def validate(self, extra_validators: t.Any = None) -> bool:
        valid = super().validate(extra_validators)
        return check_form_text(self) and valid


def signer_key(contact_id: int | None) -> str:
    return PRIMARY if contact_id is None else str(contact_id)


def pdf_documents(record: Record) -> list[Document]:
    return [
        d
        for d in documents.of_record(record)
        if d.kind == DocumentKind.FILE and d.content_type == "application/pdf"
    ]


def saved_layouts() -> list[SignTemplate]:
    return list(db.session.scalars(select(SignTemplate).order_by(SignTemplate.name)))


def fields_json(sign_request: SignRequest) -> str:
    """The request's fields as the placer keeps them: fractions of the page, the signer by
    its place in the signer list."""
    index = {signer.id: n for n, signer in enumerate(sign_request.signers)}
    return json.dumps(
        [
            {
                "page": f.page,
                "x": f.x,
                "y": f.y,
                "width": f.width,
                "height": f.height,
                "kind": f.kind.value,
                "signer": index.get(f.signer_id, 0),
                "required": f.required,
                "label": f.label,
            }
            for f in sign_request.fields
        ]
    )


def _set_error(form: FlaskForm, exc: ValidationError) -> str | None:
    """Put a service's refusal on its field; what has no field is returned for the top."""
    name = FIELD_ALIASES.get(exc.field or "", exc.field or "")
    if name and name in form:
        form[name].errors = [*form[name].errors, exc.message]
        return None
    return exc.message


class NewSignRequestRoutes:
    """Step 1 and step 2, on the Sign requests view."""

    render: t.Callable[..., t.Any]

    _record = staticmethod(record_or_404)

    def _request(self, request_id: int) -> SignRequest:
        try:
            return sign_requests.get_for_staff(request_id)
        except NotFound:
            abort(404)

    def _draft(self, record_id: int, request_id: int) -> SignRequest:
        """A draft reached through its own record only."""
        sign_request = self._request(request_id)
        if sign_request.record_id != record_id:
            abort(404)
        return sign_request

    @expose("/record/<int:record_id>/new/", methods=("GET", "POST"))
    @takes_documents
    def new_request(self, record_id: int) -> t.Any:
        record = self._record(record_id)
        choices = sign_requests.eligible_signers(record)
        form = NewSignRequestForm()
        if request.method == "GET":
            form.expires_on.data = documents.office_today() + timedelta(days=30)
            form.document_id.data = request.args.get("document_id", "")
            form.template_id.data = request.args.get("template_id", "")
            form.signers.data = [signer_key(c.contact_id) for c, _n, e in choices[:1] if e]
        pdfs = pdf_documents(record)
        layouts = saved_layouts()
        form.document_id.choices = [("", "—")] + [(str(d.id), d.title) for d in pdfs]
        form.template_id.choices = [("", "—")] + [(str(s.id), s.name) for s in layouts]
        form.signers.choices = [(signer_key(c.contact_id), name) for c, name, e in choices if e]
        top_error = None
        if form.validate_on_submit():
            try:
                with transactions.attempt():
                    sign_request = self._start(record, form, choices, pdfs, layouts)
            except ValidationError as exc:
                top_error = _set_error(form, exc)
            else:
                flash("Draft saved. Place the signers' fields, then send it.", "success")
                return redirect(url_for(".placer", record_id=record.id, request_id=sign_request.id))
        return self.render(
            "admin/sign/new.html",
            record=record,
            form=form,
            eligible=[(signer_key(c.contact_id), name, email) for c, name, email in choices],
            top_error=top_error,
            file_again=FILE_AGAIN if request.method == "POST" else None,
            max_mb=documents.upload_rule().max_bytes >> 20,
            back=signing_tab(record.id),
        )

    def _start(
        self,
        record: Record,
        form: NewSignRequestForm,
        choices: list[t.Any],
        pdfs: list[Document],
        layouts: list[SignTemplate],
    ) -> SignRequest:
        by_key = {signer_key(c.contact_id): c for c, _name, _email in choices}
        chosen = [by_key[key] for key in by_key if key in (form.signers.data or [])]
        upload = None
        file = form.file.data
        if file is not None and bool(getattr(file, "filename", None)):
            upload = documents.Upload(stream=file.stream, filename=file.filename)
        document = next((d for d in pdfs if str(d.id) == form.document_id.data), None)
        template = next((s for s in layouts if str(s.id) == form.template_id.data), None)
        title = (form.title.data or "").strip()
        if not title and template is not None:
            title = template.title
        return sign_requests.start(
            record,
            actor=Actor.staff(current_user),
            title=title,
            message=form.message.data or "",
            signers=chosen,
            in_order=form.in_order.data != "0",
            expires_on=form.expires_on.data,
            remind_every_days=form.remind_every_days.data,
            upload=upload,
            document=document,
            template=template,
        )

    @expose("/record/<int:record_id>/<int:request_id>/fields/", methods=("GET", "POST"))
    def placer(self, record_id: int, request_id: int) -> t.Any:
        sign_request = self._draft(record_id, request_id)
        if sign_request.status != SignRequestStatus.DRAFT:
            return redirect(url_for(".request_page", request_id=sign_request.id))
        if request.method == "GET":
            return self._render_placer(sign_request, fields_json(sign_request))
        operation = request.form.get("operation", "save")
        raw = request.form.get("fields") or "[]"
        template_name = (request.form.get("template_name") or "").strip()
        if operation == "discard":
            sign_requests.discard(sign_request)
            flash("Draft discarded.", "success")
            return redirect(signing_tab(record_id))
        try:
            with transactions.attempt():
                sign_requests.place_fields(sign_request, raw)
                if operation == "signature_page":
                    sign_requests.add_signature_page(sign_request)
                elif operation == "send":
                    sign_requests.send(
                        sign_request,
                        actor=Actor.staff(current_user),
                        save_as_template=template_name or None,
                    )
        except ValidationError as exc:
            return self._render_placer(sign_request, raw, exc.message, template_name)
        if operation == "send":
            flash(f"Sent “{sign_request.title}” for signature.", "success")
            return redirect(url_for(".request_page", request_id=sign_request.id))
        if operation == "signature_page":
            flash("Added a signature page at the end, with each signer's fields.", "success")
        else:
            flash("Fields saved.", "success")
        return redirect(url_for(".placer", record_id=record_id, request_id=sign_request.id))

    def _render_placer(
        self,
        sign_request: SignRequest,
        fields: str,
        error: str | None = None,
        template_name: str = "",
    ) -> t.Any:
        return self.render(
            "admin/sign/placer.html",
            sr=sign_request,
            record=sign_request.record,
            fields=fields,
            error=error,
            template_name=template_name,
            kinds=list(SignFieldKind),
            back=signing_tab(sign_request.record_id),
        )

    @expose("/<int:request_id>/page/<int:page>.png")
    def page_image(self, request_id: int, page: int) -> Response:
        """A page of the request's PDF as the placer shows it (staff only, never shared)."""
        sign_request = self._request(request_id)
        if not 0 <= page < len(sign_request.pages):
            abort(404)
        try:
            png = pdf.render_page(completion.original_pdf_bytes(sign_request), page, width_px=900)
        except (IndexError, NotFound):
            abort(404)
        response = Response(png, mimetype="image/png")
        response.headers["Cache-Control"] = "private, max-age=3600"
        return response


__all__ = ["NewSignRequestRoutes", "signing_tab"]
