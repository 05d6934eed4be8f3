"""What the mailbox keeps about anonymous senders, and only for a while: drafts, receipt
sessions, the one-message step of answering back on one's own letter, and the anonymous limits.

Two implementations behind one small interface, chosen at composition (bot/services.py):
- here, in this process's memory, keyed by a hash with a random key that is never stored
  (SQLite, one process): a restart forgets it all (the sender is told so before writing);
- mailboxes/redis_memory.py, shared by every instance when `[fsm] redis_url` is set, under
  keyed-hash names with encrypted values and a TTL.
Nothing here reaches the database or the logs.

Sessions are handed out as snapshots: a change is kept only through `save` or `append`, so
both implementations behave alike.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import secrets
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

from mailboxes.model import Draft, LetterType

Monotonic = Callable[[], float]
SESSION_TTL = 3600.0  # seconds without activity before a session is forgotten


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
    expires: float = 0.0  # in-memory store only


class AnonymousLimit(Protocol):
    """At most `limit` events per window per person."""

    limit: int

    async def exhausted(self, telegram_id: int) -> bool: ...

    async def hit(self, telegram_id: int) -> None: ...


class AnonymousStore(Protocol):
    """Per-person sessions forgotten after a while without activity (each read refreshes)."""

    async def get(self, telegram_id: int) -> AnonymousSession | None: ...

    async def start(self, telegram_id: int, session: AnonymousSession) -> None:
        """A new session, replacing any other of this person (and its draft)."""

    async def save(self, telegram_id: int, session: AnonymousSession) -> None:
        """Keep a changed stage or letter of a live session (not its draft: see `append`)."""

    async def append(self, telegram_id: int, part: Draft) -> None:
        """Add one part to the draft; never overwrites parts added meanwhile elsewhere."""

    async def end(self, telegram_id: int) -> None: ...

    async def sweep(self) -> int:
        """Forget expired sessions (the scheduler's job); how many."""


class _Keyed:
    def __init__(self) -> None:
        self._key = secrets.token_bytes(32)

    def _slot(self, telegram_id: int) -> bytes:
        return hmac.new(self._key, str(telegram_id).encode(), hashlib.sha256).digest()


class SlidingLimit(_Keyed):
    """At most `limit` events per `window` seconds per person, in this process."""

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

    async def exhausted(self, telegram_id: int) -> bool:
        return len(self._recent(telegram_id)) >= self.limit

    async def hit(self, telegram_id: int) -> None:
        self._recent(telegram_id)
        self._events.setdefault(self._slot(telegram_id), deque()).append(self._clock())


def _copy(session: AnonymousSession) -> AnonymousSession:
    draft = Draft(
        session.draft.text, list(session.draft.attachments), list(session.draft.message_ids)
    )
    return dataclasses.replace(session, draft=draft)


class AnonymousSessions(_Keyed):
    """Per-person anonymous sessions in this process that expire after `ttl` seconds without
    activity."""

    def __init__(self, ttl: float = SESSION_TTL, clock: Monotonic = time.monotonic) -> None:
        super().__init__()
        self._ttl = ttl
        self._clock = clock
        self._sessions: dict[bytes, AnonymousSession] = {}

    def _live(self, telegram_id: int) -> AnonymousSession | None:
        slot = self._slot(telegram_id)
        session = self._sessions.get(slot)
        if session is None:
            return None
        if session.expires <= self._clock():
            del self._sessions[slot]
            return None
        session.expires = self._clock() + self._ttl
        return session

    async def get(self, telegram_id: int) -> AnonymousSession | None:
        session = self._live(telegram_id)
        return None if session is None else _copy(session)

    async def start(self, telegram_id: int, session: AnonymousSession) -> None:
        session = _copy(session)
        session.expires = self._clock() + self._ttl
        self._sessions[self._slot(telegram_id)] = session

    async def save(self, telegram_id: int, session: AnonymousSession) -> None:
        live = self._live(telegram_id)
        if live is not None:
            live.stage, live.letter_id = session.stage, session.letter_id

    async def append(self, telegram_id: int, part: Draft) -> None:
        live = self._live(telegram_id)
        if live is not None:
            live.draft = Draft.joined([live.draft, part])

    async def end(self, telegram_id: int) -> None:
        self._sessions.pop(self._slot(telegram_id), None)

    async def sweep(self) -> int:
        now = self._clock()
        expired = [s for s, session in self._sessions.items() if session.expires <= now]
        for slot in expired:
            del self._sessions[slot]
        return len(expired)

    def __len__(self) -> int:
        return len(self._sessions)
