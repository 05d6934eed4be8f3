"""Telegram's sending limits, as a `FakeBotAPI.responder`, so outbox tests can prove pacing.

    limits = TelegramLimits(global_per_second=30, forbidden_chats={7})
    fake.responder = limits
    ...  # run the sender worker against fake.make_bot()
    assert limits.violations == []
    assert limits.max_in_any_window() <= 25
    assert limits.duplicates() == {}

Only send methods are limited (see `SEND_METHODS`); everything else passes through. Each send
is answered, in this order:

1. 429 while a flood-wait penalty is active: the send is a *violation* (the client ignored
   retry_after) and is recorded in `violations`; retry_after is the remaining wait.
2. 403 for `forbidden_chats`, 400 for `missing_chats`.
3. 500 with probability `server_error_rate` (a seeded `random.Random`, so runs repeat).
4. 429 if accepting it would put more than `global_per_second` accepted sends, or more than
   `per_chat_per_second` accepted sends to its chat, into the last `window` seconds (a send
   exactly `window` after another no longer overlaps it). This starts a bot-wide penalty of
   `retry_after` seconds, like Telegram's flood wait.
5. Otherwise it is accepted: the responder returns None and FakeBotAPI answers 200 as usual.

The responder never awaits or sleeps, so under asyncio each decision is atomic.
"""

from __future__ import annotations

import math
import random
import time
from collections import Counter, defaultdict, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from sandbox.bot_api_core import error_response

# Lower-cased: Telegram (and FakeBotAPI) match method names case-insensitively.
SEND_METHODS = frozenset({"sendmessage", "sendphoto", "senddocument", "copymessage",
                          "sendmediagroup"})  # fmt: skip

ChatId = int | str  # str for "@channel" usernames


@dataclass(frozen=True)
class Violation:
    """A send that arrived while a flood-wait penalty was still running."""

    at: float
    chat_id: ChatId
    early_by: float  # seconds left on the penalty when it arrived
    method: str = ""


@dataclass(frozen=True)
class LimitEvent:
    """One limited request and how it was answered: "200", "429", "403", "400" or "500"."""

    at: float
    method: str
    chat_id: ChatId
    outcome: str


