"""A new sign-in email or mobile waits for the code sent to it: the code on My details, or
``POST {"code": "123456"}`` to ``/portal/api/details/verifications/<id>``, applies it (the
old address or number is told); cancelling drops it. A wrong code counts as an attempt."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, g, jsonify, redirect, request, url_for
from flask_babel import gettext as _

from app.services import contact_changes, field_values, portal_fields
from app.services.errors import NotFound, ValidationError
from portal import bp, openapi
from portal.api import error, form_errors, read_body
from portal.details.page import code_form, details_page, section_json, waiting_changes
from portal.forms import CodeVerifyForm
from portal.guards import client_required
from portal.openapi import WRITE_ERRORS, Reply, ref
from portal.schemas import form_schema


@bp.post("/details/confirm/<int:change_id>")
@client_required
def confirm_contact_change(change_id: int) -> Any:
    """The code sent to a new sign-in email or mobile: right, and the change applies."""
    form = code_form(change_id)
    if not form.validate_on_submit():
        return details_page(code_forms={change_id: form})
    try:
        result = portal_fields.confirm_contact_change(
            g.portal_record, g.portal_account, change_id, form.code.data or ""
        )
    except NotFound:
        abort(404)
    except ValidationError as exc:  # the attempt counts, right or wrong
        if change_id not in {change.id for change in waiting_changes()}:
            flash(exc.message, "error")  # used up or expired: its form is gone from the page
        form.code.errors = [*form.code.errors, exc.message]
        return details_page(code_forms={change_id: form}, status=422)
    if result.saved:
        flash(_("Confirmed and saved: %(fields)s.", fields=", ".join(result.saved)), "success")
    elif result.pending:
        flash(
            _(
                "Confirmed and sent for approval: %(fields)s. We will let you know when your "
                "adviser has checked it.",
                fields=", ".join(result.pending),
            ),
            "info",
        )
    else:
        flash(_("Confirmed: nothing needed changing."), "info")
    return redirect(url_for("portal.details"))


@bp.post("/details/confirm/<int:change_id>/cancel")
@client_required
def cancel_contact_change(change_id: int) -> Any:
    form = code_form(change_id)
    if not form.validate_on_submit() and form.errors.keys() - {"code"}:
        abort(400)
    try:
        change = contact_changes.cancel_contact_change(g.portal_account, change_id)
    except NotFound:
        abort(404)
    flash(_("The change of %(field)s is cancelled.", field=change.field_label.lower()), "info")
    return redirect(url_for("portal.details"))


# -- JSON ---------------------------------------------------------------------------------------


openapi.component(
    "Verification",
    {
        "type": "object",
        "required": [
            "id", "field", "label", "sent_to", "channel", "expires_at", "attempts_left",
            "confirm",
        ],
        "properties": {
            "id": {"type": "integer"},
            "field": {"type": "string"},
            "label": {"type": "string"},
            "sent_to": {"type": "string"},
            "channel": {"type": "string", "enum": ["email", "sms"]},
            "expires_at": {"type": "string"},
            "attempts_left": {"type": "integer", "minimum": 0},
            "confirm": {"type": "string"},
        },
    },
)  # fmt: skip


def verification_json(change: Any) -> dict[str, Any]:
    return {
        "id": change.id,
        "field": change.field_key,
        "label": change.field_label,
        "sent_to": change.new_display,
        "channel": change.channel.value,
        "expires_at": change.expires_at.isoformat(),
        "attempts_left": max(change.max_attempts - change.attempts, 0),
        "confirm": url_for("portal.api_verification", change_id=change.id),
    }


@bp.get("/api/details/verifications")
@openapi.operation(
    "get",
    "Sign-in email or mobile changes waiting for the code sent to them",
    replies={
        200: Reply(
            "The changes waiting",
            {
                "type": "object",
                "required": ["verifications"],
                "properties": {"verifications": {"type": "array", "items": ref("Verification")}},
            },
        )
    },
    errors=(400, 401),
)
@client_required
def api_verifications() -> Any:
    changes = contact_changes.open_contact_changes(g.portal_account)
    return jsonify({"verifications": [verification_json(c) for c in changes]})


@bp.route("/api/details/verifications/<int:change_id>", methods=["GET", "POST", "DELETE"])
@openapi.operation(
    "get", "One change waiting for its code", replies={200: Reply("The change", "Verification")}
)
@openapi.operation(
    "post",
    "Confirm the change with the code sent to the new address or number (a wrong code counts "
    "as an attempt)",
    body=lambda: form_schema(CodeVerifyForm),
    replies={200: Reply("Applied, or sent for approval", "Saved")},
    errors=WRITE_ERRORS,
)
@openapi.operation(
    "delete", "Cancel the change", replies={204: Reply("Cancelled")}, errors=(400, 401, 404)
)
@client_required
def api_verification(change_id: int) -> Any:
    """GET: the change. POST ``{"code": "123456"}``: confirm it (200, applied or sent for
    approval; 422 for a wrong or used-up code, the attempt counts). DELETE: cancel it."""
    account = g.portal_account
    try:
        change = contact_changes.contact_change_of(account, change_id)
    except NotFound as exc:
        return error(404, str(exc))
    if request.method == "GET":
        return jsonify(verification_json(change))
    if request.method == "DELETE":
        contact_changes.cancel_contact_change(account, change_id)
        return "", 204
    body, refused = read_body(openapi.request_schema())
    if body is None:
        return refused
    form = CodeVerifyForm.from_json(body, meta={"csrf": False})
    if not form.validate():
        return form_errors(form)
    try:
        result = portal_fields.confirm_contact_change(
            g.portal_record, account, change_id, str(form.code.data)
        )
    except ValidationError as exc:  # the attempt counts, right or wrong
        return error(422, exc.message, {"code": [exc.message]})
    layout = field_values.layout()
    return jsonify(
        {
            "saved": {
                label: {"old": old, "new": new} for label, (old, new) in result.saved.items()
            },
            "awaiting_approval": result.pending,
            "section": section_json(
                change.section, layout, field_values.values_for(g.portal_record)
            ),
        }
    )
