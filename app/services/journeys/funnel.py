"""The funnel of a journey for staff: per day of the office (``PORTICO_TIMEZONE``), how many
sessions started, had their email verified, did each step, completed and were abandoned.

Counted from the milestones (one row per session and stage, written when the session gets
there) in one GROUP BY query: the office days' bounds in UTC are worked out here and the
database sorts each milestone into its day, so days are the office's whatever the database
and however the clocks change.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import case, func, literal, select

from models import Journey, JourneyMilestone, db, utcnow

MAX_DAYS = 366


@dataclass(frozen=True)
class Stage:
    """A row of the funnel: its milestone (``started``, ``step:2``...) and its label."""

    key: str
    label: str


@dataclass
class Funnel:
    """Counts per stage and day (oldest day first), and per stage over all the days."""

    days: list[date]
    stages: list[Stage]
    counts: dict[str, dict[date, int]] = field(default_factory=dict)
    totals: dict[str, int] = field(default_factory=dict)

    def row(self, stage: Stage | str) -> list[int]:
        """The stage's count for each of :attr:`days`."""
        key = stage.key if isinstance(stage, Stage) else stage
        per_day = self.counts.get(key, {})
        return [per_day.get(day, 0) for day in self.days]


def _stages(journey: Journey, seen: set[str]) -> list[Stage]:
    """Started, verified, each step of the journey as it is now (by its position; a step
    only older sessions had is named by its number), completed, abandoned."""
    titles = {f"step:{index}": step.title for index, step in enumerate(journey.steps)}
    indexes = {int(key[5:]) for key in seen if key.startswith("step:") and key[5:].isdigit()}
    indexes |= set(range(len(journey.steps)))
    steps = [
        Stage(
            f"step:{index}",
            _("Step %(number)s: %(title)s", number=index + 1, title=titles[f"step:{index}"])
            if f"step:{index}" in titles
            else _("Step %(number)s", number=index + 1),
        )
        for index in sorted(indexes)
    ]
    return [
        Stage("started", _("Started")),
        Stage("verified", _("PIN verified")),
        *steps,
        Stage("completed", _("Completed")),
        Stage("abandoned", _("Abandoned")),
    ]


def funnel(journey: Journey, days: int = 30, now: datetime | None = None) -> Funnel:
    """The last ``days`` office days of ``journey`` (today included)."""
    days = max(1, min(days, MAX_DAYS))
    zone = ZoneInfo(current_app.config["PORTICO_TIMEZONE"])
    today = (now or utcnow()).astimezone(zone).date()
    shown = [today - timedelta(days=back) for back in range(days - 1, -1, -1)]
    # Each day's first moment, in the office's zone: the bounds a milestone falls between.
    bounds = [datetime.combine(day, time(), tzinfo=zone) for day in shown]
    end = datetime.combine(today + timedelta(days=1), time(), tzinfo=zone)
    whens = [(JourneyMilestone.at < bound, index) for index, bound in enumerate(bounds[1:])]
    # Grouped by its label: PostgreSQL would not match the CASE's parameters twice.
    day_of: Any = (case(*whens, else_=len(bounds) - 1) if whens else literal(0)).label("day")
    rows = db.session.execute(
        select(JourneyMilestone.stage, day_of, func.count())
        .where(
            JourneyMilestone.journey_id == journey.id,
            JourneyMilestone.at >= bounds[0],
            JourneyMilestone.at < end,
        )
        .group_by(JourneyMilestone.stage, day_of)
    ).all()
    counts: dict[str, dict[date, int]] = {}
    for stage, index, count in rows:
        counts.setdefault(stage, {})[shown[int(index)]] = int(count)
    result = Funnel(days=shown, stages=_stages(journey, set(counts)), counts=counts)
    result.totals = {stage.key: sum(result.row(stage)) for stage in result.stages}
    return result
