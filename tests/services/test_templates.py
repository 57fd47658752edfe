import pytest
from sqlalchemy import select

from app.services import campaign_templates, notification_rules, templates
from app.services.campaign_templates import CAMPAIGN_TEMPLATES
from app.services.errors import ValidationError
from app.services.system_templates import SYSTEM_TEMPLATES
from models import Channel, MessageTemplate, db
from tests import factories


def test_every_system_template_is_seeded_and_valid(ctx):
    for key, spec in SYSTEM_TEMPLATES.items():
        stored = templates.get_template(key)
        assert stored is not None, key
        templates.check_template(key, spec.channel, spec.subject, spec.body)


def test_every_sample_campaign_template_is_valid(ctx):
    for key, sample in CAMPAIGN_TEMPLATES.items():
        templates.check_template(key, sample.channel, sample.subject, sample.body)


def test_rendering_uses_the_record_and_makes_an_html_part(ctx):
    record = factories.record(first_name="Ada", last_name="Lovelace")
    context = templates.base_context(record)
    context.update(portal_link="https://portal.test/portal/a/abc", password="x")
    rendered = templates.render("portal.link", context)
    assert rendered.subject == "Your secure client portal from Client portal"
    assert rendered.text.startswith("Hello Ada,")
    assert "https://portal.test/portal/a/abc" in rendered.text
    assert '<a href="https://portal.test/portal/a/abc">' in rendered.html
    assert rendered.sensitive is True


def test_html_part_escapes_client_values(ctx):
    record = factories.record(first_name="<b>Eve</b>")
    context = templates.base_context(record)
    context.update(portal_link="https://x.test/a", password="p")
    rendered = templates.render("portal.link", context)
    assert "&lt;b&gt;Eve&lt;/b&gt;" in rendered.html
    assert "<b>Eve</b>" not in rendered.html


@pytest.mark.parametrize(
    "body, message",
    [
        ("Hello {{ record.first_name }}", "must keep {{ portal_link }}"),
        ("{{ portal_link }} {% if %}", "Line 1"),
        ("{{ portal_link }} {{ recrd.first_name }}", "Unknown placeholder 'recrd'"),
    ],
)
def test_a_credentials_template_must_stay_usable(ctx, body, message):
    with pytest.raises(ValidationError, match=message):
        templates.check_template("portal.link", Channel.EMAIL, "Subject", body)


def test_sandbox_refuses_to_reach_into_python(ctx):
    template = templates.get_template("notify.agent")
    template.body = "{{ record.__class__.__mro__ }}"
    db.session.flush()
    # An unsafe template falls back to the default text instead of leaking anything.
    rendered = templates.render(
        "notify.agent",
        {
            **templates.base_context(None),
            "event": {"label": "X"},
            "summary": "S",
            "detail_lines": [],
            "record_url": "u",
        },
    )
    assert "class" not in rendered.text and "S" in rendered.text


def test_sms_templates_have_no_subject_and_a_length_limit(ctx):
    with pytest.raises(ValidationError, match="under 480"):
        templates.check_template("portal.login_code.sms", Channel.SMS, "", "{{ code }}" + "x" * 500)
    with pytest.raises(ValidationError, match="text message template"):
        templates.check_template("portal.login_code.sms", Channel.EMAIL, "S", "{{ code }}")


def test_restore_defaults_brings_back_text_and_missing_rows(ctx):
    stored = templates.get_template("portal.password")
    stored.body = "Your password: {{ password }} (edited)"
    db.session.delete(templates.get_template("portal.invitation"))
    db.session.flush()
    assert templates.ensure_defaults() == ["portal.invitation"]
    assert "edited" in templates.get_template("portal.password").body  # untouched
    templates.restore_defaults(["portal.password"])
    assert "edited" not in templates.get_template("portal.password").body


def test_custom_templates_have_free_keys_and_no_required_placeholders(ctx):
    templates.check_template(
        "aep.reminder-1",
        Channel.EMAIL,
        "AEP is coming",
        "Hello {{ record.first_name }}, book your review.",
    )
    db.session.add(
        MessageTemplate(
            key="aep.reminder-1",
            channel=Channel.EMAIL,
            name="AEP 1",
            subject="AEP {{ record.last_name }}",
            body="Hi {{ agent.full_name }}",
        )
    )
    db.session.flush()
    record = factories.record(last_name="Quill")
    assert templates.render("aep.reminder-1", templates.base_context(record)).subject == "AEP Quill"
    with pytest.raises(ValidationError, match="key"):
        templates.check_template("Bad Key!", Channel.EMAIL, "s", "b")


