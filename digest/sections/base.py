"""What every digest section is: collect figures (SQL through the repositories) into JSON-able
data once, then render that data in any language, as workbook rows and as chart indicators."""

from __future__ import annotations

import html
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from digest.period import Period
from digest.ports import SectionRepos
from digest.settings import DigestSettings

Gettext = Callable[[str], str]
Data = dict[str, Any]
Cell = str | int | float | None


@dataclass(frozen=True, slots=True)
class Audience:
    """Who a digest is for: the whole union, one mailbox, or one department's handlers."""

    kind: str  # officers | box | department
    key: str = ""

    @property
    def name(self) -> str:
        return self.kind if self.kind == "officers" else f"{self.kind}:{self.key}"

    @classmethod
    def parse(cls, name: str) -> Audience:
        kind, _, key = name.partition(":")
        return cls(kind, key)


OFFICERS = Audience("officers")


@dataclass(frozen=True, slots=True)
class SectionContext:
    repos: SectionRepos
    period: Period
    audience: Audience
    settings: DigestSettings
    now: datetime

    @property
    def start(self) -> datetime:
        return self.period.start(self.settings.tz)

    @property
    def end(self) -> datetime:
        return self.period.end(self.settings.tz)

    @property
    def previous(self) -> Period:
        return self.period.previous()

    @property
    def today(self) -> date:
        """The day the digest speaks of as "today": the build day, at most the day after the
        period (a late re-build shows the period as it ended, not as it is now)."""
        return min(self.now.astimezone(self.settings.tz).date(), self.period.end_day)

    @property
    def department(self) -> str | None:
        return self.audience.key if self.audience.kind == "department" else None

    @property
    def box(self) -> str | None:
        return self.audience.key if self.audience.kind == "box" else None


@dataclass(frozen=True, slots=True)
class Sheet:
    title: str
    header: list[str]
    rows: list[list[Cell]] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Indicator:
    label: str  # message id
    current: float
    previous: float | None


@dataclass(frozen=True, slots=True)
class Section:
    key: str
    title: str  # message id
    audiences: frozenset[str]  # audience kinds it appears in
    collect: Callable[[SectionContext], Awaitable[Data]]
    render: Callable[[Data, Gettext, str | None], list[str]]
    sheets: Callable[[Data], list[Sheet]]
    indicators: Callable[[Data], list[Indicator]] = lambda _data: []


# -- helpers shared by the sections ----------------------------------------------------------------
e = html.escape


def number(value: float | None, digits: int = 1) -> str:
    if value is None:
        return "—"
    if float(value).is_integer():
        return str(int(value))
    return f"{value:.{digits}f}".rstrip("0").rstrip(".") or "0"


def change(current: float | None, previous: float | None, digits: int = 1) -> str:
    """ "(▲2)", "(▼0.3)", "(=)" against the previous period; empty when there is none."""
    if current is None or previous is None:
        return ""
    delta = round(current - previous, digits)
    if delta == 0:
        return " (=)"
    return f" (▲{number(delta, digits)})" if delta > 0 else f" (▼{number(-delta, digits)})"


def localized(text: dict[str, str] | str, locale: str | None) -> str:
    """A {locale: text} mapping (survey titles) or a plain string."""
    if isinstance(text, str):
        return text
    return text.get(locale or "zh") or text.get("zh") or next(iter(text.values()), "")
