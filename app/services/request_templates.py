"""The system templates of conversations: the office hears of a client's *Contact us*
message, and the client of a request the office sent or answered (the message itself stays in
the portal; the notice links to the thread)."""

from __future__ import annotations

from app.services.template_specs import TemplateSpec
from models import Channel

_spec = TemplateSpec

REQUEST_TEMPLATES: tuple[TemplateSpec, ...] = (
    _spec(
        "requests.contact_us",
        Channel.EMAIL,
        "Contact us: the client's message to the agent",
        "Portal message from {{ actor.label }}: {{ subject }}",
        "{{ actor.label }} ({{ record.display_name }}) wrote through the client portal.\n\n"
        "Subject: {{ subject }}\n\n{{ message }}\n\n"
        "{% if documents %}Files sent with it, kept on the record:\n"
        "{% for title in documents %}- {{ title }}\n{% endfor %}\n{% endif %}"
        "Reply to this email to answer {{ actor.label }} directly, or answer in Portico, "
        "where the message is kept: {{ conversation_url }}",
        variables={
            "actor": "the client who wrote: label",
            "subject": "the subject the client gave",
            "message": "the client's message, as typed",
            "documents": "the names of the files sent with it",
            "conversation_url": "the conversation's page in Portico",
        },
    ),
    _spec(
        "requests.created",
        Channel.EMAIL,
        "Request to the client: notice",
        "A request from {{ agent.full_name or office.name }}: {{ subject }}",
        "Hello,\n\n"
        "{{ agent.full_name or office.name }} has sent you a request in your secure client "
        "portal: {{ subject }}.\n\n"
        "Open it to read it and answer, with documents if you have them: {{ request_url }}"
        "\n\n{{ agent.full_name or office.name }}\n{{ office.phone or '' }}",
        required=("request_url",),
        variables={
            "subject": "the request's subject",
            "request_url": "the request's page in the client's portal",
        },
    ),
    _spec(
        "requests.replied",
        Channel.EMAIL,
        "Request answered by the office: notice",
        "New answer from {{ agent.full_name or office.name }}: {{ subject }}",
        "Hello,\n\n"
        '{{ agent.full_name or office.name }} has answered you about "{{ subject }}" in '
        "your secure client portal.\n\n"
        "Read the answer: {{ request_url }}"
        "\n\n{{ agent.full_name or office.name }}\n{{ office.phone or '' }}",
        required=("request_url",),
        variables={
            "subject": "the conversation's subject",
            "request_url": "the conversation's page in the client's portal",
        },
    ),
)
