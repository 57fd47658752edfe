"""The shape of a shipped template: its text, and for a system template what it must keep and
may use (:mod:`app.services.system_templates` lists them)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from models import Channel

#: Variables every template may use.
COMMON_VARIABLES = {
    "record": "the client: first_name, last_name, full_name, display_name, email, company_name",
    "agent": "the assigned agent: full_name, first_name, email, phone",
    "office": "the office: name, email, phone",
    "portal_url": "the portal's sign-in page",
}


@dataclass(frozen=True)
class TemplateText:
    """A template's shipped text, as "restore default text" puts it back."""

    key: str
    channel: Channel
    name: str
    subject: str
    body: str

    def row(self) -> dict[str, Any]:
        """The stored template's columns this text fills (the channel only on a new row)."""
        return {
            "channel": self.channel,
            "name": self.name,
            "subject": self.subject,
            "body": self.body,
        }


@dataclass(frozen=True)
class TemplateSpec(TemplateText):
    """A system template: its text, and what it must keep and may use."""

    #: Placeholders the template must keep.
    required: tuple[str, ...] = ()
    #: Extra variables this template may use, with what they hold.
    variables: dict[str, str] = field(default_factory=dict)
    #: Messages from it carry credentials: redacted for staff, blanked after delivery.
    sensitive: bool = False