@pytest.mark.parametrize(
    "source",
    [
        "{{ 'x' * 10**9 }}",
        "{{ ['x'] * 20000 }}",
        "{{ 2 ** 1000000 }}",
        "{% for i in range(1000000) %}.{% endfor %}",
        "{% for i in range(9) %}{{ 'y' * 99999 }}{% endfor %}",
        "{{ 'x'.ljust(10**7) }}",
        "{{ 'x'|center(10**7) }}",
        "{{ 'x'|indent(10**7, true) }}",
        "{{ ('x' * 100)|replace('x', 'y' * 1000) }}",
        "{{ 'x'.replace('x', 'yy') }}",
        "{{ lipsum(2000) }}",
    ],
)
def test_a_template_cannot_make_a_worker_spend_minutes_or_gigabytes(ctx, source):
    with pytest.raises(ValidationError, match="could not be filled in"):
        templates.render_text(source, templates.base_context(None))


def test_small_repeats_and_ranges_still_work(ctx):
    context = templates.base_context(None)
    assert templates.render_text("{{ '-' * 3 }}{{ 2 ** 3 }}", context) == "---8"
    assert templates.render_text("{% for i in range(3) %}{{ i }}{% endfor %}", context) == "012"
    assert templates.render_text(
        "{{ 'a-b'|replace('-', ' and ') }}|{{ 'ab'|center(4) }}|", context
    ) == ("a and b| ab |")


def test_replies_go_to_the_active_agent_or_else_the_office(ctx):
    from app.services.portal_settings import get_settings

    get_settings().office_email = "office@example.com"
    agent = factories.staff(email="ann.agent@example.com")
    record = factories.record(assigned_agent=agent)
    assert templates.reply_address(record) == "ann.agent@example.com"
    agent.active = False  # she left: replies must not go to a mailbox nobody reads
    assert templates.reply_address(record) == "office@example.com"
    assert templates.reply_address(factories.record()) == "office@example.com"


# -- restoring and deleting ---------------------------------------------------------------------


def _campaigns():
    from seeds.campaigns import seed_campaigns

    seed_campaigns()
    db.session.flush()


def _workflow(name):
    from models import Workflow

    return db.session.scalar(select(Workflow).where(Workflow.name == name))


def test_every_sample_template_deleted_can_be_added_back(ctx):
    """Deleting a template a workflow sends is refused, so the last sample template goes only
    once no workflow sends any; they must still come back then."""
    _campaigns()
    db.session.delete(_workflow("Quote follow-up: Medicare Advantage"))  # one removed,
    for key, channel in (("office.review", Channel.EMAIL), ("office.review.sms", Channel.SMS)):
        db.session.add(MessageTemplate(key=key, channel=channel, name=key, subject="", body="B"))
    for step in _workflow("Annual review (AEP)").actions:  # one sends the office's own
        if step.template_key:
            step.template_key = (
                "office.review.sms" if "sms" in step.template_key else "office.review"
            )
    db.session.flush()
    for key in CAMPAIGN_TEMPLATES:
        template = templates.get_template(key)
        templates.check_delete(template)  # nothing sends it any more
        db.session.delete(template)
    db.session.flush()
    assert templates.ensure_defaults() == []  # system templates only, as before
    assert campaign_templates.missing_samples() == list(CAMPAIGN_TEMPLATES)

    assert campaign_templates.add_samples(["campaign.aep.sms"]) == [
        "campaign.aep.sms"
    ]  # one by one
    restored = templates.get_template("campaign.aep.sms")
    assert restored.channel == Channel.SMS and restored.name == "Annual review (text)"
    assert campaign_templates.add_samples() == [
        k for k in CAMPAIGN_TEMPLATES if k != "campaign.aep.sms"
    ]
    for key, sample in CAMPAIGN_TEMPLATES.items():
        stored = templates.get_template(key)
        assert (stored.channel, stored.name, stored.subject, stored.body) == (
            sample.channel,
            sample.name,
            sample.subject,
            sample.body,
        )
    assert campaign_templates.missing_samples() == []
    assert campaign_templates.add_samples() == []


