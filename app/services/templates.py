"""Email and SMS templates as the office keeps them: find, check, save, render, restore.

Templates are found by ``key``: a system template (see :mod:`app.services.system_templates`)
renders from its default text until the office edits it, and an edited one that fails falls
back to that default so the message still goes; custom templates (for workflows) are the
office's own. Rendering happens in the sandbox of :mod:`app.services.template_sandbox`, with
the plain-value contexts built here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from flask import current_app
from jinja2 import TemplateSyntaxError
from jinja2.exceptions import SecurityError, TemplateError
from markupsafe import escape
from sqlalchemy import func, or_, select

from app.services import defaults, links
from app.services.campaign_templates import CAMPAIGN_TEMPLATES, CampaignTemplate
from app.services.errors import ValidationError
from app.services.event_catalogue import CATALOGUE
from app.services.portal_settings import get_settings
from app.services.system_templates import (
    SYSTEM_TEMPLATES,
    TemplateSpec,
    allowed_variables,
    is_system,
    spec_for,
)
from app.services.template_sandbox import budgeted, fill, variables_used
from app.services.validation import format_phone
from models import (
    ActionStatus,
    Channel,
    MessageTemplate,
    NotificationRule,
    Record,
    ScheduledAction,
    Workflow,
    WorkflowAction,
    db,
)

SMS_LIMIT = 480  # three SMS segments

_KEY = re.compile(r"^[a-z0-9][a-z0-9._-]{1,79}$")
_URL = re.compile(r"(https?://[^\s<>\"']+)")


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str | None
    sensitive: bool
    template_key: str
    channel: Channel


def check_template(key: str, channel: Channel, subject: str, body: str) -> None:
    """Refuse a template that would not render or would lose a required placeholder."""
    if not _KEY.match(key or ""):
        raise ValidationError(
            "Use a key of lower-case letters, digits, dots, dashes or underscores.", field="key"
        )
    spec = spec_for(key)
    if spec and spec.channel != channel:
        raise ValidationError(f"{key} is a {spec.channel.label.lower()} template.", field="channel")
    if not (body or "").strip():
        raise ValidationError("The message needs a body.", field="body")
    if channel == Channel.EMAIL and not (subject or "").strip():
        raise ValidationError("An email needs a subject.", field="subject")
    used: set[str] = set()
    for field_name, source in (("subject", subject or ""), ("body", body)):
        try:
            used |= variables_used(source)
        except TemplateSyntaxError as exc:
            raise ValidationError(
                f"Line {exc.lineno}: {exc.message}. Check the {{{{ }}}} and {{% %}} pairs.",
                field=field_name,
            ) from None
        except TemplateError as exc:  # an unknown filter or test, found while compiling
            raise ValidationError(f"{exc}.", field=field_name) from None
    allowed = allowed_variables(key)
    unknown = sorted(used - set(allowed))
    if unknown:
        raise ValidationError(
            f"Unknown placeholder {unknown[0]!r}. You can use: " + ", ".join(sorted(allowed)) + ".",
            field="body",
        )
    if spec:
        missing = [name for name in spec.required if name not in used]
        if missing:
            raise ValidationError(
                f"This template must keep {{{{ {missing[0]} }}}}: without it the message "
                "cannot do its job. Put it back, or restore the default text.",
                field="body",
            )
    if channel == Channel.SMS and len(body) > SMS_LIMIT:
        raise ValidationError(
            f"Keep text messages under {SMS_LIMIT} characters ({len(body)} now).", field="body"
        )
    _check_limits(key, subject or "", body)


def _check_limits(key: str, subject: str, body: str) -> None:
    """Fill the template in once with sample values: one that asks for more than a message may
    take (length, loop turns, time) is refused now, not when a worker meets it. Other errors
    depend on the record and show in the preview."""
    context = sample_context(key, None)
    for field_name, source in (("subject", subject), ("body", body)):
        try:
            fill(source, context)
        except SecurityError as exc:
            raise ValidationError(
                f"This template asks for more than a message may hold: {exc}", field=field_name
            ) from None
        except Exception:  # noqa: S110 - a real record may well fill it in
            pass


def check_new_key(key: str | None) -> str:
    """A tidy key no other template uses."""
    cleaned = (key or "").strip().lower()
    if not _KEY.match(cleaned):
        raise ValidationError(
            "Use a key of lower-case letters, digits, dots, dashes or underscores.", field="key"
        )
    with db.session.no_autoflush:  # the template being created may already be in the session
        taken = db.session.scalar(select(MessageTemplate.id).where(MessageTemplate.key == cleaned))
    if taken is not None:
        raise ValidationError("A template with this key already exists.", field="key")
    return cleaned


def get_template(key: str) -> MessageTemplate | None:
    return db.session.scalar(select(MessageTemplate).where(MessageTemplate.key == key))


def render(key: str, context: dict[str, Any], *, strict: bool = False) -> Rendered:
    """Render the template stored under ``key`` (or its default) in the sandbox. An edited
    system template that fails falls back to its default text, so the message still goes;
    ``strict`` (the preview) raises instead, so the admin sees what is wrong."""
    stored = get_template(key)
    spec = spec_for(key)
    if stored is None and spec is None:
        raise ValidationError(f"There is no template with the key {key!r}.")
    subject = stored.subject if stored else spec.subject  # type: ignore[union-attr]
    body = stored.body if stored else spec.body  # type: ignore[union-attr]
    channel = stored.channel if stored else spec.channel  # type: ignore[union-attr]
    try:
        text, rendered_subject = _render_pair(subject, body, context)
    except Exception as exc:  # whatever the admin's text does, the message is not lost
        if spec is None or stored is None or strict:
            raise ValidationError(f"The template {key} could not be rendered: {exc}") from None
        current_app.logger.warning("template %s failed (%s); using its default text", key, exc)
        text, rendered_subject = _render_pair(spec.subject, spec.body, context)
    html = _html(text, context) if channel == Channel.EMAIL else None
    return Rendered(
        subject=rendered_subject,
        text=text,
        html=html,
        sensitive=bool(spec and spec.sensitive),
        template_key=key,
        channel=channel,
    )


def preview(key: str, record: Record | None) -> Rendered:
    """The template under ``key`` as it would read for ``record``, secrets stood in for;
    a template that fails raises :class:`ValidationError` saying why."""
    return render(key, sample_context(key, record), strict=True)


def render_text(source: str, context: dict[str, Any]) -> str:
    """Render a short text (a task title, say) in the same sandbox."""
    try:
        return " ".join(fill(source, context).split())
    except Exception as exc:  # the sandbox's errors, and 1/0 or a bad filter argument
        raise ValidationError(f"The text could not be filled in: {exc}") from None


def _render_pair(subject: str, body: str, context: dict[str, Any]) -> tuple[str, str]:
    with budgeted():
        text = fill(body, context).strip() + "\n"
        rendered_subject = " ".join(fill(subject, context).split())
    return text, rendered_subject


def _html(text: str, context: dict[str, Any]) -> str:
    """A simple HTML part from the text: paragraphs, line breaks and live links."""
    paragraphs = []
    for block in text.strip().split("\n\n"):
        escaped = str(escape(block))
        linked = _URL.sub(lambda m: f'<a href="{m.group(1)}">{m.group(1)}</a>', escaped)
        paragraphs.append("<p>" + linked.replace("\n", "<br>\n") + "</p>")
    office = escape(context.get("office", {}).get("name", ""))
    return (
        '<!doctype html><html><body style="font-family:Arial,Helvetica,sans-serif;'
        'font-size:15px;line-height:1.5;color:#1f2933">'
        + "\n".join(paragraphs)
        + f'<p style="color:#6b7280;font-size:12px">{office}</p></body></html>'
    )


# -- the stored templates ----------------------------------------------------------------------


def default_of(key: str) -> TemplateSpec | CampaignTemplate | None:
    """The text ``key`` can be restored to: a system template's, or the sample campaigns'."""
    return SYSTEM_TEMPLATES.get(key) or CAMPAIGN_TEMPLATES.get(key)


def restore_defaults(keys: Iterable[str] | None = None) -> list[str]:
    """The staff panel's "Restore default text": put back the default text of ``keys`` (all
    system templates when None), creating missing ones; keys without a default are left out.
    Returns the keys restored."""
    shipped = {key: text.row() for key, text in {**CAMPAIGN_TEMPLATES, **SYSTEM_TEMPLATES}.items()}
    wanted = list(SYSTEM_TEMPLATES) if keys is None else keys
    return defaults.restore(MessageTemplate, "key", shipped, wanted, fixed=("channel",))


def ensure_defaults() -> list[str]:
    """Create the system templates that are missing; never touch edited ones. Seeding and
    the staff panel's "Restore missing defaults" both do this. The sample campaigns'
    templates are not system templates: an office adds them back on purpose (see
    :func:`app.services.campaign_templates.add_samples`)."""
    shipped = {key: spec.row() for key, spec in SYSTEM_TEMPLATES.items()}
    return defaults.restore(MessageTemplate, "key", shipped, missing_only=True)


def check_delete(template: MessageTemplate) -> None:
    """Refuse to delete a system template, or one that a workflow, a scheduled action or a
    notification rule still sends: the message would fail when its time comes, unseen."""
    key = template.key
    if is_system(key):
        raise ValidationError(
            f"{key} is a system template: edit it or restore its default text instead of "
            "deleting it."
        )
    workflows = list(
        db.session.scalars(
            select(Workflow.name)
            .join(WorkflowAction, WorkflowAction.workflow_id == Workflow.id)
            .where(WorkflowAction.template_key == key)
            .distinct()
            .order_by(Workflow.name)
        )
    )
    if workflows:
        raise ValidationError(
            f"“{template.name}” is sent by the workflow{'s' if len(workflows) > 1 else ''} "
            + ", ".join(f"“{name}”" for name in workflows)
            + ". Choose another template in their actions first, then delete it."
        )
    pending = db.session.scalar(
        select(func.count())
        .select_from(ScheduledAction)
        .where(
            ScheduledAction.status == ActionStatus.PENDING,
            ScheduledAction.params["template_key"].as_string() == key,
        )
    )
    if pending:
        raise ValidationError(
            f"“{template.name}” is still to be sent by {pending} scheduled "
            f"action{'s' if pending > 1 else ''} of runs under way. Cancel them under "
            "Scheduled actions first, then delete it."
        )
    rule_columns = (
        NotificationRule.agent_template_key,
        NotificationRule.customer_template_key,
        NotificationRule.customer_sms_template_key,
        NotificationRule.primary_template_key,
    )
    events = list(
        db.session.scalars(
            select(NotificationRule.event_key)
            .where(or_(*(column == key for column in rule_columns)))
            .order_by(NotificationRule.event_key)
        )
    )
    if events:
        labels = [CATALOGUE[key].label if key in CATALOGUE else key for key in events]
        raise ValidationError(
            f"“{template.name}” is used by the notification rule"
            f"{'s' if len(events) > 1 else ''} for "
            + ", ".join(f"“{label}”" for label in labels)
            + ". Choose another template there first, then delete it."
        )


def missing(keys: Iterable[str | None]) -> set[str]:
    """Those of ``keys`` no message can be made from: no stored template and no system
    default (a system template renders from its default even when its row is gone)."""
    wanted = {key for key in keys if key}
    if not wanted:
        return set()
    stored = set(
        db.session.scalars(select(MessageTemplate.key).where(MessageTemplate.key.in_(wanted)))
    )
    return {key for key in wanted if key not in stored and key not in SYSTEM_TEMPLATES}


# -- context ------------------------------------------------------------------------------------


def reply_address(record: Record | None) -> str | None:
    """Where a client's reply to our mail goes: their active agent, else the office."""
    agent = record.assigned_agent if record else None
    if agent is not None and agent.active:
        return str(agent.email)
    return office_context()["email"] or None