class ManualClock:
    """A clock for `TelegramLimits(clock=...)` that only moves when told to."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> float:
        self.now += seconds
        return self.now


class TelegramLimits:
    def __init__(
        self,
        *,
        global_per_second: int = 30,
        per_chat_per_second: int = 1,
        retry_after: int = 1,
        forbidden_chats: Iterable[ChatId] = (),
        missing_chats: Iterable[ChatId] = (),
        server_error_rate: float = 0.0,
        seed: int | None = 0,
        clock: Callable[[], float] = time.monotonic,
        window: float = 1.0,
    ) -> None:
        self.global_per_second = global_per_second
        self.per_chat_per_second = per_chat_per_second
        self.retry_after = retry_after
        # Mutable on purpose: a test may block a chat halfway through a broadcast.
        self.forbidden_chats: set[ChatId] = set(forbidden_chats)
        self.missing_chats: set[ChatId] = set(missing_chats)
        self.server_error_rate = server_error_rate
        self.window = window
        self._random = random.Random(seed)
        self._clock = clock

        self.accepted: list[tuple[float, ChatId]] = []
        self.delivered_to: Counter[ChatId] = Counter()
        self.rejected: Counter[str] = Counter()
        self.violations: list[Violation] = []
        self.events: list[LimitEvent] = []
        self.penalty_until: float | None = None  # bot-wide flood wait, clock time
        # Accepted send times inside the current window, for the O(1)-ish limit checks.
        self._recent: deque[float] = deque()
        self._recent_by_chat: defaultdict[ChatId, deque[float]] = defaultdict(deque)

    # ----------------------------------------------------------------- responder
    async def __call__(self, method: str, params: dict[str, Any]) -> web.Response | None:
        return self.decide(method, params)

    def decide(self, method: str, params: dict[str, Any]) -> web.Response | None:
        """The synchronous core of the responder (handy for unit tests)."""
        if method.lower() not in SEND_METHODS:
            return None
        chat_id: ChatId | None = params.get("chat_id")
        if chat_id is None or chat_id == "":
            return None  # let FakeBotAPI answer "chat_id is empty"
        now = self._clock()

        if self.penalty_until is not None and now < self.penalty_until:
            left = self.penalty_until - now
            self.violations.append(Violation(now, chat_id, left, method))
            return self._reject(now, method, chat_id, "429", _too_many(max(1, math.ceil(left))))
        if chat_id in self.forbidden_chats:
            body = error_response(403, "Forbidden: bot was blocked by the user")
            return self._reject(now, method, chat_id, "403", body)
        if chat_id in self.missing_chats:
            return self._reject(
                now, method, chat_id, "400", error_response(400, "Bad Request: chat not found")
            )
        if self.server_error_rate > 0 and self._random.random() < self.server_error_rate:
            body = error_response(500, "Internal Server Error")
            return self._reject(now, method, chat_id, "500", body)

        recent, chat_recent = self._recent, self._recent_by_chat[chat_id]
        for times in (recent, chat_recent):
            while times and now - times[0] >= self.window:
                times.popleft()
        if len(recent) >= self.global_per_second or len(chat_recent) >= self.per_chat_per_second:
            self.penalty_until = now + self.retry_after
            return self._reject(now, method, chat_id, "429", _too_many(self.retry_after))

        recent.append(now)
        chat_recent.append(now)
        self.accepted.append((now, chat_id))
        self.delivered_to[chat_id] += 1
        self.events.append(LimitEvent(now, method, chat_id, "200"))
        return None

    def _reject(
        self, now: float, method: str, chat_id: ChatId, reason: str, response: web.Response
    ) -> web.Response:
        self.rejected[reason] += 1
        self.events.append(LimitEvent(now, method, chat_id, reason))
        return response

    # ----------------------------------------------------------------- assertions
    def in_penalty(self) -> bool:
        return self.penalty_until is not None and self._clock() < self.penalty_until

    def max_in_any_window(self, seconds: float | None = None) -> int:
        """Most accepted sends in any window of `seconds` (default: `window`), exactly."""
        return _max_in_window(
            [at for at, _ in self.accepted], self.window if seconds is None else seconds
        )

    def max_per_chat_in_any_window(self, seconds: float | None = None) -> int:
        """Like `max_in_any_window`, but the worst single chat."""
        by_chat: defaultdict[ChatId, list[float]] = defaultdict(list)
        for at, chat_id in self.accepted:
            by_chat[chat_id].append(at)
        span = self.window if seconds is None else seconds
        return max((_max_in_window(times, span) for times in by_chat.values()), default=0)

    def duplicates(self) -> dict[ChatId, int]:
        """Chats that got more than one accepted send, with how many they got."""
        return {chat_id: n for chat_id, n in self.delivered_to.items() if n > 1}

    def outcomes_for(self, chat_id: ChatId) -> list[str]:
        """How each limited request to `chat_id` was answered, in order."""
        return [e.outcome for e in self.events if e.chat_id == chat_id]


def max_in_window(timestamps: Iterable[float], seconds: float = 1.0) -> int:
    """Most timestamps in any half-open window [t, t + seconds) — the limiter's own rule."""
    return _max_in_window(list(timestamps), seconds)


def _max_in_window(timestamps: list[float], seconds: float) -> int:
    ordered = sorted(timestamps)
    best = start = 0
    for end, at in enumerate(ordered):
        # Same comparison as the limiter, so float rounding can't make them disagree.
        while at - ordered[start] >= seconds:
            start += 1
        best = max(best, end - start + 1)
    return best


def _too_many(retry_after: int) -> web.Response:
    body = {
        "ok": False, "error_code": 429,
        "description": f"Too Many Requests: retry after {retry_after}",
        "parameters": {"retry_after": retry_after},
    }  # fmt: skip
    return web.json_response(body, status=429)
