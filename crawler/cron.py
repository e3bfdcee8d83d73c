"""Cron expressions of the sources: standard crontab (Sunday = 0 or 7), optionally with seconds first."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, tzinfo

from apscheduler.triggers.cron import CronTrigger

_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat", "sun")
_PART = re.compile(r"^(\d)(?:-(\d))?(/\d+)?$")


def _weekday_part(part: str) -> str:
    """One comma-separated part of a crontab day-of-week field, in APScheduler's names (it counts 0 as Monday)."""
    match = _PART.match(part)
    if not match:
        return part  # "*", "*/2" and names mean the same in both
    first, last, step = int(match.group(1)), match.group(2), match.group(3) or ""
    if first > 7 or (last is not None and int(last) > 7):
        raise ValueError(f"day of week {part!r} is out of range 0-7")
    if last is None:
        return _DAYS[first] + step
    end = int(last)
    if first == 0 and end >= 1:  # "0-5" = Sunday plus Monday-Friday
        return "sun," + (f"mon-{_DAYS[end]}" if end < 7 else "mon-sat") + step
    return f"{_DAYS[first]}-{_DAYS[end]}{step}"


def cron_trigger(expr: str, timezone: tzinfo) -> CronTrigger:
    """A trigger for "m h dom mon dow" (crontab) or "s m h dom mon dow"; raises ValueError with the reason."""
    fields = expr.split()
    if len(fields) == 5:
        fields = ["0", *fields]
    if len(fields) != 6:
        raise ValueError(f"expected 5 fields (minute hour day month weekday) or 6 (seconds first), got {len(fields)}")
    second, minute, hour, day, month, weekday = fields
    weekday = ",".join(_weekday_part(p) for p in weekday.split(","))
    return CronTrigger(second=second, minute=minute, hour=hour, day=day, month=month, day_of_week=weekday, timezone=timezone)


def interval_of(trigger: CronTrigger, now: datetime) -> timedelta:
    """The gap between the next two fire times (the schedule's period, near `now`)."""
    first = trigger.get_next_fire_time(None, now)
    if first is None:
        return timedelta(days=1)
    second = trigger.get_next_fire_time(first, first + timedelta(microseconds=1))
    return (second - first) if second else timedelta(days=1)
