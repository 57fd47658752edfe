"""A session's steps: a form (the journey's questions, validated by the form built from
them), an upload (a file per labelled slot), a review of what was given, and the signature
(:mod:`.signing`). The visitor may open any step up to the one reached (going back to change
a form); a step beyond it sends them to it, and a finished session to its ending page.
"""

from __future__ import annotations

from typing import Any

from flask import redirect, render_template, request
from flask_babel import gettext as _
from flask_limiter.util import get_remote_address

from app import transactions
from app.services import documents
from app.services.errors import ValidationError
from app.services.journeys import steps as journey_steps
from app.services.journeys import visitors
from models import JourneySession, StepKind
from portal.journeys import journeys_bp, limits
from portal.journeys.framing import open_step, progress, step_defs, where_next
from portal.journeys.signing import sign_step

CSRF_OFF = {"csrf": False}  # the journey cookie's token instead (checked before every POST)


def _render(
    template: str, session: JourneySession, index: int, step: dict[str, Any], **more: Any
) -> Any:
    return render_template(
        template, session=session, step=step, progress=progress(session, index), **more
    )


@journeys_bp.route("/<slug>/s/<public_id>/step/<int:index>", methods=["GET", "POST"])
@limits.apply([limits.per_session(limits.STEP_LIMIT, "step")])
def step(slug: str, public_id: str, index: int) -> Any:
    opened = open_step(slug, public_id, index)
    if not isinstance(opened, tuple):
        return opened
    session, step_def = opened
    kind = StepKind(step_def["kind"])
    if kind == StepKind.SIGN:
        return sign_step(session, index, step_def)
    handler = {StepKind.FORM: _form, StepKind.UPLOAD: _upload, StepKind.REVIEW: _review}[kind]
    return handler(session, index, step_def)


def _form(session: JourneySession, index: int, step_def: dict[str, Any]) -> Any:
    kind = journey_steps.get(StepKind.FORM)
    form_class = kind.form_class(step_def, session)
    assert form_class is not None
    # Answers given before (the visitor came back to change them) fill the form in.
    form = form_class(data=kind.initial(step_def, session), meta=CSRF_OFF)
    if request.method == "POST" and form.validate():
        try:
            with transactions.attempt():
                visitors.save_form(session, index, form, get_remote_address())
        except ValidationError as refused:
            return _render(
                "journeys/step_form.html",
                session,
                index,
                step_def,
                form=form,
                error=refused.message,
            ), 422
        return redirect(where_next(session))
    status = 422 if form.errors else 200
    return _render("journeys/step_form.html", session, index, step_def, form=form, error=""), status


def _upload(session: JourneySession, index: int, step_def: dict[str, Any]) -> Any:
    error = ""
    errors: dict[str, str] = {}
    if request.method == "POST":
        files = {}
        for slot in step_def.get("fields") or []:
            part = request.files.get(f"slot{slot['id']}")
            if part is not None and part.filename:
                files[int(slot["id"])] = documents.Upload(part.stream, part.filename)
        try:
            if files:
                with transactions.attempt():
                    visitors.add_uploads(session, index, files, get_remote_address())
            with transactions.attempt():
                visitors.uploads_done(session, index, get_remote_address())
        except ValidationError as refused:
            if refused.field:
                errors[refused.field] = refused.message
            else:
                error = refused.message
        else:
            return redirect(where_next(session))
    kept = {u.slot_id: u for u in session.uploads if u.step_index == index}
    status = 422 if (error or errors) else 200
    return _render(
        "journeys/step_upload.html", session, index, step_def, kept=kept, error=error, errors=errors
    ), status


def _review(session: JourneySession, index: int, step_def: dict[str, Any]) -> Any:
    if request.method == "POST":
        with transactions.attempt():
            visitors.step_done(session, index, get_remote_address())
        return redirect(where_next(session))
    sections = []
    for number, earlier in enumerate(step_defs(session)[:index]):
        kind = StepKind(earlier["kind"])
        sections.append(
            {
                "index": number,
                "title": earlier.get("title") or kind.label,
                "rows": journey_steps.get(kind).summary(session, earlier),
                "changeable": kind != StepKind.SIGN,
            }
        )
    return _render(
        "journeys/step_review.html",
        session,
        index,
        step_def,
        sections=sections,
        empty=_("Nothing given"),
    )