def test_adding_samples_leaves_edited_ones_and_refuses_unknown_keys(ctx):
    _campaigns()
    templates.get_template("campaign.aep.book").body = "Ours {{ record.first_name }}"
    db.session.delete(templates.get_template("campaign.aep.announce"))
    db.session.flush()
    assert campaign_templates.add_samples(["campaign.aep.book", "campaign.aep.announce"]) == [
        "campaign.aep.announce"
    ]
    assert templates.get_template("campaign.aep.book").body == "Ours {{ record.first_name }}"
    with pytest.raises(ValidationError, match=r"no sample template with the key 'portal\.link'"):
        campaign_templates.add_samples(["portal.link"])
    assert campaign_templates.is_sample("campaign.aep.book") and not campaign_templates.is_sample(
        "portal.link"
    )


def test_restore_missing_leaves_out_samples_an_office_never_had(ctx):
    db.session.delete(templates.get_template("portal.invitation"))
    db.session.flush()
    assert templates.ensure_defaults() == ["portal.invitation"]
    assert templates.get_template("campaign.aep.sms") is None
    assert len(campaign_templates.missing_samples()) == 5
    assert campaign_templates.add_samples(["campaign.aep.sms"]) == [
        "campaign.aep.sms"
    ]  # on purpose


def test_restore_default_text_of_a_campaign_template(ctx):
    _campaigns()
    templates.get_template("campaign.aep.book").body = "Edited {{ record.first_name }}"
    db.session.flush()
    assert templates.restore_defaults(["campaign.aep.book", "my.own"]) == ["campaign.aep.book"]
    assert "Please reply with a time" in templates.get_template("campaign.aep.book").body


def test_a_template_a_workflow_sends_cannot_be_deleted_and_the_message_names_it(ctx):
    _campaigns()
    with pytest.raises(ValidationError) as refused:
        templates.check_delete(templates.get_template("campaign.quote_follow_up"))
    assert "“Quote follow-up” is sent by the workflow “Quote follow-up: Medicare Advantage”" in (
        refused.value.message
    )
    from app.services import workflows

    copy = workflows.copy_workflow(_workflow("Annual review (AEP)"))
    db.session.flush()
    with pytest.raises(ValidationError) as refused:
        templates.check_delete(templates.get_template("campaign.aep.book"))
    assert f"workflows “Annual review (AEP)”, “{copy.name}”." in refused.value.message


def test_a_template_still_due_in_runs_under_way_cannot_be_deleted(ctx):
    from app.services import workflows
    from models import ActionStatus, ScheduledAction, Tag

    _campaigns()
    aep = db.session.scalar(select(Tag).where(Tag.name == "AEP Review Needed"))
    factories.record(first_name="Ada", tags=[aep])
    flow = _workflow("Annual review (AEP)")
    workflows.start_for_matching(flow)
    db.session.flush()
    pending = db.session.scalars(
        select(ScheduledAction).where(ScheduledAction.status == ActionStatus.PENDING)
    ).all()
    assert any(a.params.get("template_key") == "campaign.aep.sms" for a in pending)
    flow.actions[1].template_key = "campaign.quote_follow_up.sms"  # runs keep the old action
    db.session.flush()
    with pytest.raises(ValidationError, match=r"still to be sent by 1 scheduled action"):
        templates.check_delete(templates.get_template("campaign.aep.sms"))


def test_a_template_a_notification_rule_uses_cannot_be_deleted(ctx):
    db.session.add(
        MessageTemplate(
            key="agent.short", channel=Channel.EMAIL, name="Short", subject="S", body="B"
        )
    )
    notification_rules.rule_for("portal.profile.updated").agent_template_key = "agent.short"
    db.session.flush()
    with pytest.raises(ValidationError, match="used by the notification rule for “"):
        templates.check_delete(templates.get_template("agent.short"))


def test_system_templates_are_never_deleted_and_unused_custom_ones_are(ctx):
    with pytest.raises(ValidationError, match="is a system template"):
        templates.check_delete(templates.get_template("portal.link"))
    db.session.add(
        MessageTemplate(key="unused.one", channel=Channel.SMS, name="U", subject="", body="B")
    )
    db.session.flush()
    templates.check_delete(templates.get_template("unused.one"))


def test_missing_templates_are_those_no_message_can_be_made_from(ctx):
    _campaigns()
    db.session.delete(templates.get_template("portal.link"))  # renders from its default
    db.session.flush()
    keys = ["campaign.aep.book", "portal.link", "gone.away", None, ""]
    assert templates.missing(keys) == {"gone.away"}


def test_messages_give_the_office_number_as_people_read_it(ctx):
    from app.services.portal_settings import get_settings

    get_settings().office_phone = "+12025550100"
    assert templates.office_context()["phone"] == "(202) 555-0100"
