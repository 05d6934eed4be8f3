"""Survey data handed between storage, the survey services and the exports (no ORM, no aiogram)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

PROMOTER_MIN = 9  # NPS: 9–10 promoters, 7–8 passives, 0–6 detractors
DETRACTOR_MAX = 6


@dataclass(frozen=True, slots=True)
class SurveyRecord:
    id: int
    slug: str
    source: str
    status: str
    anonymous: bool
    opens_at: datetime | None
    closes_at: datetime | None
    opened_at: datetime | None
    closed_at: datetime | None


@dataclass(frozen=True, slots=True)
class AnswerRow:
    question_id: str
    position: int = 0
    option: str | None = None
    number: float | None = None
    text: str | None = None


@dataclass(frozen=True, slots=True)
class DraftRecord:
    answers: dict[str, Any]
    editing: str | None


@dataclass(frozen=True, slots=True)
class DepartmentFigures:
    """One department's answers to a numeric question (department None: not stored)."""

    department: str | None
    respondents: int
    total: float  # sum of the values: groups can be merged exactly
    promoters: int = 0  # values >= 9 (meaningful for NPS questions)
    detractors: int = 0  # values <= 6

    @property
    def mean(self) -> float | None:
        return self.total / self.respondents if self.respondents else None


@dataclass(frozen=True, slots=True)
class FreeTextRow:
    """A typed answer: a text question's answer, or the text of an "other" choice."""

    question_id: str
    text: str
    option: str | None = None  # "other" for the text of an other choice
    name: str | None = None  # named surveys only
    department: str | None = None  # named surveys only


@dataclass(frozen=True, slots=True)
class ResponseExportRow:
    """One submitted response with its answers, in question order then position."""

    department: str | None
    submitted_on: date
    submitted_at: datetime | None = None  # named surveys only
    employee_id: str | None = None  # named surveys only
    name: str | None = None  # named surveys only
    answers: dict[str, list[AnswerRow]] = field(default_factory=dict)
