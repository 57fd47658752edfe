"""The certificates pages: *Certificates* (the shared masters and *Your certificates*), *Add
certificate holder* (Yes: *Your certificate is ready*; No: the thank-you page), a
certificate's download, and *Request new certificate*."""

from __future__ import annotations

import io
from typing import Any

from flask import abort, flash, g, redirect, render_template, request, send_file, url_for

from app import transactions
from app.services.certificates import client_certificates
from app.services.errors import NotFound, ValidationError
from models import Certificate, CertificateMaster, RecordKind
from portal import bp
from portal.certificates import (
    MODULE,
    TEMPLATE_HELPERS,
    account_or_404,
    downloads_per_account,
    holders_per_account,
    requests_per_account,
)
from portal.certificates.forms import YES, HolderForm, RequestForm
from portal.guards import client_required, module_enabled
from portal.navigation import client_screen
from portal.session import client_actor


def _clients_only() -> None:
    """A lead's portal (and its preview) has no certificates."""
    record = g.get("portal_record")
    if record is None or record.kind != RecordKind.CLIENT:
        abort(404)


def _master_or_404(master_id: int) -> CertificateMaster:
    try:
        return client_certificates.master_for_account(account_or_404(), master_id)
    except NotFound:
        abort(404)


def _certificate_or_404(certificate_id: int) -> Certificate:
    try:
        return client_certificates.certificate_for_account(account_or_404(), certificate_id)
    except NotFound:
        abort(404)


def _render(template: str, status: int = 200, **context: Any) -> Any:
    return render_template(template, **TEMPLATE_HELPERS, **context), status


def refused_status(form: Any) -> int:
    """400 for a form without its CSRF token (not a form of ours), 422 for values to fix."""
    return 400 if "csrf_token" in form.errors else 422


# -- the list -----------------------------------------------------------------------------------


@client_screen("/certificates")
@module_enabled(MODULE)
def certificates() -> Any:
    _clients_only()
    account = g.get("portal_account")
    masters = client_certificates.visible_masters(account) if account else []
    issued = client_certificates.certificates_for_account(account) if account else []
    return _render("portal/certificates.html", masters=masters, issued=issued)


# -- adding a holder ----------------------------------------------------------------------------


def _holder_page(
    master: CertificateMaster, form: HolderForm, status: int = 200, error: str = ""
) -> Any:
    return _render("portal/certificate_holder.html", status, master=master, form=form, error=error)


@client_screen("/certificates/<int:master_id>/holder")
@module_enabled(MODULE)
def certificate_holder(master_id: int) -> Any:
    master = _master_or_404(master_id)
    ok, message = client_certificates.usable(master)
    if not ok:
        # Shared once, not now: the sentence, not the master (staff may have changed it since).
        flash(message, "error")
        return redirect(url_for("portal.certificates"))
    return _holder_page(master, HolderForm(formdata=None))


def still_usable(master: CertificateMaster) -> None:
    """ValidationError (the service's sentence) once the master may no longer be used. Asked
    before the savepoint: a share that ends here stays ended though the POST is refused."""
    ok, message = client_certificates.usable(master)
    if not ok:
        raise ValidationError(message)


def add_holder(master: CertificateMaster, form: HolderForm) -> Any:
    """The one service call of the page and the API; NotFound / ValidationError go on."""
    still_usable(master)
    with transactions.attempt():
        return client_certificates.add_holder(
            master,
            account_or_404(),
            name=form.name.data or "",
            address=form.address.data or "",
            email=form.email.data or None,
            meets=form.meets.data == YES,
            understood=bool(form.understood.data),
            reason=form.reason.data or None,
            actor=client_actor(),
        )


def refusal_field(form: Any, refused: ValidationError) -> str | None:
    """The form's field a refusal is about (None: the whole form)."""
    return refused.field if refused.field and refused.field in form else None


