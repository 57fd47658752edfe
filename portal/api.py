"""The portal's JSON API (``/portal/api/...``): the same forms as the HTML pages, fed JSON.

Authentication is the portal session (the same cookie as the pages), so every write needs the
CSRF token in an ``X-CSRFToken`` header: ``GET /portal/api/details`` hands it out. The form
level CSRF field is off for JSON (``meta={"csrf": False}``) because CSRFProtect has already
checked the header before the view runs.

Errors are JSON: ``{"error": {"code", "message", "fields": {key: [messages]}}}``; 401 without a
session, 404 for what does not exist (or belongs to someone else), 422 for invalid values and
for fields the client may not set (nothing is saved then).

A new email address or mobile number someone signs in with is not saved at once: the answer
is ``202 Accepted`` with ``awaiting_verification`` (and a ``Location``) naming
``/portal/api/details/verifications/<id>``; a code went to the new address or number, and
``POST {"code": "123456"}`` there applies the change (the old address or number is told).
A contact person cannot change the primary applicant's sign-in email or mobile: 403.

Starting such a change needs a fresh sign-in (within 15 minutes): otherwise the answer is 403
with ``"reason": "fresh_sign_in_required"`` and ``confirm`` naming ``POST
/portal/api/session/confirm`` (``{"password": "..."}``), after which the change goes through;
a client without a password confirms on the My details page with a code to their current
email. Codes to new addresses and numbers are limited per account and per address: 429 with
``"reason": "too_many_codes"`` and ``retry_after`` (seconds).
"""

from __future__ import annotations

from typing import Any

from flask import abort, g, jsonify, request, session, url_for
from flask_wtf.csrf import generate_csrf

from app.services import care_lists, portal_accounts, portal_fields, sessions
from app.services.errors import NotFound, ValidationError
from app.services.events import Actor
from app.services.portal_accounts import FreshSignInNeeded, SignInFailed, TooManyCodes
from app.services.portal_settings import get_settings
from models import db, utcnow
from portal import bp
from portal import openapi as openapi_document
from portal.forms import CARE_FORMS
from portal.session import start_session
from portal.views import per_account, per_ip


def _error(
    code: int, message: str, fields: dict[str, list[str]] | None = None, **extra: Any
) -> Any:
    body: dict[str, Any] = {"error": {"code": code, "message": message, **extra}}
    if fields:
        body["error"]["fields"] = fields
    return jsonify(body), code


def _refused_code(exc: FreshSignInNeeded | TooManyCodes, fields: set[str]) -> Any:
    """403 ``fresh_sign_in_required`` (confirm it's you first) or 429 ``too_many_codes``:
    nothing was saved."""
    db.session.rollback()
    keys = {key: [exc.message] for key in sorted(fields & set(portal_fields.SIGN_IN_FIELDS))}
    if isinstance(exc, TooManyCodes):
        return _error(429, exc.message, keys, reason=exc.reason, retry_after=exc.retry_after)
    return _error(
        403, exc.message, keys, reason=exc.reason, confirm=url_for("portal.api_confirm_identity")
    )


def _client() -> Any:
    if g.get("portal_account") is None:
        return _error(401, "Sign in to the portal first.")
    return None


def _json_body() -> dict[str, Any] | Any:
    try:
        body = request.get_json(silent=True)
    except RecursionError:  # nested deeper than any form: not a body we read
        body = None
    if not isinstance(body, dict):
        return _error(400, "Send a JSON object (Content-Type: application/json).")
    return body


def _shape_problems(body: dict[str, Any], allowed: set[str], yes_no: set[str]) -> Any:
    """A 422 for values the forms would quietly coerce (a list saved as its first item, an
    object as its text, "no" as yes) and for keys no field reads; None when all is well."""
    problems: dict[str, list[str]] = {}
    for key, value in body.items():
        if key not in allowed:
            problems[key] = ["There is no such field to change here."]
        elif key in yes_no:
            if not isinstance(value, bool):
                problems[key] = ["Send true or false."]
        elif isinstance(value, list | dict | bool):
            problems[key] = ["Send text or a number."]
    if not problems:
        return None
    return _error(422, "Nothing was saved: some values are not of the right kind.", problems)


