"""What the digest needs from storage (storage/repos/digests.py implements it; see
docs/architecture.md)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Sequence
from datetime import date, datetime
from typing import Protocol

from digest.model import (
    ActiveSurvey,
    DueItem,
    MailboxFigures,
    NumericFigures,
    ProposalFigures,
    Recipient,
)
from improvements.ports import ActionReader
from outbox.ports import OutboxWriter


class DigestFigures(Protocol):
    """What the sections read (digest/sections)."""

    async def active_surveys(self, start: datetime, end: datetime) -> list[ActiveSurvey]: ...
    def letter_texts(
        self, start: datetime, end: datetime, box: str | None, *, limit: int
    ) -> AsyncIterator[str]: ...
    async def mailbox_figures(
        self, start: datetime, end: datetime, box: str | None, *, reply_days: int = 5
    ) -> MailboxFigures: ...
    async def numeric_figures(
        self,
        survey_ids: Sequence[int],
        question_ids: Sequence[str],
        previous_day: date,
        first_day: date,
        end_day: date,
    ) -> list[NumericFigures]: ...
    async def participation(self, survey_ids: Sequence[int]) -> dict[int, tuple[int, int]]: ...
    async def proposal_figures(
        self, start: datetime, end: datetime, department: str | None = None
    ) -> ProposalFigures: ...
    def proposal_texts(
        self, start: datetime, end: datetime, *, limit: int
    ) -> AsyncIterator[tuple[int, str]]: ...
    async def proposals_by_status(self, department: str | None = None) -> dict[str, int]: ...
    async def proposals_due(
        self, until: date, department: str | None = None, *, limit: int = 20
    ) -> tuple[list[DueItem], int]: ...
    async def responses_between(
        self, survey_ids: Sequence[int], first_day: date, end_day: date
    ) -> dict[int, int]: ...
    def survey_texts(
        self,
        survey_ids: Sequence[int],
        question_ids: Sequence[str],
        first_day: date,
        end_day: date,
        *,
        limit: int,
    ) -> AsyncIterator[str]: ...


class DigestStore(DigestFigures, Protocol):
    """The stored digests and the exactly-once delivery rows (digest/service.py)."""

    async def claim_delivery(self, member_id: int, period: str, digest_id: int) -> bool: ...
    async def count_resend(self, member_id: int, period: str) -> int: ...
    async def delivered(self, period: str) -> set[int]: ...
    async def registered_with_roles(self, roles: Iterable[str]) -> list[Recipient]: ...
    async def registered_with_telegram_ids(
        self, telegram_ids: Iterable[int]
    ) -> list[Recipient]: ...
    async def store(self, period: str, audience: str, data: str) -> tuple[int, str]: ...
    async def stored(self, period: str, audience: str) -> tuple[int, str] | None: ...


class SectionRepos(Protocol):
    """What a section's `collect` reads."""

    @property
    def digests(self) -> DigestFigures: ...
    @property
    def improvements(self) -> ActionReader: ...


class DigestRepos(SectionRepos, Protocol):
    """The unit of work DigestService runs in."""

    @property
    def digests(self) -> DigestStore: ...
    @property
    def outbox(self) -> OutboxWriter: ...
    async def commit(self) -> None: ...
