"""The message templates of the two sample campaigns (quote follow-up, annual review).

Unlike system templates they may be deleted, and need no placeholder; but they have a default
text all the same: the demo seeds add them, "Restore default text" puts an edited one back as
it was seeded, and the templates list's "Sample campaign templates" page adds back any the
office deleted (or never had), one by one or all at once. "Restore missing defaults" leaves
them out, so an office that does not want them is never given them.
"""

from __future__ import annotations

from dataclasses import dataclass

from models import Channel


@dataclass(frozen=True)
class CampaignTemplate:
    key: str
    channel: Channel
    name: str
    subject: str
    body: str


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