def _section_json(
    section_key: str, layout: dict[str, list[portal_fields.Field]], values: portal_fields.Values
) -> dict[str, Any]:
    section = portal_fields.SECTION_BY_KEY[section_key]
    return {
        "key": section.key,
        "title": section.title,
        "fields": [
            portal_fields.describe(item, values) for item in layout[section_key] if item.visible
        ],
    }


@bp.get("/api/details")
def api_details() -> Any:
    if (refused := _client()) is not None:
        return refused
    layout = portal_fields.layout()
    values = portal_fields.values_for(g.portal_record)
    sections = [
        _section_json(s.key, layout, values)
        for s in portal_fields.SECTIONS
        if any(item.visible for item in layout[s.key])
    ]
    return jsonify({"sections": sections, "csrf_token": generate_csrf()})


@bp.get("/api/details/<section_key>")
def api_section(section_key: str) -> Any:
    if (refused := _client()) is not None:
        return refused
    if section_key not in portal_fields.SECTION_BY_KEY:
        return _error(404, "There is no such section.")
    layout = portal_fields.layout()
    if not any(item.visible for item in layout[section_key]):
        return _error(404, "There is no such section.")
    return jsonify(_section_json(section_key, layout, portal_fields.values_for(g.portal_record)))


@bp.route("/api/details/<section_key>", methods=["PATCH", "POST"])
def api_save_section(section_key: str) -> Any:
    """POST: the whole section, like the HTML form (a missing key means empty). PATCH: only
    the keys sent change."""
    if (refused := _client()) is not None:
        return refused
    if section_key not in portal_fields.SECTION_BY_KEY:
        return _error(404, "There is no such section.")
    body = _json_body()
    if not isinstance(body, dict):
        return body
    record = g.portal_record
    fields_of_section = portal_fields.layout()[section_key]
    problems = portal_fields.forbidden_keys(set(body), fields_of_section)
    if problems:
        return _error(
            422,
            "Nothing was saved: some of these fields cannot be changed here.",
            {key: [reason] for key, reason in problems.items()},
        )
    yes_no = {item.key for item in fields_of_section if item.type.name == "yes_no"}
    if (refused := _shape_problems(body, set(body), yes_no)) is not None:
        return refused
    form_class = portal_fields.section_form(section_key, fields_of_section, record)
    data = dict(body)
    if request.method == "PATCH":
        current = portal_fields.form_data(fields_of_section, portal_fields.values_for(record))
        data = {**{k: _json_input(fields_of_section, k, v) for k, v in current.items()}, **body}
    form = form_class.from_json(data, meta={"csrf": False})
    if not form.validate():
        return _error(
            422,
            "Some values need fixing; nothing was saved.",
            {name: list(errors) for name, errors in form.errors.items()},
        )
    try:
        result = portal_fields.save_section(
            record,
            section_key,
            form,
            Actor.client(g.portal_account),
            only=set(body) if request.method == "PATCH" else None,
            signed_in_at=sessions.signed_in_at(session.get("portal_sid")),
        )
    except (FreshSignInNeeded, TooManyCodes) as exc:
        return _refused_code(exc, set(body))
    db.session.commit()
    if result.refused:  # a sign-in field this person may not change: nothing saved, logged
        return _error(
            403,
            "Nothing was saved: " + " ".join(result.refused.values()),
            {key: [message] for key, message in result.refused.items()},
        )
    layout = portal_fields.layout()
    response = jsonify(
        {
            "saved": {
                label: {"old": old, "new": new} for label, (old, new) in result.saved.items()
            },
            "awaiting_approval": result.pending,
            "awaiting_verification": [_verification_json(c) for c in result.verifying],
            "section": _section_json(section_key, layout, portal_fields.values_for(record)),
        }
    )
    if result.verifying:
        # Accepted, not done: a new sign-in email or mobile waits for the code sent to it.
        response.status_code = 202
        response.headers["Location"] = _verification_url(result.verifying[0].id)
    return response


