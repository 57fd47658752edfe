"""Reviews: the client rates the office's service (1 to 5 stars, an optional comment) on the
"Leave a review" page or through ``/portal/api/review``, validated by the same form. While
staff's request for a review is open, the portal's home shows a banner that leads here. The
module is the office's to switch on: off, the page and the JSON routes are gone (404)."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, g, jsonify, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField, TextAreaField
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from app import transactions
from app.services import reviews
from app.services.errors import NotFound, ValidationError
from app.services.field_types import check_form_text
from models import PortalAccount, Review, ReviewRequest
from portal import bp, openapi
from portal.api import error, form_errors, read_body
from portal.guards import client_required, is_module_enabled, module_enabled
from portal.limits import reviews_per_account
from portal.navigation import client_screen
from portal.openapi import WRITE_ERRORS, Reply, ref
from portal.schemas import form_schema

MODULE = reviews.MODULE


class ReviewForm(FlaskForm):
    """A review: the page's radio buttons and text area, or the API's JSON body."""

    #: Its text refuses control characters (the JSON schema says so: portal/schemas.py).
    plain_text = True

    rating = IntegerField(
        _l("Your rating"),
        validators=[
            InputRequired(_l("Choose from 1 to 5 stars.")),
            NumberRange(reviews.LOWEST, reviews.HIGHEST, _l("Choose from 1 to 5 stars.")),
        ],
        description=_l("1 (poor) to 5 (excellent)"),
    )
    comment = TextAreaField(
        _l("Comment (optional)"), validators=[Optional(), Length(max=reviews.COMMENT_MAX)]
    )
    review_request_id = IntegerField(
        _l("Review request"),
        validators=[Optional()],
        description=_l("The request answered (GET answers the open one); none: unasked"),
    )

    def validate(self, extra_validators: Any = None) -> bool:
        valid = super().validate(extra_validators)
        return check_form_text(self) and valid


def _account() -> PortalAccount:
    """The signed-in client (staff in the preview without an account: nothing to send)."""
    account: PortalAccount | None = g.get("portal_account")
    if account is None:
        abort(404)
    return account


def _submit(account: PortalAccount, form: ReviewForm) -> Review:
    """The one service call of both routes; NotFound / ValidationError go to the caller."""
    with transactions.attempt():
        return reviews.submit(
            account,
            form.rating.data,
            form.comment.data,
            request_id=form.review_request_id.data,
        )


@bp.app_template_global()
def pending_review_request() -> ReviewRequest | None:
    """The home page's banner: the open request of the signed-in client, when the module
    is on."""
    if not is_module_enabled(MODULE):
        return None
    return reviews.pending_request_for(g.get("portal_account"))


def _page(form: ReviewForm, status: int = 200) -> Any:
    pending = reviews.pending_request_for(g.get("portal_account"))
    return (
        render_template(
            "portal/review.html",
            form=form,
            pending=pending,
            stars=range(reviews.HIGHEST, reviews.LOWEST - 1, -1),
        ),
        status,
    )


@client_screen("/review")
@module_enabled(MODULE)
def review() -> Any:
    return _page(ReviewForm(formdata=None))


@bp.post("/review")
@client_required
@module_enabled(MODULE)
@reviews_per_account()
def review_submit() -> Any:
    account = _account()
    form = ReviewForm()
    if not form.validate_on_submit():
        return _page(form, 422)
    try:
        _submit(account, form)
    except NotFound:
        abort(404)
    except ValidationError as exc:
        if exc.field in form:
            form[exc.field].errors = [*form[exc.field].errors, exc.message]
            return _page(form, 422)
        flash(exc.message, "error")
        return redirect(url_for("portal.home"))
    flash(_("Thank you for your review."), "success")
    return redirect(url_for("portal.home"))


# -- JSON ---------------------------------------------------------------------------------------

openapi.component(
    "review_request",
    {
        "type": "object",
        "required": ["id", "requested_at"],
        "properties": {
            "id": {"type": "integer"},
            "requested_at": {"type": "string", "format": "date-time"},
        },
    },
)
openapi.component(
    "submitted_review",
    {
        "type": "object",
        "required": ["id", "rating", "comment", "created_at", "review_request_id"],
        "properties": {
            "id": {"type": "integer"},
            "rating": {"type": "integer", "minimum": 1, "maximum": 5},
            "comment": {"type": ["string", "null"]},
            "created_at": {"type": "string", "format": "date-time"},
            "review_request_id": {"type": ["integer", "null"]},
        },
    },
)


def _body() -> dict[str, Any]:
    return form_schema(ReviewForm, title="Review")


@bp.get("/api/review")
@openapi.operation(
    "get",
    "The review request waiting for an answer, if any",
    replies={
        200: Reply(
            "The open request (null: none)",
            {
                "type": "object",
                "required": ["pending_request"],
                "properties": {
                    "pending_request": {"oneOf": [ref("review_request"), {"type": "null"}]}
                },
            },
        )
    },
)
@client_required
@module_enabled(MODULE)
def api_review() -> Any:
    pending = reviews.pending_request_for(_account())
    return jsonify(
        {
            "pending_request": None
            if pending is None
            else {"id": pending.id, "requested_at": pending.created_at.isoformat()}
        }
    )


@bp.post("/api/review")
@openapi.operation(
    "post",
    "Rate the service (answers the open request, or the one named)",
    body=_body,
    body_name="review",
    replies={201: Reply("Thank you: the review is kept", "submitted_review")},
    errors=(*WRITE_ERRORS, 429),
)
@client_required
@module_enabled(MODULE)
@reviews_per_account()
def api_review_submit() -> Any:
    account = _account()
    body, refused = read_body(openapi.request_schema())
    if body is None:
        return refused
    form = ReviewForm.from_json(body, meta={"csrf": False})
    if not form.validate():
        return form_errors(form)
    try:
        review = _submit(account, form)
    except NotFound as exc:
        return error(404, str(exc))
    except ValidationError as exc:
        field = exc.field or "review_request_id"
        return error(422, exc.message, {field: [exc.message]})
    response = jsonify(
        {
            "id": review.id,
            "rating": review.rating,
            "comment": review.comment,
            "created_at": review.created_at.isoformat(),
            "review_request_id": review.review_request_id,
        }
    )
    response.status_code = 201
    return response
