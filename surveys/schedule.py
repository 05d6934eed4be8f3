"""Choosing when a draft opens and closes, in the union's time zone: presets and typed times."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from common.errors import N_, DomainError

MORNING = time(8, 0)
EVENING = time(18, 0)
REMINDERS = ("1d", "3h")  # the reminders an officer can pick in chat
CLOSING_DAYS = (3, 7, 14)
# 2026-12-07 08:00 · 2026/12/7 8:00 · 12-07 08:00 · 12月7日 8:00 · 2026年12月7日8点 · 12-07
_TYPED = re.compile(
    r"^(?:(?P<year>\d{4})\s*[-/.年]\s*)?(?P<month>\d{1,2})\s*[-/.月]\s*(?P<day>\d{1,2})\s*[日号]?"
    r"(?:\s*(?:T|\s)?\s*(?P<hour>\d{1,2})\s*(?:[:：点时]\s*(?P<minute>\d{2})?\s*分?)?)?$"
)


@dataclass(frozen=True, slots=True)
class Schedule:
    """opens_at None: open now. Reminders count back from closes_at."""

    opens_at: datetime | None
    closes_at: datetime | None
    reminders: bool
    audience: tuple[str, ...]


def tomorrow_morning(now: datetime, tz: ZoneInfo) -> datetime:
    return datetime.combine(now.astimezone(tz).date() + timedelta(days=1), MORNING, tz)


def next_monday_morning(now: datetime, tz: ZoneInfo) -> datetime:
    today = now.astimezone(tz).date()
    return datetime.combine(today + timedelta(days=7 - today.weekday()), MORNING, tz)


def closing_after(days: int, opens_at: datetime | None, now: datetime, tz: ZoneInfo) -> datetime:
    start = (opens_at or now).astimezone(tz).date()
    return datetime.combine(start + timedelta(days=days), EVENING, tz)


def parse_time(text: str, now: datetime, tz: ZoneInfo, *, default: time = MORNING) -> datetime:
    """A typed moment in the union's time zone; a date without a time means `default`.
    Without a year: the next such date."""
    match = _TYPED.match(text.strip())
    if match is None:
        raise DomainError(N_("Please type a time such as 2026-12-07 08:00 or 12月7日 8:00."))
    local_now = now.astimezone(tz)
    year = int(match["year"]) if match["year"] else local_now.year
    clock = default
    try:
        if match["hour"] is not None:
            clock = time(int(match["hour"]), int(match["minute"] or 0))
        moment = datetime.combine(date(year, int(match["month"]), int(match["day"])), clock, tz)
    except ValueError:
        raise DomainError(N_("There is no such date or time: {text}."), text=text.strip()) from None
    if match["year"] is None and moment <= local_now:
        moment = moment.replace(year=year + 1)
    if moment <= local_now:
        raise DomainError(N_("That time has already passed."))
    return moment


def check(schedule: Schedule, now: datetime) -> None:
    if schedule.opens_at is not None and schedule.opens_at <= now:
        raise DomainError(N_("The opening time has already passed."))
    if schedule.closes_at is not None and schedule.closes_at <= (schedule.opens_at or now):
        raise DomainError(N_("The survey must close after it opens."))
