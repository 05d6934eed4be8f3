"""What the officers' to-do list and the notice mutes need from storage
(storage/repos/work.py and outbox.py implement it; see docs/architecture.md)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Protocol

from improvements.model import ActionStatus
from proposals.model import ProposalDTO, Status


class WorkQueues(Protocol):
    async def actions_due(
        self, owner_id: int, department: str | None, statuses: Iterable[ActionStatus], due_by: date
    ) -> list[tuple[int, str, date]]: ...
    async def letters_awaiting_reply(self, boxes: Iterable[str]) -> list[tuple[int, str]]: ...
    async def pending_registrations(self) -> int: ...
    async def proposals(
        self,
        statuses: Iterable[Status],
        *,
        department: str | None = None,
        due_by: date | None = None,
    ) -> list[ProposalDTO]: ...


class NoticeMutes(Protocol):
    async def muted(self, member_id: int) -> set[str]: ...
    async def set_muted(self, member_id: int, kind: str, muted: bool) -> None: ...


class HeldNotices(Protocol):
    async def release_held(self, now: datetime) -> int: ...


class TodoRepos(Protocol):
    @property
    def work(self) -> WorkQueues: ...


class NoticeRepos(Protocol):
    @property
    def work(self) -> NoticeMutes: ...
    async def commit(self) -> None: ...


class HeldNoticeRepos(Protocol):
    @property
    def outbox(self) -> HeldNotices: ...
    async def commit(self) -> None: ...
