"""The system template of certificates: the agent hears of a certificate request (a holder
whose requirements the coverage shown does not meet, with the client's reason, or a general
request for a new certificate). Registered in :mod:`app.services.system_templates`."""

from __future__ import annotations

from app.services.template_specs import TemplateSpec
from models import Channel

CERTIFICATE_TEMPLATES: tuple[TemplateSpec, ...] = (
    TemplateSpec(
        "certificates.requested",
        Channel.EMAIL,
        "Certificate request: to the agent",
        "New certificate request{% if subject %}: {{ subject }}{% endif %} "
        "({{ record.display_name }})",
        "New certificate request\n\n"
        "{{ actor.label }} ({{ record.display_name }}) asked for a certificate of insurance "
        "through the client portal.\n\n"
        "{% if subject %}Certificate holder: {{ subject }}\n\n"
        "Why the coverage shown does not meet the holder's requirements:\n"
        "{% endif %}{{ message }}\n\n"
        "Reply to this email to answer {{ actor.label }} directly, or answer in Portico, "
        "where the request is kept: {{ conversation_url }}",
        variables={
            "actor": "the client who asked: label",
            "subject": "the certificate holder's name (empty for a general request)",
            "message": "the client's reason or message, as typed",
            "conversation_url": "the request's page in Portico",
        },
    ),
)
