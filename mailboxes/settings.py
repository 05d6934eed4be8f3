"""Mailbox configuration as the service sees it, and what all updates share."""

from __future__ import annotations

from dataclasses import dataclass, field

from mailboxes.memory import SlidingLimit
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


@dataclass(slots=True)
class MailboxGuards:
    """In-memory limits of one process: anonymous letters per person, receipt-code guesses.

    Keyed by a hash with a random per-process key, so even a memory dump holds no id."""

    anonymous_letters: SlidingLimit
    receipt_failures: SlidingLimit = field(
        default_factory=lambda: SlidingLimit(limit=5, window=15 * 60)
    )

    @classmethod
    def create(cls, anonymous_per_day: int) -> MailboxGuards:
        return cls(anonymous_letters=SlidingLimit(limit=anonymous_per_day, window=24 * 3600))


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
