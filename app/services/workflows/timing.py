"""When actions fire: delays counted on the office's calendar, and the sending window."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from dateutil.relativedelta import relativedelta
from flask import current_app

from models import DelayUnit, Workflow

#: The longest delay an action may have: a campaign that waits longer is a mistake, and dates
#: past the calendar's end would break every save that starts the workflow.
MAX_DELAY = timedelta(days=10 * 366)


def add_delay(start: datetime, amount: int, unit: DelayUnit) -> datetime:
    """``start`` plus the delay. Minutes and hours are elapsed time; days, weeks, months and
    years are counted on the office's calendar, so "2 days later" keeps the hour of day across
    a daylight-saving change and "1 month later" from January 31 is the last day of February
    where the office is, not where UTC is."""
    if unit in (DelayUnit.MINUTES, DelayUnit.HOURS):
        return start + timedelta(**{unit.value: amount})
    local = start.astimezone(zone())
    if unit in (DelayUnit.MONTHS, DelayUnit.YEARS):
        local = local + relativedelta(**{unit.value: amount})
    else:
        local = local + timedelta(**{unit.value: amount})  # wall-clock arithmetic in the zone
    return local.astimezone(start.tzinfo)


def zone() -> ZoneInfo:
    """The office's time zone."""
    return ZoneInfo(current_app.config["PORTICO_TIMEZONE"])


def in_window(workflow: Workflow, when: datetime) -> datetime:
    """``when``, or the next opening of the workflow's sending window after it."""
    if not workflow.window_days or workflow.window_start is None or workflow.window_end is None:
        return when
    office = zone()
    local = when.astimezone(office)
    days = {int(d) for d in workflow.window_days}
    for offset in range(8):
        day = local.date() + timedelta(days=offset)
        if day.weekday() not in days:
            continue
        opens = datetime.combine(day, workflow.window_start, tzinfo=office)
        closes = datetime.combine(day, workflow.window_end, tzinfo=office)
        if offset == 0 and opens <= local < closes:
            return when
        if local < opens:
            return opens.astimezone(when.tzinfo)
    return when  # no day allowed at all: cannot happen once checked, but never lose work
