"""My details by section: the page and its forms, and the same sections as JSON under
``/portal/api/details``. The form of a section is built from the office's field
configuration, and validates both.

A new email address or mobile number someone signs in with is not saved at once: a code goes
to it (portal/details/contact_changes.py); the JSON answer is ``202 Accepted``. Starting such
a change needs a fresh sign-in (within 15 minutes): otherwise the page asks to confirm it's
you, and the JSON answer is 403 with ``"reason": "fresh_sign_in_required"`` and ``confirm``
naming ``POST /portal/api/session/confirm``. Codes to new addresses and numbers are limited:
429 with ``"reason": "too_many_codes"`` and ``retry_after`` (seconds).
"""

from __future__ import annotations

from typing import Any

from flask import abort, flash, g, jsonify, redirect, request, url_for
from flask_babel import gettext as _
from flask_wtf.csrf import generate_csrf

from app import transactions
from app.services import (
    builtin_fields,
    field_types,
    field_values,
    pending_changes,
    portal_fields,
    portal_forms,
)
from app.services.contact_changes import FreshSignInNeeded
from app.services.one_time_codes import TooManyCodes
from portal import bp, openapi
from portal.api import check_shape, error, form_errors, read_object
from portal.details.contact_changes import verification_json
from portal.details.page import details_page, section_json, signed_in_at, title
from portal.forms import DismissForm
from portal.guards import client_required
from portal.navigation import client_screen
from portal.openapi import WRITE_ERRORS, Reply, ref
from portal.schemas import section_schema
from portal.session import client_actor


@client_screen("/details")
def details() -> Any:
    return details_page()


@bp.post("/details/<section_key>")
@client_required
def save_details(section_key: str) -> Any:
    if section_key not in builtin_fields.SECTION_BY_KEY:
        abort(404)
    record = g.portal_record
    fields_of_section = field_values.layout()[section_key]
    form_class = portal_forms.section_form(section_key, fields_of_section, record)
    form = form_class()
    submitted = {key for key in request.form if key != "csrf_token"}
    problems = portal_forms.forbidden_keys(submitted, fields_of_section)
    if problems:
        return details_page({section_key: form}, problems, status=400)
    if not form.validate_on_submit():
        return details_page({section_key: form})
    try:
        with transactions.attempt():  # refused: nothing of the section is saved
            result = portal_fields.save_section(
                record, section_key, form, client_actor(), signed_in_at=signed_in_at()
            )
    except (FreshSignInNeeded, TooManyCodes) as exc:
        saved = portal_forms.form_data(fields_of_section, field_values.values_for(record))
        for key in builtin_fields.SIGN_IN_FIELDS:
            if key in form and form[key].data not in (None, "", saved.get(key)):
                form[key].errors = [*form[key].errors, exc.message]
        if isinstance(exc, TooManyCodes):
            flash(exc.message, "error")
            return details_page({section_key: form}, status=429)
        return details_page({section_key: form}, status=403, identity={"asked": True})
    if result.refused:  # a sign-in field this person may not change: nothing saved, logged
        for key, message in result.refused.items():
            form[key].errors = [*form[key].errors, message]
        return details_page({section_key: form}, status=403)
    _flash_saved(section_key, result)
    anchor = "verify-contact" if result.verifying else f"section-{section_key}"
    return redirect(url_for("portal.details") + f"#{anchor}")


def _flash_saved(section_key: str, result: portal_fields.SaveResult) -> None:
    for change in result.verifying:
        flash(
            _(
                "We sent a code to %(to)s. Enter it below to confirm the new %(field)s; until "
                "then the old one stays.",
                to=change.new_display,
                field=change.field_label.lower(),
            ),
            "info",
        )
    # Each message names its section: "First name" alone reads as the client's own name when
    # it was the co-applicant's that changed.
    # They are shown inside the section ("info section-address"), where the page lands, so
    # a client on a phone sees them without scrolling back to the top.
    section = builtin_fields.SECTION_BY_KEY[section_key].title
    in_section = f" section-{section_key}"
    if not result.changed:
        flash(_("%(section)s: nothing changed.", section=section), "info" + in_section)
    if result.saved:
        flash(
            _("%(section)s saved: %(fields)s.", section=section, fields=", ".join(result.saved)),
            "success" + in_section,
        )
    if result.pending:
        flash(
            _(
                "%(section)s sent for approval: %(fields)s. We will let you know when your "
                "adviser has checked it.",
                section=section,
                fields=", ".join(result.pending),
            ),
            "info" + in_section,
        )
    for label in result.withdrawn:
        flash(
            _("Your earlier proposed change to %(field)s was withdrawn.", field=label),
            "info" + in_section,
        )


