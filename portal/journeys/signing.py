"""A journey's signature step: the e-sign page (the disclosure to agree to, the document with
the visitor's fields, the signature drawn or typed, Finish) on the journey's own addresses,
through the same signing services and the same page script as the portal's signing page.

The visitor is the request's one signer. Their request is made the first time they open the
step (a page only the browser holding the session opens, like the signing page's first view),
sent to nobody: the page is how they sign.
"""

from __future__ import annotations

import io
from typing import Any

from flask import abort, jsonify, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_limiter.util import get_remote_address

from app import pdf, transactions
from app.services.errors import NotFound, ValidationError
from app.services.journeys import visitors
from app.services.signing import access, completion, disclosures, signing
from models import JourneySession, SignFieldKind, SignRequestSigner, StepKind
from portal.journeys import journeys_bp, limits
from portal.journeys.framing import open_step, progress, where_next
from portal.signing.listing import today
from portal.signing.pages import (
    IMAGE_WIDTH,
    ConsentForm,
    FinishForm,
    paragraphs,
    script_messages,
    signature_input,
)

CSRF_OFF = {"csrf": False}  # the journey cookie's token instead (checked before every POST)
BASE = "/<slug>/s/<public_id>/step/<int:index>"


def _ua() -> str:
    return request.user_agent.string[:400]


def _signer(slug: str, public_id: str, index: int) -> tuple[JourneySession, SignRequestSigner]:
    opened = open_step(slug, public_id, index)
    if not isinstance(opened, tuple) or opened[1]["kind"] != StepKind.SIGN.value:
        abort(404)
    session, _step = opened
    return session, visitors.sign_request_for(session, index, get_remote_address())


def _render(
    session: JourneySession,
    index: int,
    step_def: dict[str, Any],
    signer: SignRequestSigner,
    *,
    consent: ConsentForm | None = None,
    finish: FinishForm | None = None,
    error: str = "",
    error_field: str | None = None,
    status: int = 200,
) -> Any:
    context: dict[str, Any] = {
        "session": session,
        "step": step_def,
        "index": index,
        "progress": progress(session, index),
        "signer": signer,
        "sign_request": signer.request,
        "error": error,
        "error_field": error_field or "",
    }
    if signer.consented_at is None:
        current = disclosures.current()
        form = consent or ConsentForm(
            formdata=None, disclosure_version=str(current.version), meta=CSRF_OFF
        )
        return render_template(
            "journeys/sign_consent.html",
            form=form,
            disclosure=current,
            disclosure_paragraphs=paragraphs(current.text),
            **context,
        ), status
    sign_request = signer.request
    pages = [
        {
            "index": number,
            "width": IMAGE_WIDTH,
            "height": round(IMAGE_WIDTH * float(h) / float(w)) if w else IMAGE_WIDTH,
            "fields": [f for f in sign_request.fields if f.page == number],
        }
        for number, (w, h) in enumerate(sign_request.pages)
    ]
    draft = signer.draft or {}
    url_args: dict[str, Any] = {
        "slug": session.journey.slug,
        "public_id": session.public_id,
        "index": index,
    }
    return render_template(
        "journeys/sign.html",
        pages=pages,
        form=finish or FinishForm(formdata=None, meta=CSRF_OFF),
        values=draft.get("fields") or {},
        today=today(),
        kinds=SignFieldKind,
        url_args=url_args,
        script_data={
            "draftUrl": url_for("journeys.sign_draft", **url_args),
            "draft": draft,
            "name": signer.name,
            "messages": script_messages(),
        },
        **context,
    ), status


def sign_step(session: JourneySession, index: int, step_def: dict[str, Any]) -> Any:
    """The step's page (GET): the disclosure, or the document to sign."""
    if request.method != "GET":
        abort(405)
    signer = visitors.sign_request_for(session, index, get_remote_address())
    if signer.is_done or not access.can_sign(signer):
        return redirect(where_next(session))
    signing.view(signer, actor=visitors.actor(session), ip=get_remote_address(), user_agent=_ua())
    return _render(session, index, step_def, signer)


@journeys_bp.post(f"{BASE}/consent")
@limits.apply([limits.per_session(limits.STEP_LIMIT, "sign-consent")])
def sign_consent(slug: str, public_id: str, index: int) -> Any:
    session, signer = _signer(slug, public_id, index)
    step_def = session.definition["steps"][index]
    form = ConsentForm(meta=CSRF_OFF)
    try:
        version = int(form.disclosure_version.data or 0)
    except ValueError:
        version = 0
    try:
        with transactions.attempt():
            signing.consent(
                signer,
                agreed=bool(form.agreed.data),
                disclosure_version=version,
                actor=visitors.actor(session),
                ip=get_remote_address(),
                user_agent=_ua(),
            )
    except ValidationError as refused:
        form.disclosure_version.data = str(disclosures.current().version)
        return _render(
            session, index, step_def, signer, consent=form, error=refused.message, status=422
        )
    return redirect(url_for("journeys.step", slug=slug, public_id=public_id, index=index))


@journeys_bp.post(f"{BASE}/draft")
@limits.apply([limits.per_session(limits.DRAFT_LIMIT, "sign-draft")])
def sign_draft(slug: str, public_id: str, index: int) -> Any:
    """Keep what the visitor filled in so far (JSON; the token in the X-CSRFToken header)."""
    _session, signer = _signer(slug, public_id, index)
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        return jsonify(error=_("Send the draft as a JSON object.")), 400
    try:
        with transactions.attempt():
            kept = signing.save_draft(signer, data)
    except ValidationError as refused:
        return jsonify(error=refused.message, field=refused.field), 422
    return jsonify(draft=kept)


@journeys_bp.post(f"{BASE}/finish")
@limits.apply([limits.per_session(limits.STEP_LIMIT, "sign-finish")])
def sign_finish(slug: str, public_id: str, index: int) -> Any:
    session, signer = _signer(slug, public_id, index)
    step_def = session.definition["steps"][index]
    form = FinishForm(meta=CSRF_OFF)
    values = {
        field.id: request.form.get(f"field-{field.id}", "")
        for field in signer.request.fields
        if field.signer_id == signer.id
    }
    try:
        with transactions.attempt():
            signing.finish(
                signer,
                values=values,
                signature=signature_input(form, "signature"),
                initials=signature_input(form, "initials"),
                actor=visitors.actor(session),
                ip=get_remote_address(),
                user_agent=_ua(),
            )
            visitors.sign_done(session, index, get_remote_address())
    except ValidationError as refused:
        return _render(
            session,
            index,
            step_def,
            signer,
            finish=form,
            error=refused.message,
            error_field=refused.field,
            status=422,
        )
    return redirect(where_next(session))


@journeys_bp.get(f"{BASE}/pages/<int:page>.png")
@limits.apply([limits.per_session(limits.IMAGE_LIMIT, "sign-pages", methods=("GET",))])
def sign_image(slug: str, public_id: str, index: int, page: int) -> Any:
    """A page of the document to sign, as an image, while the visitor can sign it."""
    _session, signer = _signer(slug, public_id, index)
    if not access.can_sign(signer) or page >= len(signer.request.pages):
        abort(404)
    try:
        image = pdf.render_page(
            completion.original_pdf_bytes(signer.request), page, width_px=IMAGE_WIDTH
        )
    except (NotFound, IndexError):
        abort(404)
    response = send_file(io.BytesIO(image), mimetype="image/png", max_age=0)
    response.headers["Cache-Control"] = "private, no-store"
    return response
