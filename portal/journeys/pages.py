"""The journey's own pages around the steps: the welcome (name and email), the PIN (and a
new one), the emailed resume link, and the ending page with "Email me another copy" and the way on.

The welcome answers the same whoever the email belongs to (nothing is looked up before the PIN
is right). A PIN whose tries ran out ends the session for this browser: the visitor starts
again from the welcome page, which says why.
"""

from __future__ import annotations

from typing import Any

from flask import redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_limiter.util import get_remote_address
from flask_wtf import FlaskForm
from wtforms import HiddenField, StringField
from wtforms.validators import DataRequired, Length

from app import transactions
from app.services.errors import NotFound, ServiceError, ValidationError
from app.services.journeys import completion, definitions, visitors
from models import JourneySession, SessionStatus
from portal.journeys import cookie, journeys_bp, limits
from portal.journeys.framing import closed, journey_or_404, session_or_404, where_next
from portal.signing.link import masked


class _JourneyForm(FlaskForm):
    class Meta:
        csrf = False  # the journey cookie's token instead (checked before every POST)


class WelcomeForm(_JourneyForm):
    name = StringField(_l("Your name"), validators=[DataRequired(), Length(max=200)])
    email = StringField(_l("Your email address"), validators=[DataRequired(), Length(max=255)])
    next = HiddenField(validators=[Length(max=2000)])


class PinForm(_JourneyForm):
    code = StringField(_l("PIN"), validators=[DataRequired(), Length(max=20)])


#: Why the welcome page asks to start again, by the ``restart`` argument it was sent with.
RESTART = {
    "locked": _l("Too many wrong PINs. Start again: we will email you a new PIN."),
    "ended": _l("That session has ended. Start again: we will email you a new PIN."),
}


def _ua() -> str:
    return request.user_agent.string[:400]


@journeys_bp.route("/<slug>", methods=["GET", "POST"])
@limits.apply(limits.welcome())
def welcome(slug: str) -> Any:
    journey = journey_or_404(slug)
    if not journey.active:
        return closed()
    form = WelcomeForm()
    error = ""
    if request.method == "GET":
        form.next.data = request.args.get("next", "")[:2000]
        cookie.csrf_token()  # the form's secret goes out with its page
    elif form.validate():
        try:
            with transactions.attempt():
                session = visitors.start(
                    journey,
                    name=form.name.data,
                    email=form.email.data,
                    ip=get_remote_address(),
                    user_agent=_ua(),
                    next_url=form.next.data or None,
                )
        except ValidationError as refused:
            if refused.field in ("name", "email"):
                target = form[refused.field]
                target.errors = [*target.errors, refused.message]
            else:
                error = refused.message  # the journey itself is not ready
        else:
            cookie.bind(session.public_id)
            return redirect(url_for(".pin", slug=slug, public_id=session.public_id))
    notice = RESTART.get(request.args.get("restart", ""))
    status = 422 if form.errors or error else 200
    return render_template(
        "journeys/welcome.html",
        form=form,
        notice=notice,
        error=error,
        # Sanitized when saved; again here, as the page shows it (a row written otherwise).
        opening_html=definitions.sanitize_rich_text(journey.opening_html),
    ), status


def _pin_page(session: JourneySession, form: PinForm, error: str = "", notice: str = "") -> Any:
    return render_template(
        "journeys/pin.html",
        session=session,
        form=form,
        sent_to=masked(session.email),
        minutes=session.definition.get("pin_minutes"),
        error=error,
        notice=notice,
    )


