"""The My details page, as every route of the feature renders it (with the forms and
messages of the request that came back to it)."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app, g, render_template, session
from flask_babel import format_date

from app.services import (
    builtin_fields,
    contact_changes,
    field_values,
    pending_changes,
    portal_credentials,
    portal_forms,
    sessions,
)
from portal.forms import (
    CodeVerifyForm,
    DismissForm,
    IdentityCodeRequestForm,
    IdentityPasswordForm,
    phone_for_form,
)


def signed_in_at() -> Any:
    return sessions.signed_in_at(session.get("portal_sid"))


def details_page(
    forms: dict[str, Any] | None = None,
    problems: dict[str, str] | None = None,
    status: int = 200,
    code_forms: dict[int, Any] | None = None,
    identity: dict[str, Any] | None = None,
) -> Any:
    record = g.portal_record
    layout = field_values.layout()
    values = field_values.values_for(record)
    forms = dict(forms or {})
    sections = []
    for section in builtin_fields.SECTIONS:
        visible = [item for item in layout[section.key] if item.visible]
        if not visible:
            continue
        if section.key not in forms and any(item.editable for item in visible):
            form_class = portal_forms.section_form(section.key, layout[section.key], record)
            forms[section.key] = form_class(
                formdata=None, data=portal_forms.form_data(layout[section.key], values)
            )
        form = forms.get(section.key)
        if form is not None:
            _readable_phones(form, layout[section.key], record.country)
        sections.append((section, visible, form))
    # Staff decisions on proposed changes stay on the page until the client dismisses them
    # (a POST): looking at the page changes nothing.
    decisions = [] if g.get("portal_preview") else pending_changes.decisions_to_show(record)
    changes = waiting_changes()
    code_forms = {
        change.id: (code_forms or {}).get(change.id) or code_form(change.id, formdata=None)
        for change in changes
    }
    return render_template(
        "portal/details.html",
        sections=sections,
        values=values,
        decisions=decisions,
        dismiss_form=DismissForm(formdata=None, seen=" ".join(str(d.id) for d in decisions)),
        problems=problems or {},
        display=field_values.display_value,
        waiting=pending_changes.waiting,
        sent_on=_sent_on,
        contact_changes=changes,
        code_forms=code_forms,
        identity=_identity(identity),
    ), status


def _sent_on(when: datetime) -> str:
    """The day a change was sent, in the office's time zone: "3 Dec"."""
    local = when.astimezone(ZoneInfo(current_app.config["PORTICO_TIMEZONE"])).date()
    return format_date(local, "d MMM")


def _readable_phones(form: Any, fields_of_section: list[Any], region: str | None) -> None:
    """Phone numbers as every other page shows them, "(614) 555-0101", not as stored or as
    the validator left them (E.164) when another field sent the form back. A number with an
    error stays as typed. Any format is accepted back."""
    for item in fields_of_section:
        if item.type.name != "phone" or item.key not in form:
            continue
        field = form[item.key]
        if not field.errors:
            field.data = phone_for_form(field.data, region)
        elif field.raw_data:
            field.data = field.raw_data[0]  # as typed, even where the validator normalised it


def waiting_changes() -> list[Any]:
    """Sign-in email or mobile changes of the signed-in person waiting for their code."""
    if g.get("portal_preview") or g.get("portal_account") is None:
        return []
    return contact_changes.open_contact_changes(g.portal_account)


def code_form(change_id: int, **kwargs: Any) -> CodeVerifyForm:
    return CodeVerifyForm(prefix=f"change-{change_id}", **kwargs)


def _identity(asked: dict[str, Any] | None) -> dict[str, Any] | None:
    """The "confirm it's you" card: shown when a change needed it, and while a code sent for
    it is waiting."""
    account = g.get("portal_account")
    if account is None or g.get("portal_preview"):
        return None
    pending = session.get("portal_identity") or {}
    code_sent = bool(pending) and pending.get("until", 0) > time.time()
    if not asked and not code_sent:
        return None
    asked = asked or {}
    return {
        "masked": portal_credentials.mask_address(account.email),
        "has_password": account.password_hash is not None,
        "password_form": asked.get("password_form") or IdentityPasswordForm(prefix="identity"),
        "send_form": IdentityCodeRequestForm(prefix="identity-send"),
        "code_form": asked.get("code_form") or CodeVerifyForm(prefix="identity-code"),
        "code_sent": code_sent,
        "error": asked.get("error"),
    }


def title(section_key: str) -> str:
    return builtin_fields.SECTION_BY_KEY[section_key].title


def section_json(
    section_key: str, layout: dict[str, list[field_values.Field]], values: field_values.Values
) -> dict[str, Any]:
    return {
        "key": section_key,
        "title": title(section_key),
        "fields": [
            portal_forms.describe(item, values) for item in layout[section_key] if item.visible
        ],
    }
