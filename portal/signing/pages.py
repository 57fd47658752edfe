"""The signing page and what it posts: agree to the disclosure, keep a draft, Finish or
Decline; the pages as images and, once everyone signed, the signed PDF.

One page, in steps the signer's state decides: done (signed or declined) or closed (expired,
cancelled, not their turn) → the done page; not agreed yet → the disclosure; else the
document with the signer's fields. Opening it marks it viewed (the one write of a GET, only
when the signer opens it themselves, never when another site sends the browser here).
"""

from __future__ import annotations

import io
import re
from typing import Any

from flask import (
    abort,
    jsonify,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, TextAreaField

from app import pdf, transactions
from app.extensions import limiter
from app.services.errors import NotFound, ValidationError
from app.services.signing import access, completion, disclosures, signing
from app.services.signing.signing_checks import SignatureInput, image_from_data_url
from models import SignerStatus, SignFieldKind, SignRequestStatus
from portal import bp
from portal.signing.binding import Signing, signer_key, signing_or_404
from portal.signing.listing import expires_on, sender, status_words, today

#: Page images are drawn this wide: sharp on a phone's screen, light to send.
IMAGE_WIDTH = 1000
#: A signer's POSTs (a draft is kept on every change) and page images, per signer.
DRAFT_LIMIT = "120 per minute;3000 per day"
POST_LIMIT = "30 per hour"
IMAGE_LIMIT = "600 per hour"


class ConsentForm(FlaskForm):
    agreed = BooleanField(
        _l(
            "I confirm that I have read and understood the Electronic Record and "
            "Signature Disclosure"
        )
    )
    disclosure_version = HiddenField()


class FinishForm(FlaskForm):
    """The signature and initials as the page's script leaves them; the fields' values are
    read by field id (``field-<id>``)."""

    signature_style = HiddenField()
    signature_image = HiddenField()
    signature_text = HiddenField()
    initials_style = HiddenField()
    initials_image = HiddenField()
    initials_text = HiddenField()


class DeclineForm(FlaskForm):
    reason = TextAreaField(_l("Why do you decline to sign?"))


def _limit(rate: str, scope: str, methods: tuple[str, ...] = ("POST",)) -> Any:
    return limiter.limit(
        lambda: rate, key_func=signer_key, methods=list(methods), scope=f"portal-sign-{scope}"
    )


# -- the page ------------------------------------------------------------------------------------


def paragraphs(text: str) -> list[str]:
    """The disclosure as paragraphs (blank lines between them): a paragraph's lines wrapped in
    the text are joined, so it flows at any width; a list keeps its lines (shown pre-line)."""
    found = []
    for block in re.split(r"\n\s*\n", text.replace("\r\n", "\n")):
        lines = [line.strip() for line in block.strip().splitlines() if line.strip()]
        if not lines:
            continue
        listed = any(re.match(r"([-*\u2022]|\d+[.)])\s", line) for line in lines)
        found.append("\n".join(lines) if listed else " ".join(lines))
    return found


def _from_the_signer() -> bool:
    """Opened by the signer (from the portal, their email, a bookmark), not sent here by
    another site."""
    return request.headers.get("Sec-Fetch-Site") in (None, "same-origin", "none")


def _render(
    signing_: Signing,
    *,
    consent: ConsentForm | None = None,
    finish: FinishForm | None = None,
    decline: DeclineForm | None = None,
    error: str = "",
    error_field: str | None = None,
    status: int = 200,
) -> Any:
    signer = signing_.signer
    context: dict[str, Any] = {
        "signer": signer,
        "sign_request": signer.request,
        "by_link": signing_.by_link,
        "error": error,
        "error_field": error_field or "",
        "status_words": status_words(signer),
        "expires_on": expires_on(signer),
        "sender": sender(signer),
        "decline_form": decline or DeclineForm(formdata=None),
    }
    if signer.is_done or not access.can_sign(signer):
        complete = signer.request.status == SignRequestStatus.SIGNED
        return render_template("portal/sign_done.html", complete=complete, **context), status
    if signer.consented_at is None:
        current = disclosures.current()
        form = consent or ConsentForm(formdata=None, disclosure_version=str(current.version))
        return (
            render_template(
                "portal/sign_consent.html",
                form=form,
                disclosure=current,
                disclosure_paragraphs=paragraphs(current.text),
                **context,
            ),
            status,
        )
    request_ = signer.request
    pages = [
        {
            "index": index,
            "width": IMAGE_WIDTH,
            "height": round(IMAGE_WIDTH * float(h) / float(w)) if w else IMAGE_WIDTH,
            "fields": [f for f in request_.fields if f.page == index],
        }
        for index, (w, h) in enumerate(request_.pages)
    ]
    draft = signer.draft or {}
    kinds = {f.kind for f in request_.fields if f.signer_id == signer.id}
    return (
        render_template(
            "portal/sign.html",
            pages=pages,
            form=finish or FinishForm(formdata=None),
            values=draft.get("fields") or {},
            wants_initials=SignFieldKind.INITIALS in kinds,
            today=today(),
            kinds=SignFieldKind,
            script_data={
                "draftUrl": url_for("portal.sign_draft", signer_id=signer.id),
                "draft": draft,
                "name": signer.name,
                "messages": script_messages(),
            },
            **context,
        ),
        status,
    )


def script_messages() -> dict[str, str]:
    return {
        "signature": _("Your signature"),
        "initials": _("Your initials"),
        "signHere": _("Sign here"),
        "initialsHere": _("Initials"),
        "change": _("Change your signature"),
        "drawFirst": _("Draw your signature in the box, or type it."),
        "typeFirst": _("Type your name first."),
        "signFirst": _("Add your signature first: click Sign here."),
        "saving": _("Saving…"),
        "saved": _("Your progress is saved."),
        "notSaved": _("Not saved: check your connection. Finish still sends everything."),
        "typeName": _("Type your name"),
        "typeInitials": _("Type your initials"),
    }


@bp.get("/sign/<int:signer_id>")
def sign_page(signer_id: int) -> Any:
    found = signing_or_404(signer_id)
    if _from_the_signer():
        signing.view(found.signer, actor=found.actor, ip=found.ip, user_agent=found.user_agent)
    return _render(found)


@bp.post("/sign/<int:signer_id>/consent")
@_limit(POST_LIMIT, "consent")
def sign_consent(signer_id: int) -> Any:
    found = signing_or_404(signer_id)
    form = ConsentForm()
    if not form.validate_on_submit():
        return _render(found, consent=form, status=400)
    try:
        version = int(form.disclosure_version.data or 0)
    except ValueError:
        version = 0
    try:
        with transactions.attempt():
            signing.consent(
                found.signer,
                agreed=bool(form.agreed.data),
                disclosure_version=version,
                actor=found.actor,
                ip=found.ip,
                user_agent=found.user_agent,
            )
    except ValidationError as refused:
        current = disclosures.current()
        form.disclosure_version.data = str(current.version)
        return _render(found, consent=form, error=refused.message)
    return redirect(url_for("portal.sign_page", signer_id=signer_id))


@bp.post("/sign/<int:signer_id>/draft")
@_limit(DRAFT_LIMIT, "draft")
def sign_draft(signer_id: int) -> Any:
    """Keep what the signer filled in so far: a JSON object, the CSRF token in the
    X-CSRFToken header (checked before this view runs, as for every POST)."""
    found = signing_or_404(signer_id)
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        return jsonify(error=_("Send the draft as a JSON object.")), 400
    try:
        with transactions.attempt():
            kept = signing.save_draft(found.signer, data)
    except ValidationError as refused:
        return jsonify(error=refused.message, field=refused.field), 422
    return jsonify(saved=True, fields=len(kept.get("fields") or {}))


def signature_input(form: FinishForm, name: str) -> SignatureInput | None:
    style = (form[f"{name}_style"].data or "").strip()
    if style == "drawn":
        data = form[f"{name}_image"].data
        image = image_from_data_url(data)
        return SignatureInput("drawn", image=image)
    if style == "typed":
        return SignatureInput("typed", text=form[f"{name}_text"].data or "")
    return None


@bp.post("/sign/<int:signer_id>/finish")
@_limit(POST_LIMIT, "finish")
def sign_finish(signer_id: int) -> Any:
    found = signing_or_404(signer_id)
    form = FinishForm()
    if not form.validate_on_submit():
        return _render(found, finish=form, status=400)
    values = {
        field.id: request.form.get(f"field-{field.id}", "")
        for field in found.signer.request.fields
        if field.signer_id == found.signer.id
    }
    try:
        with transactions.attempt():
            signing.finish(
                found.signer,
                values=values,
                signature=signature_input(form, "signature"),
                initials=signature_input(form, "initials"),
                actor=found.actor,
                ip=found.ip,
                user_agent=found.user_agent,
            )
    except ValidationError as refused:
        return _render(found, finish=form, error=refused.message, error_field=refused.field)
    return redirect(url_for("portal.sign_page", signer_id=signer_id))


@bp.post("/sign/<int:signer_id>/decline")
@_limit(POST_LIMIT, "decline")
def sign_decline(signer_id: int) -> Any:
    found = signing_or_404(signer_id)
    form = DeclineForm()
    if not form.validate_on_submit():
        return _render(found, decline=form, status=400)
    try:
        with transactions.attempt():
            signing.decline(
                found.signer,
                reason=form.reason.data,
                actor=found.actor,
                ip=found.ip,
                user_agent=found.user_agent,
            )
    except ValidationError as refused:
        form.reason.errors = [*form.reason.errors, refused.message]
        return _render(found, decline=form, error=refused.message)
    return redirect(url_for("portal.sign_page", signer_id=signer_id))


# -- files ---------------------------------------------------------------------------------------


@bp.get("/sign/<int:signer_id>/pages/<int:page>.png")
@_limit(IMAGE_LIMIT, "pages", methods=("GET",))
def sign_page_image(signer_id: int, page: int) -> Any:
    """A page of the document to sign, as an image, for its signer while they can sign."""
    found = signing_or_404(signer_id)
    if not access.can_sign(found.signer) or page >= len(found.signer.request.pages):
        abort(404)
    try:
        image = pdf.render_page(
            completion.original_pdf_bytes(found.signer.request), page, width_px=IMAGE_WIDTH
        )
    except (NotFound, IndexError):
        abort(404)
    response = send_file(io.BytesIO(image), mimetype="image/png", max_age=0)
    # Not kept by the browser: on a shared computer the pages leave with the signer.
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/sign/<int:signer_id>/signed.pdf")
@_limit(IMAGE_LIMIT, "download", methods=("GET",))
def sign_download(signer_id: int) -> Any:
    """The sealed signed PDF, for a signer who signed, once everyone has."""
    found = signing_or_404(signer_id)
    sign_request = found.signer.request
    if found.signer.status != SignerStatus.SIGNED or sign_request.status != (
        SignRequestStatus.SIGNED
    ):
        abort(404)
    try:
        data = completion.signed_pdf_bytes(sign_request)
    except NotFound:
        abort(404)
    name = f"{sign_request.title} (signed).pdf".replace("/", "-")
    response = send_file(
        io.BytesIO(data), mimetype="application/pdf", as_attachment=True, download_name=name
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response
