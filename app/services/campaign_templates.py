"""The message templates of the two sample campaigns (quote follow-up, annual review).

Unlike system templates they may be deleted, and need no placeholder; but they have a default
text all the same: the demo seeds add them, "Restore default text" puts an edited one back as
it was seeded, and the templates list's "Sample campaign templates" page adds back any the
office deleted (or never had), one by one or all at once. "Restore missing defaults" leaves
them out, so an office that does not want them is never given them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select

from app.services import defaults
from app.services.errors import ValidationError
from app.services.system_templates import TemplateText
from models import Channel, MessageTemplate, db


@dataclass(frozen=True)
class CampaignTemplate(TemplateText):
    """A sample campaign's template: its text, and nothing it must keep."""


CAMPAIGN_TEMPLATES: dict[str, CampaignTemplate] = {
    template.key: template
    for template in (
        CampaignTemplate(
            "campaign.quote_follow_up",
            Channel.EMAIL,
            "Quote follow-up",
            "Your Medicare plan quote, {{ record.first_name }}",
            "Hello {{ record.first_name }},\n\nThank you for letting us quote your Medicare plan. "
            "Do you have any questions about it? Reply to this email or call us"
            "{% if office.phone %} at {{ office.phone }}{% endif %}.\n\n{{ agent.full_name }}",
        ),
        CampaignTemplate(
            "campaign.quote_follow_up.sms",
            Channel.SMS,
            "Quote follow-up (text)",
            "",
            "Hi {{ record.first_name }}, any questions about your Medicare plan quote? "
            "Just reply{% if agent.first_name %} ({{ agent.first_name }}){% endif %}.",
        ),
        CampaignTemplate(
            "campaign.aep.announce",
            Channel.EMAIL,
            "Annual review: it is that time",
            "Your annual plan review",
            "Hello {{ record.first_name }},\n\nThe annual enrollment period is coming. We will "
            "review your coverage with you so nothing changes by surprise. Watch for your "
            "secure portal link: you can check your prescriptions and doctors there before we "
            "talk.\n\n{{ agent.full_name }}",
        ),
        CampaignTemplate(
            "campaign.aep.sms",
            Channel.SMS,
            "Annual review (text)",
            "",
            "Your annual plan review is coming. Your secure portal link is on its way by email.",
        ),
        CampaignTemplate(
            "campaign.aep.book",
            Channel.EMAIL,
            "Annual review: book a time",
            "Book your annual review, {{ record.first_name }}",
            "Hello {{ record.first_name }},\n\nPlease reply with a time that suits you for your "
            "annual review, or call us{% if office.phone %} at {{ office.phone }}{% endif %}."
            "\n\n{{ agent.full_name }}",
        ),
    )
}


def is_sample(key: str) -> bool:
    """Is ``key`` one of the sample campaigns' templates?"""
    return key in CAMPAIGN_TEMPLATES


def samples() -> list[tuple[CampaignTemplate, MessageTemplate | None]]:
    """Each sample campaign template, with the office's template under its key (None when
    the office deleted it or never had it)."""
    stored = {
        template.key: template
        for template in db.session.scalars(
            select(MessageTemplate).where(MessageTemplate.key.in_(CAMPAIGN_TEMPLATES))
        )
    }
    return [(sample, stored.get(key)) for key, sample in CAMPAIGN_TEMPLATES.items()]


def missing_samples() -> list[str]:
    """The keys of the sample campaign templates the office does not have."""
    return [sample.key for sample, stored in samples() if stored is None]


def add_samples(keys: Iterable[str] | None = None) -> list[str]:
    """Add the sample campaign templates of ``keys`` (every one when None) that the office
    does not have, with the text they were seeded with; those it has stay as they are, edits
    and all. Works whether or not the office ever had them; the demo seeds add them this way
    too. Returns the keys added."""
    wanted = list(CAMPAIGN_TEMPLATES) if keys is None else list(dict.fromkeys(keys))
    unknown = [key for key in wanted if key not in CAMPAIGN_TEMPLATES]
    if unknown:
        raise ValidationError(f"There is no sample template with the key {unknown[0]!r}.")
    shipped = {key: sample.row() for key, sample in CAMPAIGN_TEMPLATES.items()}
    return defaults.restore(MessageTemplate, "key", shipped, wanted, missing_only=True)