# -- confirming a new sign-in email or mobile ------------------------------------------------


def _verification_url(change_id: int) -> str:
    return url_for("portal.api_verification", change_id=change_id)


def _verification_json(change: Any) -> dict[str, Any]:
    return {
        "id": change.id,
        "field": change.field_key,
        "label": change.field_label,
        "sent_to": change.new_display,
        "channel": change.channel.value,
        "expires_at": change.expires_at.isoformat(),
        "attempts_left": max(change.max_attempts - change.attempts, 0),
        "confirm": _verification_url(change.id),
    }


@bp.get("/api/details/verifications")
def api_verifications() -> Any:
    """Sign-in email or mobile changes waiting for their code."""
    if (refused := _client()) is not None:
        return refused
    changes = portal_accounts.open_contact_changes(g.portal_account)
    return jsonify({"verifications": [_verification_json(c) for c in changes]})


@bp.route("/api/details/verifications/<int:change_id>", methods=["GET", "POST", "DELETE"])
def api_verification(change_id: int) -> Any:
    """GET: the change. POST ``{"code": "123456"}``: confirm it (200, applied or sent for
    approval; 422 for a wrong or used-up code, the attempt counts). DELETE: cancel it."""
    if (refused := _client()) is not None:
        return refused
    account = g.portal_account
    try:
        change = portal_accounts.contact_change_of(account, change_id)
    except NotFound as exc:
        return _error(404, str(exc))
    if request.method == "GET":
        return jsonify(_verification_json(change))
    if request.method == "DELETE":
        portal_accounts.cancel_contact_change(account, change_id)
        db.session.commit()
        return "", 204
    body = _json_body()
    if not isinstance(body, dict):
        return body
    code = body.get("code")
    if not isinstance(code, str | int) or isinstance(code, bool):
        return _error(422, "Send the code as text.", {"code": ["Send the code as text."]})
    try:
        result = portal_fields.confirm_contact_change(
            g.portal_record, account, change_id, str(code)
        )
    except ValidationError as exc:
        db.session.commit()  # the attempt counts, right or wrong
        return _error(422, exc.message, {"code": [exc.message]})
    db.session.commit()
    layout = portal_fields.layout()
    return jsonify(
        {
            "saved": {
                label: {"old": old, "new": new} for label, (old, new) in result.saved.items()
            },
            "awaiting_approval": result.pending,
            "section": _section_json(
                change.section, layout, portal_fields.values_for(g.portal_record)
            ),
        }
    )


@bp.post("/api/session/confirm")
@per_ip("confirm-identity")
@per_account("confirm-identity", lambda: f"account:{session.get('portal_account')}")
def api_confirm_identity() -> Any:
    """Confirm it's you with the current password (``{"password": "..."}``): the session
    starts afresh, and for 15 minutes may change the email or mobile it signs in with."""
    if (refused := _client()) is not None:
        return refused
    body = _json_body()
    if not isinstance(body, dict):
        return body
    password = body.get("password")
    if not isinstance(password, str) or not password or len(password) > 200:
        message = "Send your current password as text."
        return _error(422, message, {"password": [message]})
    try:
        portal_accounts.confirm_identity_with_password(g.portal_account, password)
    except SignInFailed:
        db.session.commit()  # the failure counts toward the pause
        message = "That is not your current password, or it is paused."
        return _error(422, message, {"password": [message]})
    start_session(g.portal_account, "confirm-identity")
    db.session.commit()
    until = utcnow() + portal_accounts.FRESH_SIGN_IN
    return jsonify({"fresh_until": until.isoformat()})