@bp.post("/details/decisions/dismiss")
@client_required
def dismiss_decisions() -> Any:
    """The client has read the staff decisions the page showed: they go from the page."""
    form = DismissForm()
    if not form.validate_on_submit():
        abort(400)
    seen = {int(part) for part in (form.seen.data or "").split() if part.isdigit()}
    decisions = pending_changes.decisions_to_show(g.portal_record)
    pending_changes.acknowledge([change for change in decisions if change.id in seen])
    return redirect(url_for("portal.details"))


# -- JSON ---------------------------------------------------------------------------------------


def _sections() -> list[str]:
    return [section.key for section in builtin_fields.SECTIONS]


openapi.component(
    "Field",
    {
        "type": "object",
        "required": ["key", "label", "type", "mode", "required", "help", "value"],
        "properties": {
            "key": {"type": "string"},
            "label": {"type": "string"},
            "type": {"type": "string", "enum": sorted(field_types.REGISTRY)},
            "mode": {"type": "string"},
            "required": {"type": "boolean"},
            "help": {"type": "string"},
            "value": {},
            "options": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["value", "label"],
                    "properties": {"value": {"type": "string"}, "label": {"type": "string"}},
                },
            },
            "pending": {
                "description": "The client's change waiting for approval: sent back unchanged, "
                "it keeps waiting; the value on file withdraws it",
                "type": "object",
                "required": ["value", "display", "proposed_at"],
                "properties": {
                    "value": {"description": "As the API takes it, like value"},
                    "display": {"type": "string"},
                    "proposed_at": {"type": "string", "format": "date-time"},
                },
            },
        },
    },
)
openapi.component(
    "Section",
    {
        "type": "object",
        "required": ["key", "title", "fields"],
        "properties": {
            "key": {"type": "string"},
            "title": {"type": "string"},
            "fields": {"type": "array", "items": ref("Field")},
        },
    },
)
openapi.component(
    "Saved",
    {
        "type": "object",
        "required": ["saved", "awaiting_approval", "section"],
        "properties": {
            "saved": {
                "type": "object",
                "additionalProperties": {
                    "type": "object",
                    "required": ["old", "new"],
                    "properties": {"old": {"type": "string"}, "new": {"type": "string"}},
                },
            },
            "awaiting_approval": {"type": "object", "additionalProperties": {"type": "string"}},
            "withdrawn": {
                "description": "Changes waiting for approval that the value on file withdrew",
                "type": "object",
                "additionalProperties": {"type": "string"},
            },
            "awaiting_verification": {"type": "array", "items": ref("Verification")},
            "section": ref("Section"),
        },
    },
)

SAVED = {
    200: Reply("Saved, or waiting for approval", "Saved"),
    202: Reply("A new sign-in email or mobile waits for its code", "Saved"),
}


@bp.get("/api/details")
@openapi.operation(
    "get",
    "Every section the client sees, with field settings and values, and the CSRF token for writes",
    replies={
        200: Reply(
            "The sections",
            {
                "type": "object",
                "required": ["sections", "csrf_token"],
                "properties": {
                    "sections": {"type": "array", "items": ref("Section")},
                    "csrf_token": {"type": "string"},
                },
            },
        )
    },
    errors=(400, 401),
)
@client_required
def api_details() -> Any:
    layout = field_values.layout()
    values = field_values.values_for(g.portal_record)
    sections = [
        section_json(key, layout, values)
        for key in _sections()
        if any(item.visible for item in layout[key])
    ]
    return jsonify({"sections": sections, "csrf_token": generate_csrf()})


