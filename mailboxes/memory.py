"""What the mailbox keeps about anonymous senders: only in this process's memory, keyed by a
hash with a random key that is never stored. Nothing here reaches the database or the logs,
and a restart forgets it all (the sender is told so before writing)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum

from mailboxes.model import Draft, LetterType

Monotonic = Callable[[], float]


class _Keyed:
    def __init__(self) -> None:
        self._key = secrets.token_bytes(32)

    def _slot(self, telegram_id: int) -> bytes:
        return hmac.new(self._key, str(telegram_id).encode(), hashlib.sha256).digest()


class SlidingLimit(_Keyed):
    """At most `limit` events per `window` seconds per person."""

    def __init__(self, limit: int, window: float, clock: Monotonic = time.monotonic) -> None:
        super().__init__()
        self.limit, self.window = limit, window
        self._clock = clock
        self._events: dict[bytes, deque[float]] = {}

    def _recent(self, telegram_id: int) -> deque[float]:
        now = self._clock()
        slot = self._slot(telegram_id)
        events = self._events.setdefault(slot, deque())
        while events and events[0] <= now - self.window:
            events.popleft()
        if not events:
            del self._events[slot]  # forget people who have no recent events
            return deque()
        return events

    def exhausted(self, telegram_id: int) -> bool:
        return len(self._recent(telegram_id)) >= self.limit

    def hit(self, telegram_id: int) -> None:
        self._recent(telegram_id)
        self._events.setdefault(self._slot(telegram_id), deque()).append(self._clock())


class Stage(StrEnum):
    WRITING = "writing"  # a new anonymous letter: collecting text and files
    CODE = "code"  # waiting for a receipt code
    READING = "reading"  # a letter opened with its receipt code
    FOLLOW_UP = "follow_up"  # the next message is added to that letter
    # The next message answers back on one's own named or confidential letter: kept here, not
    # in the conversation state, so no row pairs the sender's Telegram id with the step.
    OWN_FOLLOW_UP = "own_follow_up"


@dataclass(slots=True)
class AnonymousSession:
    """An anonymous letter being written, a letter opened with its receipt code, or the
    one-message step of answering back on one's own letter."""

    stage: Stage = Stage.WRITING
    box: str = ""
    type: LetterType = LetterType.REPORT
    draft: Draft = field(default_factory=Draft)
    letter_id: int | None = None  # set once a receipt code was accepted
    expires: float = 0.0


class AnonymousSessions(_Keyed):
    """Per-person anonymous sessions that expire after `ttl` seconds without activity."""

    def __init__(self, ttl: float = 3600, clock: Monotonic = time.monotonic) -> None:
        super().__init__()
        self._ttl = ttl
        self._clock = clock
        self._sessions: dict[bytes, AnonymousSession] = {}

    def get(self, telegram_id: int) -> AnonymousSession | None:
        slot = self._slot(telegram_id)
        session = self._sessions.get(slot)
        if session is None:
            return None
        if session.expires <= self._clock():
            del self._sessions[slot]
            return None
        session.expires = self._clock() + self._ttl
        return session

    def start(self, telegram_id: int, session: AnonymousSession) -> AnonymousSession:
        session.expires = self._clock() + self._ttl
        self._sessions[self._slot(telegram_id)] = session
        return session

    def end(self, telegram_id: int) -> None:
        self._sessions.pop(self._slot(telegram_id), None)

    def sweep(self) -> int:
        """Drop every expired session (the scheduler's job); returns how many."""
        now = self._clock()
        expired = [s for s, session in self._sessions.items() if session.expires <= now]
        for slot in expired:
            del self._sessions[slot]
        return len(expired)

    def __len__(self) -> int:
        return len(self._sessions)
