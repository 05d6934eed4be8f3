"""Improvement actions as data: statuses, link kinds and plain DTOs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from common.errors import N_


class ActionStatus(StrEnum):
    OPEN = "open"  # problem, cause and measures decided
    IN_PROGRESS = "in_progress"  # measures being carried out
    CHECKING = "checking"  # measures done: the effect is being checked
    CLOSED = "closed"  # effect recorded; members told
    DROPPED = "dropped"  # not pursued (with a reason); nobody is told


class LinkKind(StrEnum):
    """What an action comes from. ref_id / ref_key per kind (see ImprovementLink)."""

    PROPOSAL = "proposal"  # (proposal id, "")
    QUESTION = "question"  # (survey id, question id)
    LETTER = "letter"  # (letter id, "")
    THEME = "theme"  # (digest id, keyword)


STATUS_LABELS = {
    ActionStatus.OPEN: N_("opened, not started"),
    ActionStatus.IN_PROGRESS: N_("in progress"),
    ActionStatus.CHECKING: N_("checking the effect"),
    ActionStatus.CLOSED: N_("done and closed"),
    ActionStatus.DROPPED: N_("dropped"),
}
UNFINISHED = frozenset({ActionStatus.OPEN, ActionStatus.IN_PROGRESS, ActionStatus.CHECKING})
FINISHED = frozenset({ActionStatus.CLOSED, ActionStatus.DROPPED})
# Where each status may move (closing also needs the effect recorded).
MOVES: dict[ActionStatus, frozenset[ActionStatus]] = {
    ActionStatus.IN_PROGRESS: frozenset({ActionStatus.OPEN}),
    ActionStatus.CHECKING: frozenset({ActionStatus.OPEN, ActionStatus.IN_PROGRESS}),
    ActionStatus.CLOSED: UNFINISHED,
    ActionStatus.DROPPED: UNFINISHED,
}


@dataclass(frozen=True, slots=True)
class Link:
    kind: LinkKind
    ref_id: int
    ref_key: str = ""
    baseline: float | None = None


@dataclass(frozen=True, slots=True)
class Evidence:
    """A linked question's score before the action and after it (when a survey ran again)."""

    survey_id: int
    question_id: str
    before: float | None
    after: float | None
    after_survey_id: int | None = None
    measure: str = "mean"  # mean | nps

    def to_json(self) -> dict[str, object]:
        return {
            "survey_id": self.survey_id,
            "question_id": self.question_id,
            "before": self.before,
            "after": self.after,
            "after_survey_id": self.after_survey_id,
            "measure": self.measure,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Evidence:
        return cls(**data)


@dataclass(frozen=True, slots=True)
class ActionDTO:
    id: int
    problem: str
    cause: str
    measures: str
    owner: str
    owner_id: int | None
    department: str | None
    due_on: date | None
    expected_effect: str
    effect: str | None
    evidence: tuple[Evidence, ...]
    status: ActionStatus
    reason: str | None
    opened_by_id: int | None
    created_at: datetime
    closed_at: datetime | None
    links: tuple[Link, ...] = ()

    @property
    def title(self) -> str:
        """The problem's first line, short (lists, notices)."""
        first = self.problem.strip().splitlines()[0] if self.problem.strip() else ""
        return first if len(first) <= 60 else first[:59] + "…"


@dataclass(frozen=True, slots=True)
class ActionFigures:
    opened: int  # in the period
    closed: int  # in the period
    unfinished: int  # now
    overdue: int  # now


@dataclass(frozen=True, slots=True)
class ScoreFigures:
    respondents: int
    total: float
    promoters: int
    detractors: int