def _json_input(fields_of_section: list[portal_fields.Field], key: str, value: Any) -> Any:
    item = next(f for f in fields_of_section if f.key == key)
    return item.type.json_value(value)


# -- prescriptions and providers ---------------------------------------------------------------


def _care_or_404(list_key: str) -> care_lists.CareList:
    care = care_lists.LISTS.get(list_key)
    settings = get_settings()
    if (
        care is None
        or not {"prescriptions": settings.module_rx, "providers": settings.module_providers}[
            list_key
        ]
    ):
        abort(404)
    return care


def _care_shape_problems(care: care_lists.CareList, body: dict[str, Any]) -> Any:
    # "id" is what GET answered: sending an entry back as it came is fine (it is ignored).
    return _shape_problems(body, {name for name, _ in care.columns} | {"id"}, set())


def _entry_json(care: care_lists.CareList, entry: Any) -> dict[str, Any]:
    return {"id": entry.id, **{name: getattr(entry, name) for name, _ in care.columns}}


@bp.get("/api/<any(prescriptions, providers):list_key>")
def api_care_list(list_key: str) -> Any:
    if (refused := _client()) is not None:
        return refused
    care = _care_or_404(list_key)
    return jsonify(
        {list_key: [_entry_json(care, e) for e in care_lists.entries(care, g.portal_record)]}
    )


@bp.post("/api/<any(prescriptions, providers):list_key>")
def api_care_add(list_key: str) -> Any:
    if (refused := _client()) is not None:
        return refused
    care = _care_or_404(list_key)
    body = _json_body()
    if not isinstance(body, dict):
        return body
    if (refused := _care_shape_problems(care, body)) is not None:
        return refused
    form = CARE_FORMS[list_key].from_json(body, meta={"csrf": False})
    if not form.validate():
        return _error(
            422,
            "Some values need fixing; nothing was saved.",
            {name: list(errors) for name, errors in form.errors.items()},
        )
    entry = care_lists.add(care, g.portal_record, form.data, Actor.client(g.portal_account))
    db.session.commit()
    response = jsonify(_entry_json(care, entry))
    response.status_code = 201
    response.headers["Location"] = url_for(
        "portal.api_care_entry", list_key=list_key, entry_id=entry.id
    )
    return response


@bp.route(
    "/api/<any(prescriptions, providers):list_key>/<int:entry_id>",
    methods=["GET", "PATCH", "DELETE"],
)
def api_care_entry(list_key: str, entry_id: int) -> Any:
    if (refused := _client()) is not None:
        return refused
    care = _care_or_404(list_key)
    try:
        entry = care_lists.get_entry(care, g.portal_record, entry_id)
    except NotFound as exc:
        return _error(404, str(exc))
    if request.method == "GET":
        return jsonify(_entry_json(care, entry))
    if request.method == "DELETE":
        care_lists.remove(care, g.portal_record, entry, Actor.client(g.portal_account))
        db.session.commit()
        return "", 204
    body = _json_body()
    if not isinstance(body, dict):
        return body
    if (refused := _care_shape_problems(care, body)) is not None:
        return refused
    data = {**_entry_json(care, entry), **body}
    data.pop("id", None)
    form = CARE_FORMS[list_key].from_json(data, meta={"csrf": False})
    if not form.validate():
        return _error(
            422,
            "Some values need fixing; nothing was saved.",
            {name: list(errors) for name, errors in form.errors.items()},
        )
    care_lists.update(care, g.portal_record, entry, form.data, Actor.client(g.portal_account))
    db.session.commit()
    return jsonify(_entry_json(care, entry))


# -- the description ------------------------------------------------------------------------


@bp.get("/api/openapi.json")
def openapi() -> Any:
    """OpenAPI 3.1 description; the field schemas follow the admin's current configuration."""
    return jsonify(openapi_document.document(CARE_FORMS))