@journeys_bp.route("/<slug>/s/<public_id>/pin", methods=["GET", "POST"])
@limits.apply(limits.pin())
def pin(slug: str, public_id: str) -> Any:
    journey = journey_or_404(slug)
    if not journey.active:
        return closed()
    session = session_or_404(slug, public_id, pending_ok=True)
    held = public_id in cookie.bound()
    if (held and session.verified_at is not None) or session.status == SessionStatus.COMPLETED:
        return redirect(where_next(session))
    form = PinForm()
    if request.method == "GET" or not form.validate():
        return _pin_page(session, form), 422 if form.errors else 200
    outcome = visitors.verify_pin(
        session, form.code.data, ip=get_remote_address(), user_agent=_ua()
    )
    if outcome.ok:
        if session.public_id != public_id:
            cookie.forget(public_id)  # a resumed session's id is new: see verify_pin
        cookie.bind(session.public_id)
        return redirect(where_next(session))
    if outcome.reason == "locked":
        cookie.forget(public_id)
        return redirect(url_for(".welcome", slug=slug, restart="locked"))
    if outcome.reason == "expired":
        error = _("That PIN has expired. Ask for a new one below.")
    else:
        error = _("That PIN is not right. Check the last email we sent you, or ask for a new PIN.")
    return _pin_page(session, form, error=error), 422


@journeys_bp.post("/<slug>/s/<public_id>/pin/new")
@limits.apply(limits.resend())
def pin_resend(slug: str, public_id: str) -> Any:
    journey = journey_or_404(slug)
    if not journey.active:
        return closed()
    session = session_or_404(slug, public_id, pending_ok=True)
    if session.status == SessionStatus.COMPLETED:
        return redirect(where_next(session))
    try:
        with transactions.attempt():
            visitors.send_pin(session, get_remote_address())
    except ValidationError as refused:
        if refused.field == "code":  # its tries ran out before it was ever right
            cookie.forget(public_id)
            return redirect(url_for(".welcome", slug=slug, restart="locked"))
        return _pin_page(session, PinForm(formdata=None), error=refused.message), 422
    except ServiceError as refused:
        return _pin_page(session, PinForm(formdata=None), error=str(refused)), 429
    notice = _("We sent you a new PIN. The one before it no longer works.")
    return _pin_page(session, PinForm(formdata=None), notice=notice)


@journeys_bp.route("/<slug>/resume/<token>", methods=["GET", "POST"])
@limits.apply(limits.resume())
def resume(slug: str, token: str) -> Any:
    """The emailed link back: the PIN goes out when the visitor asks for it (a POST), not
    when the link is fetched (mail scanners open links)."""
    journey = journey_or_404(slug)
    if not journey.active:
        return closed()
    try:
        session = visitors.from_resume_token(
            journey, token, ip=get_remote_address(), log_it=request.method == "POST"
        )
    except NotFound:
        return render_template("journeys/resume_invalid.html"), 404
    if request.method == "GET":
        cookie.csrf_token()
        return render_template(
            "journeys/resume.html", session=session, sent_to=masked(session.email)
        )
    try:
        with transactions.attempt():
            visitors.send_pin(session, get_remote_address())
    except ServiceError as refused:
        return render_template(
            "journeys/resume.html",
            session=session,
            sent_to=masked(session.email),
            error=str(refused),
        ), 429
    cookie.add_pending(session.public_id)
    return redirect(url_for(".pin", slug=slug, public_id=session.public_id))


# -- the ending page -----------------------------------------------------------------------------


def _done_page(session: JourneySession, notice: str = "", error: str = "") -> Any:
    return render_template(
        "journeys/done.html",
        session=session,
        closing_html=definitions.sanitize_rich_text(session.definition.get("closing_html")),
        send_copy=bool(session.definition.get("send_copy")),
        sent_to=masked(session.email),
        continue_url=definitions.allowed_redirect(session.definition.get("redirect_url")),
        notice=notice,
        error=error,
    )


@journeys_bp.get("/<slug>/s/<public_id>/done")
def done(slug: str, public_id: str) -> Any:
    session = session_or_404(slug, public_id)
    if session.status != SessionStatus.COMPLETED:
        return redirect(where_next(session))
    return _done_page(session)


@journeys_bp.post("/<slug>/s/<public_id>/copy")
@limits.apply([limits.per_session(limits.RESEND_LIMIT, "copy")])
def copy(slug: str, public_id: str) -> Any:
    session = session_or_404(slug, public_id)
    if session.status != SessionStatus.COMPLETED or not session.definition.get("send_copy"):
        return redirect(where_next(session))
    try:
        with transactions.attempt():
            completion.email_copy(session)
    except ServiceError as refused:
        return _done_page(session, error=str(refused)), 422
    return _done_page(session, notice=_("We emailed you a copy."))
