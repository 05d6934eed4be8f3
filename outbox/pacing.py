"""Send slots: a global rate, a minimum gap per chat, and a bot-wide pause after a 429."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable


class Pacer:
    """Hands out start times. Slots are evenly spaced (1/rate apart), so no one-second window
    holds more than `rate` + 1 starts; a chat gets at most one start per `chat_interval`."""

    def __init__(
        self,
        rate_per_second: float,
        chat_interval: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._gap = 1.0 / rate_per_second
        self._chat_interval = chat_interval
        self._clock = clock
        self.clock = clock
        self._next_global = 0.0
        self._next_for_chat: dict[int, float] = {}
        self.paused_until = 0.0
        self._rate = rate_per_second
        # When requests actually left: a task that woke late must not bunch up with the next.
        self._sent: deque[float] = deque()

    def reserve(self, chat_id: int) -> float:
        """The earliest start time for a send to this chat, booked."""
        now = self._clock()
        self._forget_idle_chats(now)
        start = max(
            now, self._next_global, self._next_for_chat.get(chat_id, 0.0), self.paused_until
        )
        self._next_global = start + self._gap
        self._next_for_chat[chat_id] = start + self._chat_interval
        return start

    def window_wait(self, limit: int | None = None) -> float:
        """Seconds to wait so that no sliding second holds more than `limit` (default: `rate`)
        actual sends."""
        now = self._clock()
        while self._sent and self._sent[0] <= now - 1.0:
            self._sent.popleft()
        if len(self._sent) < (int(self._rate) if limit is None else limit):
            return 0.0
        return self._sent[0] + 1.0 - now

    def record_send(self) -> None:
        self._sent.append(self._clock())

    def chat_free_at(self, chat_id: int) -> float:
        """When this chat may get its next message (a busy chat should wait in the queue,
        not hold a global slot that other chats could use)."""
        return self._next_for_chat.get(chat_id, 0.0)

    def pause(self, seconds: float) -> None:
        """Telegram said 429: nothing starts before now + seconds."""
        self.paused_until = max(self.paused_until, self._clock() + seconds)
        self._next_global = max(self._next_global, self.paused_until)

    def is_paused(self) -> bool:
        return self._clock() < self.paused_until

    def _forget_idle_chats(self, now: float) -> None:
        # Keeps memory flat over a 10,000-chat broadcast.
        if len(self._next_for_chat) > 4096:
            self._next_for_chat = {c: t for c, t in self._next_for_chat.items() if t > now}
