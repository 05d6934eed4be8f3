"""What the outbox needs from storage, and the writer every feature queues notifications with
(storage/repos/outbox.py implements both; see docs/architecture.md)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from outbox.model import ClaimedMessage, Notification, Status


class OutboxWriter(Protocol):
    """Queue notifications (idempotent by key); the caller's commit makes them due."""

    async def enqueue(self, notification: Notification) -> bool: ...
    async def enqueue_many(self, notifications: Sequence[Notification]) -> int: ...
    async def add_media(self, filename: str, content: bytes) -> int: ...


class BroadcastStore(OutboxWriter, Protocol):
    async def create_broadcast(
        self, title: str, progress_chat_id: int | None, progress_locale: str | None
    ) -> int: ...
    async def set_broadcast_total(self, broadcast_id: int, total: int) -> None: ...


class OutboxQueue(Protocol):
    """The sender's side: claim, renew, record outcomes."""

    async def claim(
        self, limit: int, now: datetime, chat_gap: float = 0.0, claimer: str | None = None
    ) -> list[ClaimedMessage]: ...
    async def recover(self, claimed_before: datetime | None = None) -> int: ...
    async def touch(self, message_ids: Sequence[int], now: datetime, claimer: str) -> set[int]: ...
    async def reschedule(
        self, message_id: int, at: datetime, *, attempts: int, error: str | None
    ) -> None: ...
    async def mark_sent(
        self,
        message: ClaimedMessage,
        now: datetime,
        telegram_message_id: int | None,
        telegram_file_id: str | None,
    ) -> None: ...
    async def mark_unreachable(
        self, message: ClaimedMessage, error: str, now: datetime
    ) -> None: ...
    async def mark_failed(self, message: ClaimedMessage, error: str) -> None: ...
    async def counts(self, broadcast_id: int | None = None) -> dict[Status, int]: ...


class SendBudgetStore(Protocol):
    async def reserve(self, name: str, gap: float) -> float: ...
    async def pause(self, name: str, seconds: float) -> None: ...
    async def remaining(self, name: str) -> float: ...


class OutboxRepos(Protocol):
    """A unit of work that only queues notifications (broadcasts)."""

    @property
    def outbox(self) -> BroadcastStore: ...
    async def commit(self) -> None: ...


class SenderRepos(Protocol):
    """The sender's unit of work."""

    @property
    def outbox(self) -> OutboxQueue: ...
    async def commit(self) -> None: ...


class BudgetRepos(Protocol):
    @property
    def budget(self) -> SendBudgetStore: ...
    async def commit(self) -> None: ...
