"""Mailbox configuration as the service sees it, and what all updates share."""

from __future__ import annotations

from dataclasses import dataclass, field

from mailboxes.memory import AnonymousLimit, SlidingLimit
from mailboxes.sealing import Sealer
from members.roles import Role


@dataclass(frozen=True, slots=True)
class Box:
    key: str
    names: dict[str, str]
    roles: frozenset[Role] = frozenset()
    telegram_ids: frozenset[int] = frozenset()

    def name(self, locale: str | None) -> str:
        return self.names.get(locale or "zh") or self.names.get("zh") or self.key


@dataclass(frozen=True, slots=True)
class MailboxSettings:
    boxes: tuple[Box, ...]
    reply_days: int = 5
    timezone: str = "Asia/Shanghai"
    anonymous_per_day: int = 3
    # Notices to confidential senders leave in batches: as soon as this many senders have
    # news, and in any case at fixed times every `sender_release_hours` (the sweep's job).
    sender_batch: int = 3
    sender_release_hours: int = 3


ANONYMOUS_WINDOW = 24 * 3600  # seconds: "anonymous letters a day"
RECEIPT_FAILURES, RECEIPT_WINDOW = 5, 15 * 60  # wrong receipt codes per person, seconds


@dataclass(slots=True)
class MailboxGuards:
    """Limits per person: anonymous letters, receipt-code guesses. In this process's memory
    (keyed by a hash with a random per-process key, so even a memory dump holds no id), or in
    Redis shared by every instance (mailboxes/redis_memory.py), chosen at composition."""

    anonymous_letters: AnonymousLimit
    receipt_failures: AnonymousLimit = field(
        default_factory=lambda: SlidingLimit(limit=RECEIPT_FAILURES, window=RECEIPT_WINDOW)
    )

    @classmethod
    def create(cls, anonymous_per_day: int) -> MailboxGuards:
        return cls(anonymous_letters=SlidingLimit(limit=anonymous_per_day, window=ANONYMOUS_WINDOW))


@dataclass(frozen=True, slots=True)
class MailboxContext:
    """What all updates share: the boxes, the key and this process's in-memory guards."""

    settings: MailboxSettings
    sealer: Sealer
    guards: MailboxGuards


@dataclass(frozen=True, slots=True)
class Sent:
    letter_id: int
    receipt_code: str | None = None  # anonymous letters only: shown once, never stored