@bp.get("/api/details/<section_key>")
@openapi.operation(
    "get",
    lambda section_key: f"{title(section_key)}: fields and values",
    replies={200: Reply("The section", "Section")},
)
@openapi.each(section_key=_sections)
@client_required
def api_section(section_key: str) -> Any:
    layout = field_values.layout()
    if section_key not in layout or not any(item.visible for item in layout[section_key]):
        return error(404, "There is no such section.")
    return jsonify(section_json(section_key, layout, field_values.values_for(g.portal_record)))


@bp.route("/api/details/<section_key>", methods=["PATCH", "POST"])
@openapi.operation(
    "patch",
    lambda section_key: f"Change some of {title(section_key).lower()}",
    body=lambda section_key: section_schema(section_key, partial=True),
    body_name="{section_key}_patch",
    replies=SAVED,
    errors=(*WRITE_ERRORS, 403, 429),
)
@openapi.operation(
    "post",
    lambda section_key: f"Replace {title(section_key).lower()} (missing keys are emptied)",
    body=lambda section_key: section_schema(section_key),
    body_name="{section_key}_changes",
    replies=SAVED,
    errors=(*WRITE_ERRORS, 403, 429),
)
@openapi.each(section_key=_sections)
@client_required
def api_save_section(section_key: str) -> Any:
    """POST: the whole section, like the HTML form (a missing key means empty). PATCH: only
    the keys sent change."""
    if section_key not in builtin_fields.SECTION_BY_KEY:
        return error(404, "There is no such section.")
    record = g.portal_record
    fields_of_section = field_values.layout()[section_key]
    body, refused = read_object()
    if body is None:
        return refused
    problems = portal_forms.forbidden_keys(set(body), fields_of_section)
    if problems:
        return error(
            422,
            "Nothing was saved: some of these fields cannot be changed here.",
            {key: [reason] for key, reason in problems.items()},
        )
    if (refused := check_shape(body, openapi.request_schema())) is not None:
        return refused
    form_class = portal_forms.section_form(section_key, fields_of_section, record)
    data = dict(body)
    if request.method == "PATCH":
        current = portal_forms.form_data(fields_of_section, field_values.values_for(record))
        by_key = {item.key: item for item in fields_of_section}
        data = {**{k: by_key[k].type.json_value(v) for k, v in current.items()}, **body}
    form = form_class.from_json(data, meta={"csrf": False})
    if not form.validate():
        return form_errors(form)
    try:
        with transactions.attempt():  # refused: nothing of the section is saved
            result = portal_fields.save_section(
                record,
                section_key,
                form,
                client_actor(),
                only=set(body) if request.method == "PATCH" else None,
                signed_in_at=signed_in_at(),
            )
    except (FreshSignInNeeded, TooManyCodes) as exc:
        return _refused_code(exc, set(body))
    if result.refused:  # a sign-in field this person may not change: nothing saved, logged
        return error(
            403,
            "Nothing was saved: " + " ".join(result.refused.values()),
            {key: [message] for key, message in result.refused.items()},
        )
    layout = field_values.layout()
    response = jsonify(
        {
            "saved": {
                label: {"old": old, "new": new} for label, (old, new) in result.saved.items()
            },
            "awaiting_approval": result.pending,
            "withdrawn": result.withdrawn,
            "awaiting_verification": [verification_json(c) for c in result.verifying],
            "section": section_json(section_key, layout, field_values.values_for(record)),
        }
    )
    if result.verifying:
        # Accepted, not done: a new sign-in email or mobile waits for the code sent to it.
        response.status_code = 202
        response.headers["Location"] = verification_json(result.verifying[0])["confirm"]
    return response


def _refused_code(exc: FreshSignInNeeded | TooManyCodes, fields: set[str]) -> Any:
    """403 ``fresh_sign_in_required`` (confirm it's you first) or 429 ``too_many_codes``:
    nothing was saved."""
    keys = {key: [exc.message] for key in sorted(fields & set(builtin_fields.SIGN_IN_FIELDS))}
    if isinstance(exc, TooManyCodes):
        return error(429, exc.message, keys, reason=exc.reason, retry_after=exc.retry_after)
    return error(
        403, exc.message, keys, reason=exc.reason, confirm=url_for("portal.api_confirm_identity")
    )
