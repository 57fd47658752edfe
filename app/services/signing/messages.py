"""The system templates of signing: the request to sign (with the signer's personal link),
its reminder, the completion notice that carries the signed PDF, and the one-time code for a
signer who came through the emailed link. Registered in :mod:`app.services.system_templates`."""

from __future__ import annotations

from app.services.template_specs import TemplateSpec
from models import Channel

_spec = TemplateSpec

#: What every signing template may use besides the common variables.
_SIGNING = {
    "signer": "the signer's name",
    "title": "the document's title",
    "message": "the office's message to the signers",
    "expires_on": "the last day it can be signed",
}

SIGN_TEMPLATES: tuple[TemplateSpec, ...] = (
    _spec(
        "sign.requested",
        Channel.EMAIL,
        "Sign request: a document to sign",
        "Please sign: {{ title }}",
        "Hello {{ signer }},\n\n"
        "{{ agent.full_name or office.name }} asks you to sign a document: {{ title }}.\n\n"
        "{% if message %}{{ message }}\n\n{% endif %}"
        "Read and sign it here: {{ sign_url }}\n\n"
        "The link is personal: do not pass it on. It works until {{ expires_on }}.\n\n"
        "{{ agent.full_name or office.name }}\n{{ office.phone or '' }}",
        required=("sign_url",),
        variables={**_SIGNING, "sign_url": "the signer's personal signing link"},
        sensitive=True,
    ),
    _spec(
        "sign.reminder",
        Channel.EMAIL,
        "Sign request: reminder",
        "Reminder: please sign {{ title }}",
        "Hello {{ signer }},\n\n"
        "A document from {{ agent.full_name or office.name }} is still waiting for your "
        "signature: {{ title }}.\n\n"
        "Read and sign it here: {{ sign_url }}\n\n"
        "The link is personal: do not pass it on. It works until {{ expires_on }}; an "
        "earlier link you received no longer works.\n\n"
        "{{ agent.full_name or office.name }}\n{{ office.phone or '' }}",
        required=("sign_url",),
        variables={**_SIGNING, "sign_url": "the signer's personal signing link"},
        sensitive=True,
    ),
    _spec(
        "sign.completed",
        Channel.EMAIL,
        "Sign request: signed by everyone",
        "Signed: {{ title }}",
        "Hello {{ signer }},\n\n"
        "Everyone has signed {{ title }}. The signed document is attached for your records; "
        "it carries a seal, so any later change to it shows.\n\n"
        "{{ agent.full_name or office.name }}\n{{ office.phone or '' }}",
        variables=_SIGNING,
    ),
    _spec(
        "sign.code",
        Channel.EMAIL,
        "Sign request: one-time code",
        "Your code to sign {{ title }}: {{ code }}",
        "Hello {{ signer }},\n\n"
        "Your code to open {{ title }} for signing is:\n\n"
        "    {{ code }}\n\n"
        "It works once, for {{ code_minutes }} minutes. If you did not ask for it, you can "
        "ignore this email.",
        required=("code",),
        variables={
            **_SIGNING,
            "code": "the 6-digit code",
            "code_minutes": "minutes it stays valid",
        },
        sensitive=True,
    ),
)
