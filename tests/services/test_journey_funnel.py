"""The funnel of a journey: milestones counted per office day (New York in the tests, across
the November clock change), per stage named after the journey's steps as they are now, in one
query."""

from __future__ import annotations

from datetime import UTC, date, datetime

from app.services.journeys import funnel
from models import JourneyMilestone, JourneySession, db
from tests import factories
from tests.services.test_journey_completion import journey

NOW = datetime(2026, 12, 3, 15, 0, tzinfo=UTC)  # 10:00 in New York


def at(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def sessions(item, count: int) -> list[JourneySession]:
    made = [
        JourneySession(
            journey=item,
            public_id=f"f{item.id}-{n}",
            version=1,
            definition={"steps": []},
            name="Vic Visitor",
            email=f"vic{n}@example.com",
        )
        for n in range(count)
    ]
    db.session.add_all(made)
    db.session.flush()
    return made


def reached(session: JourneySession, stage: str, moment: datetime) -> None:
    db.session.add(
        JourneyMilestone(
            journey_id=session.journey_id, session_id=session.id, stage=stage, at=moment
        )
    )


def test_milestones_fall_on_the_office_day_and_step_rows_follow_the_journey(ctx, count_queries):
    agent = factories.staff()
    item, other = journey(agent), journey(agent, slug="other")
    first, second, third, old = sessions(item, 4)
    # 04:30 UTC is 23:30 the day before in New York; 05:30 UTC is 00:30 the same day.
    reached(first, "started", at(2026, 12, 3, 4, 30))
    reached(first, "verified", at(2026, 12, 3, 5, 30))
    reached(first, "step:0", at(2026, 12, 3, 5, 40))
    reached(second, "started", at(2026, 12, 3, 14, 0))
    reached(second, "abandoned", at(2026, 12, 3, 14, 59))
    # The clocks went back on 1 November: 04:30 UTC was 00:30 EDT, next day's 04:30 UTC
    # 23:30 EST, both on 1 November.
    reached(third, "started", at(2026, 11, 1, 4, 30))
    reached(third, "completed", at(2026, 11, 2, 4, 30))
    # A session on an older version, with a sixth step the journey no longer has.
    reached(old, "step:5", at(2026, 12, 1, 12, 0))
    reached(old, "started", at(2026, 9, 1, 12, 0))  # before the window
    [stranger] = sessions(other, 1)
    reached(stranger, "started", at(2026, 12, 3, 14, 0))
    db.session.commit()
    item = db.session.get(type(item), item.id)
    assert len(item.steps) == 3  # loaded: the funnel's own work is what is counted

    with count_queries() as counter:
        recent = funnel.funnel(item, days=7, now=NOW)
    assert counter.count == 1

    assert recent.days[0] == date(2026, 11, 27) and recent.days[-1] == date(2026, 12, 3)
    assert [s.key for s in recent.stages] == [
        "started",
        "verified",
        "step:0",
        "step:1",
        "step:2",
        "step:5",
        "completed",
        "abandoned",
    ]
    labels = {s.key: s.label for s in recent.stages}
    assert labels["step:0"] == "Step 1: Your car" and labels["step:5"] == "Step 6"
    assert recent.row("started") == [0, 0, 0, 0, 0, 1, 1]
    assert recent.row("verified") == [0, 0, 0, 0, 0, 0, 1]
    assert recent.row("step:5") == [0, 0, 0, 0, 1, 0, 0]
    assert recent.totals == {
        "started": 2,
        "verified": 1,
        "step:0": 1,
        "step:1": 0,
        "step:2": 0,
        "step:5": 1,
        "completed": 0,
        "abandoned": 1,
    }

    month = funnel.funnel(item, days=40, now=NOW)
    november_first = month.days.index(date(2026, 11, 1))
    assert month.row("started")[november_first] == 1
    assert month.row("completed")[november_first] == 1
    assert month.totals["started"] == 3


def test_one_day_and_an_empty_journey(ctx):
    item = journey(factories.staff())
    today = funnel.funnel(item, days=1, now=NOW)
    assert today.days == [date(2026, 12, 3)]
    assert all(total == 0 for total in today.totals.values())
    assert len(today.stages) == 2 + 3 + 2
