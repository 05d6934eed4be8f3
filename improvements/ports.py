"""What the improvement loop needs from storage (storage/repos/improvements.py implements it;
see docs/architecture.md)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Protocol

from improvements.model import ActionDTO, ActionFigures, ActionStatus, Evidence, Link, ScoreFigures
from proposals.ports import ProposalRecipients
from surveys.ports import SurveyRepos


class ActionReader(Protocol):
    """What the export and the digest's actions section read."""

    async def all_with_links(self) -> list[ActionDTO]: ...
    async def closed_between(
        self, start: datetime, end: datetime, department: str | None = None
    ) -> list[ActionDTO]: ...
    async def figures(
        self,
        start: datetime,
        end: datetime,
        today: date,
        unfinished: Iterable[ActionStatus],
        department: str | None = None,
    ) -> ActionFigures: ...
    async def in_status(
        self,
        statuses: Iterable[ActionStatus],
        department: str | None = None,
        *,
        limit: int | None = None,
    ) -> list[ActionDTO]: ...


class ActionStore(ActionReader, Protocol):
    async def create(
        self,
        *,
        problem: str,
        cause: str,
        measures: str,
        owner: str,
        owner_id: int | None,
        department: str | None,
        due_on: date | None,
        expected_effect: str,
        opened_by_id: int | None,
        created_at: datetime,
    ) -> int: ...
    async def due_by(self, day: date, statuses: Iterable[ActionStatus]) -> list[ActionDTO]: ...
    async def get(self, action_id: int) -> ActionDTO | None: ...
    async def later_survey_with(
        self, question_id: str, after: datetime, not_survey: int
    ) -> int | None: ...
    async def link(self, action_id: int, link: Link) -> None: ...
    async def member_by_employee_id(self, employee_id: str) -> tuple[int, str, str] | None: ...
    async def named_respondents(self, survey_id: int, question_id: str) -> set[int]: ...
    async def proposal_followers(self, proposal_ids: Iterable[int]) -> set[int]: ...
    async def score(self, survey_id: int, question_id: str) -> ScoreFigures: ...
    async def transition(
        self,
        action_id: int,
        allowed: Iterable[ActionStatus],
        to: ActionStatus,
        *,
        closed_at: datetime | None = None,
        reason: str | None = None,
    ) -> bool: ...
    async def record_effect(
        self, action_id: int, effect: str, evidence: Iterable[Evidence]
    ) -> None: ...


class ImprovementRepos(SurveyRepos, Protocol):
    """The unit of work ImprovementService runs in (a survey's title is read through a
    SurveyService in the same unit, hence SurveyRepos)."""

    @property
    def improvements(self) -> ActionStore: ...
    @property
    def proposals(self) -> ProposalRecipients: ...


class ImprovementExportRepos(Protocol):
    @property
    def improvements(self) -> ActionReader: ...
