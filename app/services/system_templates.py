"""The system templates Portico ships: their keys, default subjects and bodies, the
placeholders each must keep (a portal-link email without ``{{ portal_link }}`` would strand the
client) and the variables each may use.

Admins edit a system template's name, subject and body; "restore default text" brings back
what is written here. Custom templates (for workflows) have keys of their own, no required
placeholders and only the common variables.
"""

from __future__ import annotations

from typing import Any

from app.services.certificate_messages import CERTIFICATE_TEMPLATES
from app.services.journeys.messages import JOURNEY_TEMPLATES
from app.services.request_templates import REQUEST_TEMPLATES
from app.services.signing.messages import SIGN_TEMPLATES
from app.services.template_specs import COMMON_VARIABLES, TemplateSpec, TemplateText
from models import Channel

__all__ = [
    "COMMON_VARIABLES",
    "SYSTEM_TEMPLATES",
    "TemplateSpec",
    "TemplateText",
    "allowed_variables",
    "is_system",
    "spec_for",
]


def _spec(*args: Any, **kwargs: Any) -> TemplateSpec:
    return TemplateSpec(*args, **kwargs)


SYSTEM_TEMPLATES: dict[str, TemplateSpec] = {
    spec.key: spec
    for spec in (
        _spec(
            "portal.link",
            Channel.EMAIL,
            "Self service: portal link",
            "Your secure client portal from {{ office.name }}",
            "Hello {{ record.first_name }},\n\n"
            "{{ agent.full_name or office.name }} has set up a secure client portal for you. "
            "Here you can see your policies and keep your details up to date.\n\n"
            "Your personal portal link:\n{{ portal_link }}\n\n"
            "Your password comes in a separate email. Keep both to yourself: anyone with the "
            "link and the password can see your information.\n\n"
            "{{ agent.full_name or office.name }}\n{{ office.phone or '' }}",
            required=("portal_link",),
            variables={"portal_link": "the client's personal portal link"},
            sensitive=True,
        ),
        _spec(
            "portal.link.sms",
            Channel.SMS,
            "Self service: portal link by text",
            "",
            "{{ office.name }}: your secure client portal is ready: {{ portal_link }} "
            "Your password comes by email.",
            required=("portal_link",),
            variables={"portal_link": "the client's personal portal link"},
            sensitive=True,
        ),
        _spec(
            "portal.password",
            Channel.EMAIL,
            "Self service: password",
            "Your client portal password",
            "Hello {{ record.first_name }},\n\n"
            "Your password for the client portal of {{ office.name }} is:\n\n"
            "    {{ password }}\n\n"
            "Use it with the personal portal link we sent you separately. You can change it "
            "after signing in.\n\n{{ agent.full_name or office.name }}",
            required=("password",),
            variables={"password": "the generated password"},
            sensitive=True,
        ),
        _spec(
            "portal.invitation",
            Channel.EMAIL,
            "Self service: invitation",
            "You are invited to the client portal of {{ office.name }}",
            "Hello {{ person_name }},\n\n"
            "{{ agent.full_name or office.name }} invites you to the client portal of "
            "{{ office.name }}. Accept the invitation and choose your password here:\n\n"
            "{{ invitation_link }}\n\n"
            "The invitation is valid until {{ expires_on }} and can be used once.\n\n"
            "{{ agent.full_name or office.name }}",
            required=("invitation_link",),
            variables={
                "invitation_link": "the single-use sign-up link",
                "person_name": "the invited person's name",
                "expires_on": "the date the invitation expires",
            },
            sensitive=True,
        ),
        _spec(
            "portal.login_code",
            Channel.EMAIL,
            "Sign-in code by email",
            "Your sign-in code: {{ code }}",
            "Your code to sign in to the client portal of {{ office.name }} is:\n\n"
            "    {{ code }}\n\n"
            "It works once, for {{ code_minutes }} minutes. If you did not ask for it, you can "
            "ignore this email.",
            required=("code",),
            variables={"code": "the 6-digit code", "code_minutes": "minutes it stays valid"},
            sensitive=True,
        ),
        _spec(
            "portal.login_code.sms",
            Channel.SMS,
            "Sign-in code by text",
            "",
            "{{ code }} is your {{ office.name }} portal code. It works once, for "
            "{{ code_minutes }} minutes.",
            required=("code",),
            variables={"code": "the 6-digit code", "code_minutes": "minutes it stays valid"},
            sensitive=True,
        ),
        _spec(
            "portal.contact_code",
            Channel.EMAIL,
            "Confirm a new sign-in email address",
            "Your confirmation code: {{ code }}",
            "Hello {{ person_name }},\n\n"
            "To make {{ new_value }} your email address for the client portal of "
            "{{ office.name }}, enter this code on the My details page:\n\n"
            "    {{ code }}\n\n"
            "It works once, for {{ code_minutes }} minutes. If you did not ask for it, ignore "
            "this email: nothing changes.",
            required=("code",),
            variables={
                "code": "the 6-digit code",
                "code_minutes": "minutes it stays valid",
                "person_name": "the name",
                "field_label": "the field changed",
                "new_value": "the new address",
            },
            sensitive=True,
        ),
        _spec(
            "portal.contact_code.sms",
            Channel.SMS,
            "Confirm a new sign-in mobile number",
            "",
            "{{ code }} confirms this number for your {{ office.name }} portal. It works once, "
            "for {{ code_minutes }} minutes. Not you? Ignore this text.",
            required=("code",),
            variables={
                "code": "the 6-digit code",
                "code_minutes": "minutes it stays valid",
                "person_name": "the name",
                "field_label": "the field changed",
                "new_value": "the new number",
            },
            sensitive=True,
        ),
        _spec(
            "portal.contact_changed",
            Channel.EMAIL,
            "Sign-in email or mobile changed (to the old one)",
            "Your {{ field_label|lower }} for the client portal was changed",
            "Hello {{ person_name }},\n\n"
            "The {{ field_label|lower }} used to sign in to your client portal at "
            "{{ office.name }} was changed to {{ new_value or '(none)' }}.\n\n"
            "If this was not you, call the office{% if office.phone %} at {{ office.phone }}"
            "{% endif %} straight away.",
            variables={
                "person_name": "the name",
                "field_label": "the field changed",
                "new_value": "the new value",
            },
        ),
        _spec(
            "portal.contact_changed.sms",
            Channel.SMS,
            "Sign-in mobile changed (to the old number)",
            "",
            "Your {{ field_label|lower }} for the {{ office.name }} portal was changed to "
            "{{ new_value or '(none)' }}. If this was not you, call the office"
            "{% if office.phone %} at {{ office.phone }}{% endif %}.",
            variables={
                "person_name": "the name",
                "field_label": "the field changed",
                "new_value": "the new value",
            },
        ),
        _spec(
            "portal.password_reset",
            Channel.EMAIL,
            "Password reset",
            "Reset your client portal password",
            "Hello {{ person_name }},\n\n"
            "Someone asked to reset the password of your client portal at {{ office.name }}. "
            "If it was you, choose a new password here within the next hour:\n\n"
            "{{ reset_link }}\n\n"
            "If it was not you, ignore this email: your password stays as it is.",
            required=("reset_link",),
            variables={"reset_link": "the one-hour reset link", "person_name": "the name"},
            sensitive=True,
        ),
        _spec(
            "task.reminder",
            Channel.EMAIL,
            "Task reminder",
            "Reminder: {{ task.title }}",
            "Hello {{ staff.first_name or staff.full_name }},\n\n"
            "This reminder is due now: {{ task.title }}\n"
            "{% if task.record %}Record: {{ task.record }}\n{% endif %}"
            "{% if task.notes %}\n{{ task.notes }}\n{% endif %}\n"
            "Your tasks: {{ tasks_url }}",
            variables={
                "task": "the task: title, notes, record (name), due (text)",
                "staff": "the person reminded: full_name, first_name",
                "tasks_url": "their open tasks in the staff panel",
            },
        ),
        _spec(
            "staff.sign_in_paused",
            Channel.EMAIL,
            "Staff sign-in paused",
            "Sign-in to your {{ office.name or 'Portico' }} staff account was paused",
            "Hello {{ staff.first_name or staff.full_name }},\n\n"
            "Sign-in to your {{ office.name or 'Portico' }} staff account from the address "
            "{{ ip }} was paused for {{ minutes }} minutes after {{ failures }} wrong passwords "
            "in a row.\n\n"
            "If that was you, wait and sign in again; other addresses were not paused. If it "
            "was not you, someone may be guessing your password: tell an admin, who can see "
            "the attempts in the activity log.\n\n"
            "Sign in: {{ sign_in_url }}",
            variables={
                "staff": "the staff member: full_name, first_name",
                "ip": "the address the wrong passwords came from",
                "minutes": "how long the pause lasts",
                "failures": "how many wrong passwords in a row",
                "sign_in_url": "the staff sign-in page",
            },
        ),
        _spec(
            "notify.agent",
            Channel.EMAIL,
            "Notification to the agent",
            "{{ event.label }}: {{ record.display_name }}",
            "{{ summary }}\n\n"
            "{% for line in detail_lines %}{{ line }}\n{% endfor %}\n"
            "Open the record: {{ record_url }}",
            variables={
                "event": "the event: key, label",
                "summary": "one line saying what happened",
                "detail_lines": "what changed, line by line",
                "actor": "who acted: label",
                "record_url": "the record's page in the staff panel",
            },
        ),
        _spec(
            "notify.customer",
            Channel.EMAIL,
            "Notification to the client",
            "{{ event.label }}",
            "Hello {{ record.first_name }},\n\n"
            "{{ customer_message }}\n\n"
            "{% for line in detail_lines %}{{ line }}\n{% endfor %}\n"
            "Your portal: {{ portal_url }}\n\n{{ agent.full_name or office.name }}",
            variables={
                "event": "the event: key, label",
                "customer_message": "a sentence for the client about what happened",
                "detail_lines": "what changed, line by line",
            },
        ),
        _spec(
            "notify.customer.sms",
            Channel.SMS,
            "Notification to the client by text",
            "",
            "{{ office.name }}: {{ customer_message }} {{ portal_url }}",
            variables={"customer_message": "a sentence for the client about what happened"},
        ),
        _spec(
            "documents.shared",
            Channel.EMAIL,
            "Shared documents: notice to the client",
            "New documents in your client portal",
            "Hello {{ record.first_name }},\n\n"
            "{{ agent.full_name or office.name }} has shared "
            "{% if documents|length == 1 %}a document{% else %}{{ documents|length }} documents"
            "{% endif %} with you in your secure client portal:\n\n"
            "{% for title in documents %}- {{ title }}\n{% endfor %}\n\n"
            "Sign in to see and download them: {{ portal_url }}\n\n"
            "{{ agent.full_name or office.name }}",
            variables={"documents": "the titles of the documents shared"},
        ),
        _spec(
            "documents.shared.sms",
            Channel.SMS,
            "Shared documents: notice to the client by text",
            "",
            "{{ office.name }}: new documents are waiting for you in your client portal. "
            "{{ portal_url }}",
            variables={"documents": "the titles of the documents shared"},
        ),
        _spec(
            "review.request",
            Channel.EMAIL,
            "Review request: click to rate",
            "How did we do? Rate {{ office.name }}",
            "Hello {{ record.first_name }},\n\n"
            "{{ agent.full_name or office.name }} would value your opinion of our service. "
            "It takes a minute: pick from 1 to 5 stars and, if you like, tell us why.\n\n"
            "Click to rate: {{ review_url }}\n\n"
            "You will be asked to sign in to your client portal first.\n\n"
            "{{ agent.full_name or office.name }}",
            required=("review_url",),
            variables={"review_url": "the portal's page where the client leaves a review"},
        ),
        _spec(
            "notify.primary",
            Channel.EMAIL,
            "Notification to the primary applicant",
            "{{ actor.label }}: {{ event.label }}",
            "Hello {{ record.first_name }},\n\n"
            "{{ actor.label }}, who has access to your client portal, did this: "
            "{{ event.label }}.\n\n"
            "{% for line in detail_lines %}{{ line }}\n{% endfor %}\n"
            "Your portal: {{ portal_url }}\n\n{{ office.name }}",
            variables={
                "event": "the event: key, label",
                "actor": "who acted: label",
                "detail_lines": "what changed, line by line",
            },
        ),
        *REQUEST_TEMPLATES,
        *SIGN_TEMPLATES,
        *CERTIFICATE_TEMPLATES,
        *JOURNEY_TEMPLATES,
    )
}


def spec_for(key: str) -> TemplateSpec | None:
    return SYSTEM_TEMPLATES.get(key)


def is_system(key: str) -> bool:
    return key in SYSTEM_TEMPLATES


def allowed_variables(key: str) -> dict[str, str]:
    """The variables the template under ``key`` may use, with what they hold."""
    spec = spec_for(key)
    return {**COMMON_VARIABLES, **(spec.variables if spec else {})}
