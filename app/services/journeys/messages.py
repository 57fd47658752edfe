"""The system templates of journeys: the visitor's PIN, the link back to a journey left
halfway, the completion email (the sealed PDF attached when the journey sends copies; a team
may use its own template instead) and the copy a visitor asks for on the ending page.
Registered in :mod:`app.services.system_templates`."""

from __future__ import annotations

from app.services.template_specs import TemplateSpec
from models import Channel

#: The default completion email; a team of staff users may name another (Team).
COMPLETED = "journey.completed"
COPY = "journey.copy"
PIN = "journey.pin"
RESUME = "journey.resume"

#: What every journey template may use besides the common variables.
_JOURNEY = {
    "journey_name": "the journey's name",
    "visitor_name": "the name the visitor gave",
}

JOURNEY_TEMPLATES: tuple[TemplateSpec, ...] = (
    TemplateSpec(
        PIN,
        Channel.EMAIL,
        "Journey: PIN",
        "Your PIN for {{ journey_name }}: {{ code }}",
        # No name: whoever typed this address typed the name too, and the address is not
        # proven yet (a stranger's text must not go out in the office's email).
        "Hello,\n\n"
        "Your PIN to go on with {{ journey_name }} is:\n\n"
        "    {{ code }}\n\n"
        "It works once, for {{ code_minutes }} minutes. If you did not ask for it, you can "
        "ignore this email.\n\n{{ office.name }}",
        required=("code",),
        variables={
            **_JOURNEY,
            "code": "the 6-digit PIN",
            "code_minutes": "minutes it stays valid",
        },
        sensitive=True,
    ),
    TemplateSpec(
        RESUME,
        Channel.EMAIL,
        "Journey: link to come back",
        "Finish {{ journey_name }} where you left off",
        "Hello {{ visitor_name }},\n\n"
        "You started {{ journey_name }} with {{ office.name }} but did not finish. Your "
        "answers are kept: this link brings you back to where you left off (we email you a "
        "new PIN first):\n\n"
        "{{ resume_url }}\n\n"
        "The link is personal and works until {{ resume_until }}.\n\n{{ office.name }}",
        required=("resume_url",),
        variables={
            **_JOURNEY,
            "resume_url": "the visitor's personal link back to the journey",
            "resume_until": "the last day the link works",
        },
        sensitive=True,
    ),
    TemplateSpec(
        COMPLETED,
        Channel.EMAIL,
        "Journey: completed",
        "Thank you: {{ journey_name }} is complete",
        "Hello {{ visitor_name }},\n\n"
        "Thank you: we received everything you sent for {{ journey_name }}."
        "{% if attached %} A copy is attached for your records; it carries our seal, so any "
        "later change to it shows.{% endif %}\n\n"
        "{{ agent.full_name or office.name }} will be in touch if anything more is needed.\n\n"
        "{{ agent.full_name or office.name }}\n{{ office.phone or '' }}",
        variables={**_JOURNEY, "attached": "whether the PDF of the session is attached"},
    ),
    TemplateSpec(
        COPY,
        Channel.EMAIL,
        "Journey: copy for the visitor",
        "Your copy of {{ journey_name }}",
        "Hello {{ visitor_name }},\n\n"
        "As you asked, here is your copy of {{ journey_name }}: everything you sent us, "
        "in one PDF that carries our seal, so any later change to it shows.\n\n"
        "{{ office.name }}",
        variables=_JOURNEY,
    ),
)
