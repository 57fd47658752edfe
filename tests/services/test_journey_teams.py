"""Teams of staff: what a team may be saved with, and which completion email a journey's
user brings (their team's while it still works, else the office's default)."""

import pytest

from app.services.errors import ValidationError
from app.services.journeys import teams
from models import Channel, MessageTemplate, Team, db
from tests import factories


def template(key: str, channel: Channel = Channel.EMAIL) -> MessageTemplate:
    row = MessageTemplate(key=key, channel=channel, name=key, subject="Hi", body="Hello")
    db.session.add(row)
    db.session.flush()
    return row


@pytest.mark.parametrize(
    ("name", "key", "field", "message"),
    [
        ("   ", None, "name", "Give the team a name."),
        ("x" * 81, None, "name", "at most 80"),
        ("claims", None, "name", "Another team has this name."),
        ("Sales", "no.such", "completion_template_key", "There is no template"),
        ("Sales", "team.text", "completion_template_key", "is not an email template"),
        ("Sales", "portal.link", "completion_template_key", "template of another message"),
    ],
)
def test_a_team_is_refused_with_the_field_to_fix(ctx, name, key, field, message):
    template("team.text", Channel.SMS)
    db.session.add(Team(name="Claims"))
    db.session.flush()
    with pytest.raises(ValidationError, match=message) as refused:
        teams.clean_team(Team(name=name, completion_template_key=key))
    assert refused.value.field == field


def test_a_team_is_tidied_and_may_keep_its_own_name(ctx):
    template("sales.done")
    team = Team(name="  Sales \t team ", completion_template_key=" sales.done ")
    teams.clean_team(team)
    assert (team.name, team.completion_template_key) == ("Sales team", "sales.done")
    db.session.add(team)
    db.session.flush()
    teams.clean_team(team)  # saved again under its own name
    blank = Team(name="Blank", completion_template_key="  ")
    teams.clean_team(blank)
    assert blank.completion_template_key is None
    teams.clean_team(Team(name="Default", completion_template_key="journey.completed"))


def test_the_completion_template_of_a_user(ctx):
    lone = factories.staff()
    member = factories.staff()
    assert teams.completion_template_key(None) == "journey.completed"
    assert teams.completion_template_key(lone) == "journey.completed"
    row = template("claims.done")
    member.team = Team(name="Claims", completion_template_key="claims.done")
    db.session.flush()
    assert teams.completion_template_key(member) == "claims.done"
    db.session.delete(row)  # deleted since: the visitor still gets an email
    db.session.flush()
    assert teams.completion_template_key(member) == "journey.completed"