def office_context() -> dict[str, Any]:
    settings = get_settings()
    return {
        "name": settings.portal_name,
        "email": settings.office_email or "",
        "phone": format_phone(settings.office_phone),
    }


def base_context(record: Record | None) -> dict[str, Any]:
    """What every template can use, as plain values (the sandbox never sees models)."""
    context: dict[str, Any] = {
        "office": office_context(),
        "portal_url": links.portal(),
        "record": {},
        "agent": {"full_name": "", "first_name": "", "email": "", "phone": ""},
    }
    if record is not None:
        context["record"] = {
            "first_name": record.first_name,
            "last_name": record.last_name,
            "full_name": record.full_name,
            "display_name": record.display_name,
            "email": record.email or "",
            "company_name": record.company_name or "",
        }
        agent = record.assigned_agent
        if agent is not None:
            context["agent"] = {
                "full_name": agent.full_name,
                "first_name": agent.first_name,
                "email": agent.email,
                "phone": format_phone(agent.phone),
            }
    return context


#: Stands in for the secret part of a link in a preview (the real one is made when sent).
SAMPLE_LINK_PART = "made-when-sent"


def sample_context(key: str, record: Record | None) -> dict[str, Any]:
    """Context for a preview: real record values, stand-ins for secrets."""
    samples: dict[str, Any] = {
        "portal_link": links.portal_link(SAMPLE_LINK_PART),
        "password": "(generated when sent)",
        "invitation_link": links.invitation(SAMPLE_LINK_PART),
        "reset_link": links.password_reset(SAMPLE_LINK_PART),
        "code": "123456",
        "code_minutes": 10,
        "person_name": record.full_name if record else "Pat Example",
        "expires_on": "(the expiry date)",
        "event": {"key": "portal.profile.updated", "label": "Personal details updated"},
        "summary": "Pat Example updated their personal details.",
        "customer_message": "We received your changes.",
        "detail_lines": ["Phone: (202) 555-0143 → (202) 555-0199"],
        "actor": {"label": "Pat Example"},
        "record_url": links.record(record.id if record else 1),
        "documents": ["Auto policy 2027", "ID card"],
        "journey_name": "Renew your policy",
        "visitor_name": record.full_name if record else "Pat Example",
        "resume_url": "(the visitor's personal link, made when sent)",
        "resume_until": "(the last day it works)",
        "attached": True,
    }
    context = base_context(record)
    for name in allowed_variables(key):
        if name not in context and name in samples:
            context[name] = samples[name]
    return context
