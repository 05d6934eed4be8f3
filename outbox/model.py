"""What the outbox carries: plain data, no aiogram."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol


class Status(StrEnum):
    QUEUED = "queued"
    SENDING = "sending"  # claimed by the sender; back to queued if the sender died
    SENT = "sent"
    UNREACHABLE = "unreachable"  # blocked the bot, deactivated, chat not found: never retried
    FAILED = "failed"  # gave up after retries, or Telegram refused the message itself
    HELD = "held"  # a work notice waiting for the notice sweep, which may merge it
    BATCHED = "batched"  # merged into one message with others of its kind (never sent itself)


class Kind(StrEnum):
    TEXT = "text"
    PHOTO = "photo"
    DOCUMENT = "document"


@dataclass(frozen=True, slots=True)
class Notification:
    """One logical message to one chat. `key` makes enqueueing idempotent."""

    key: str
    chat_id: int
    template: str
    params: dict[str, Any] = field(default_factory=dict)
    locale: str | None = None
    kind: Kind = Kind.TEXT
    media_id: int | None = None
    broadcast_id: int | None = None
    # Queued (and first due) at this time instead of now: a batch shares one coarse time, so
    # the row's times do not tell which event caused it.
    at: datetime | None = None
    forget: bool = False  # delete the row once sent or given up

    @classmethod
    def build(
        cls,
        key: tuple[object, ...],
        *,
        chat_id: int,
        locale: str | None,
        template: str,
        params: Mapping[str, Any] | None = None,
        kind: Kind = Kind.TEXT,
        media_id: int | None = None,
        at: datetime | None = None,
        forget: bool = False,
    ) -> Notification:
        """The one way features address a message. `key`'s parts are joined by ":" into the
        idempotency key: the same event queued twice is sent once."""
        return cls(
            key=":".join(str(part) for part in key),
            chat_id=chat_id,
            template=template,
            params=params if isinstance(params, dict) else dict(params or {}),
            locale=locale,
            kind=kind,
            media_id=media_id,
            at=at,
            forget=forget,
        )

    @classmethod
    def for_member(
        cls,
        member: Addressee,
        key: tuple[object, ...],
        *,
        template: str,
        params: Mapping[str, Any] | None = None,
    ) -> Notification:
        """To a person's private chat, in their language; callers pass linked members only."""
        if member.telegram_id is None:
            raise ValueError("a notification to a member without a Telegram chat")
        return cls.build(
            key, chat_id=member.telegram_id, locale=member.locale, template=template, params=params
        )


class Addressee(Protocol):
    """Whom `Notification.for_member` writes to (a MemberDTO, a registration request)."""

    @property
    def telegram_id(self) -> int | None: ...
    @property
    def locale(self) -> str | None: ...


@dataclass(frozen=True, slots=True)
class Media:
    filename: str
    content: bytes
    telegram_file_id: str | None = None


@dataclass(frozen=True, slots=True)
class ClaimedMessage:
    id: int
    chat_id: int
    locale: str | None
    template: str
    params: dict[str, Any]
    kind: Kind
    attempts: int
    media_id: int | None = None
    media: Media | None = None
    forget: bool = False


class Outcome(StrEnum):
    SENT = "sent"
    UNREACHABLE = "unreachable"
    RETRY_AFTER = "retry_after"
    TEMPORARY = "temporary"  # 5xx, network, timeout: retry with backoff
    PERMANENT = "permanent"  # Telegram refused this message (400): retrying cannot help


@dataclass(frozen=True, slots=True)
class SendResult:
    outcome: Outcome
    telegram_message_id: int | None = None
    telegram_file_id: str | None = None
    retry_after: float | None = None
    error: str | None = None


@dataclass(frozen=True, slots=True)
class Progress:
    total: int
    sent: int = 0
    unreachable: int = 0
    failed: int = 0

    @property
    def done(self) -> int:
        return self.sent + self.unreachable + self.failed

    @property
    def finished(self) -> bool:
        return self.done >= self.total


@dataclass(frozen=True, slots=True)
class BroadcastDTO:
    id: int
    title: str
    total: int
    progress_chat_id: int | None
    progress_message_id: int | None
    progress_locale: str | None
    created_at: datetime