@bp.post("/certificates/<int:master_id>/holder")
@client_required
@module_enabled(MODULE)
@holders_per_account()
def certificate_holder_add(master_id: int) -> Any:
    master = _master_or_404(master_id)
    form = HolderForm()
    if not form.validate_on_submit():
        return _holder_page(master, form, refused_status(form))
    try:
        holder = add_holder(master, form)
    except NotFound:
        abort(404)
    except ValidationError as refused:
        field = refusal_field(form, refused)
        if field is None:
            return _holder_page(master, form, 422, error=refused.message)
        form[field].errors = [*form[field].errors, refused.message]
        return _holder_page(master, form, 422)
    if holder.meets_requirements and holder.certificates:
        certificate = holder.certificates[-1]
        return redirect(url_for("portal.certificate_ready", certificate_id=certificate.id))
    return redirect(url_for("portal.certificate_requested"))


# -- a certificate ------------------------------------------------------------------------------


@bp.get("/certificates/issued/<int:certificate_id>")
@client_required
@module_enabled(MODULE)
def certificate_ready(certificate_id: int) -> Any:
    """*Your certificate is ready*: where a Yes lands, with its download at once (not on the
    staff preview, which issues none)."""
    certificate = _certificate_or_404(certificate_id)
    ok, message = client_certificates.usable(certificate.master)
    if not ok:
        flash(message, "error")
        return redirect(url_for("portal.certificates"))
    return _render("portal/certificate_ready.html", certificate=certificate)


def from_another_site() -> bool:
    """Another site sent the browser here (Sec-Fetch-Site: cross-site): nothing is downloaded
    or logged, so no page elsewhere can make a client "download" a certificate."""
    return request.headers.get("Sec-Fetch-Site") == "cross-site"


def certificate_file(certificate_id: int) -> tuple[Certificate, bytes]:
    """The certificate and its sealed PDF, once the service has logged the download; NotFound
    for anything not the client's, ValidationError once its master is no longer shared."""
    account = account_or_404()
    certificate = client_certificates.certificate_for_account(account, certificate_id)
    still_usable(certificate.master)
    with transactions.attempt():
        return certificate, client_certificates.download(certificate, account, client_actor())


def pdf_response(certificate: Certificate, data: bytes) -> Any:
    """The sealed PDF as an attachment the browser does not keep."""
    response = send_file(
        io.BytesIO(data),
        mimetype="application/pdf",
        as_attachment=True,
        download_name=f"Certificate {certificate.number}.pdf",
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/certificates/issued/<int:certificate_id>/download")
@client_required
@module_enabled(MODULE)
@downloads_per_account()
def certificate_download(certificate_id: int) -> Any:
    if from_another_site():
        return redirect(url_for("portal.certificates"))
    try:
        certificate, data = certificate_file(certificate_id)
    except NotFound:
        abort(404)
    except ValidationError as refused:
        flash(refused.message, "error")
        return redirect(url_for("portal.certificates"))
    return pdf_response(certificate, data)


# -- requests -----------------------------------------------------------------------------------


def _request_page(form: RequestForm, status: int = 200, error: str = "") -> Any:
    return _render("portal/certificate_request.html", status, form=form, error=error)


@client_screen("/certificates/request")
@module_enabled(MODULE)
def certificate_request() -> Any:
    _clients_only()
    return _request_page(RequestForm(formdata=None))


def request_new(form: RequestForm) -> Any:
    """The one service call of the page and the API."""
    with transactions.attempt():
        return client_certificates.request_new(
            account_or_404(), message=form.message.data or "", actor=client_actor()
        )


@bp.post("/certificates/request")
@client_required
@module_enabled(MODULE)
@requests_per_account()
def certificate_request_send() -> Any:
    account_or_404()
    form = RequestForm()
    if not form.validate_on_submit():
        return _request_page(form, refused_status(form))
    try:
        request_new(form)
    except NotFound:
        abort(404)
    except ValidationError as refused:
        if refusal_field(form, refused) is None:
            return _request_page(form, 422, error=refused.message)
        form.message.errors = [*form.message.errors, refused.message]
        return _request_page(form, 422)
    return redirect(url_for("portal.certificate_requested"))


@client_screen("/certificates/thank-you")
@module_enabled(MODULE)
def certificate_requested() -> Any:
    """Where a No and a request land: the agent has it and will be in touch."""
    _clients_only()
    return _render("portal/certificate_thanks.html")
