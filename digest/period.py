"""Digest periods are ISO weeks in the union's time zone ("2026-W48"). The digest of a week
is due on the configured weekday and time of the week after it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

PERIOD = re.compile(r"^(\d{4})-W(\d{2})$")


class PeriodError(ValueError):
    """Not an ISO week such as 2026-W48."""


@dataclass(frozen=True, slots=True, order=True)
class Period:
    year: int
    week: int

    @classmethod
    def parse(cls, text: str) -> Period:
        match = PERIOD.match(text.strip().upper())
        if not match:
            raise PeriodError(f"{text!r} is not an ISO week such as 2026-W48")
        year, week = int(match[1]), int(match[2])
        try:
            date.fromisocalendar(year, week, 1)
        except ValueError:
            raise PeriodError(f"{text!r}: {year} has no week {week}") from None
        return cls(year, week)

    @classmethod
    def of_day(cls, day: date) -> Period:
        year, week, _ = day.isocalendar()
        return cls(year, week)

    @classmethod
    def containing(cls, moment: datetime, tz: ZoneInfo) -> Period:
        return cls.of_day(moment.astimezone(tz).date())

    @property
    def key(self) -> str:
        return f"{self.year}-W{self.week:02d}"

    def __str__(self) -> str:
        return self.key

    @property
    def first_day(self) -> date:
        return date.fromisocalendar(self.year, self.week, 1)

    @property
    def end_day(self) -> date:
        """The day after the period (exclusive bound)."""
        return self.first_day + timedelta(days=7)

    def start(self, tz: ZoneInfo) -> datetime:
        """Monday 00:00 local, in UTC."""
        return datetime.combine(self.first_day, time(), tz).astimezone(UTC)

    def end(self, tz: ZoneInfo) -> datetime:
        return datetime.combine(self.end_day, time(), tz).astimezone(UTC)

    def previous(self) -> Period:
        return Period.of_day(self.first_day - timedelta(days=7))

    def next(self) -> Period:
        return Period.of_day(self.end_day)

    def due_at(self, weekday: int, at: time, tz: ZoneInfo) -> datetime:
        """When this period's digest is sent: `weekday` (1 = Monday) of the following week."""
        day = self.end_day + timedelta(days=weekday - 1)
        return datetime.combine(day, at, tz).astimezone(UTC)


def latest_due(now: datetime, weekday: int, at: time, tz: ZoneInfo) -> Period:
    """The most recent period whose digest is due at `now` (the one catch-up sends)."""
    period = Period.containing(now, tz).previous()
    while period.due_at(weekday, at, tz) > now:
        period = period.previous()
    return period
