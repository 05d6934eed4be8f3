"""The figures the digest sections read and the people it goes to (no ORM, no aiogram)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime


@dataclass(frozen=True, slots=True)
class ActiveSurvey:
    id: int
    slug: str
    source: str
    status: str
    anonymous: bool
    opened_at: datetime | None
    closed_at: datetime | None


@dataclass(frozen=True, slots=True)
class NumericFigures:
    """Numeric answers to one question from one stored department within one period."""

    survey_id: int
    question_id: str
    department: str | None
    current: bool  # this period (else the previous one)
    respondents: int
    total: float
    promoters: int
    detractors: int


@dataclass(frozen=True, slots=True)
class ProposalFigures:
    new: int
    answered: int
    satisfied: int
    basically: int
    unsatisfied: int


@dataclass(frozen=True, slots=True)
class DueItem:
    id: int
    title: str
    department: str | None
    due_on: date


@dataclass(frozen=True, slots=True)
class MailboxFigures:
    """What the mailbox section shows (filled in by the mailbox's query)."""

    by_box_and_type: dict[str, dict[str, int]]  # box key → letter type → letters received
    unanswered: int  # no first reply yet (all time)
    overdue: int  # unanswered past the reply deadline
    median_first_reply_hours: float | None  # letters first answered in the period


@dataclass(frozen=True, slots=True)
class Recipient:
    member_id: int
    chat_id: int
    locale: str | None
    department: str
    roles: frozenset[str]
