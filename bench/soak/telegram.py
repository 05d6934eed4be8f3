"""The soak's Telegram: FakeBotAPI with Telegram's limits, faults on demand, and each chat's
screens, so simulated members read the bot's answers as people would.

Nothing here talks to the network: the fake listens on 127.0.0.1 only.
"""

from __future__ import annotations

import json
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from tests.fakes.bot_api import FakeBotAPI, RecordedCall
from tests.fakes.telegram_limits import SEND_METHODS, ChatId, TelegramLimits

# A send that arrives this long after the bot was first told to wait is a violation: requests
# already on the wire when the first 429 went back cannot have known (max_in_flight of them).
# With two instances, the one that was not told yet learns it from its own first refusal.
GRACE = 1.0


@dataclass
class Penalty:
    started: float  # when the first 429 of this flood wait was answered
    until: float
    injected: bool
    told: bool = False


class SoakLimits(TelegramLimits):
    """TelegramLimits whose violations leave the requests in flight out (see GRACE), plus an
    injected flood wait (a "burst of 429s") and a switchable period of 5xx."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.penalties: list[Penalty] = []
        # (at, chat, seconds of the wait left, method)
        self.late_sends: list[tuple[float, ChatId, float, str]] = []
        self.server_errors_on = False
        self.server_error_answers = 0
        self.triggers: list[tuple[float, ChatId, str]] = []  # what started each flood wait

    def inject_flood_wait(self, seconds: float) -> None:
        now = self._clock()
        self.penalty_until = now + seconds
        self.penalties.append(Penalty(now, now + seconds, injected=True))

    def decide(self, method: str, params: dict[str, Any]) -> web.Response | None:
        if method.lower() not in SEND_METHODS:
            return None
        now = self._clock()
        in_penalty = self.penalty_until is not None and now < self.penalty_until
        if in_penalty and self.penalties:
            penalty = self.penalties[-1]
            if penalty.injected and not penalty.told:
                # An injected flood wait starts counting when the bot is first told of it.
                penalty.told = True
                penalty.started = now
            if now - penalty.started > GRACE:
                self.late_sends.append(
                    (now, params.get("chat_id", ""), penalty.until - now, method)
                )
        if not in_penalty and self.server_errors_on:
            self.server_error_answers += 1
            chat = params.get("chat_id", "")
            # Half of them as a front-end proxy sends them: an HTML page, not Telegram's JSON.
            html = self.server_error_answers % 2 == 0
            return self._reject(now, method, chat, "500", _server_error(html))
        before = self.penalty_until
        response = super().decide(method, params)
        if self.penalty_until != before and self.penalty_until is not None:
            self.penalties.append(Penalty(now, self.penalty_until, injected=False))
            chat = params.get("chat_id", "")
            over_chat = len(self._recent_by_chat[chat]) >= self.per_chat_per_second
            self.triggers.append((now, chat, "chat" if over_chat else "global"))
        return response

    def violations_count(self) -> int:
        return len(self.late_sends)


def _server_error(html: bool) -> web.Response:
    if html:
        page = "<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>"
        return web.Response(status=502, text=page, content_type="text/html")
    body = {"ok": False, "error_code": 502, "description": "Bad Gateway"}
    return web.json_response(body, status=502)


class _IndexedCalls(list[RecordedCall]):
    """FakeBotAPI.calls that also files each call under its chat (or callback query)."""

    def __init__(self, on_call: Callable[[RecordedCall], None]) -> None:
        super().__init__()
        self._on_call = on_call

    def append(self, call: RecordedCall) -> None:
        super().append(call)
        self._on_call(call)


class SoakTelegram(FakeBotAPI):
    def __init__(self, limits: SoakLimits) -> None:
        super().__init__()
        self.limits = limits
        self.responder = limits
        self.by_chat: defaultdict[int, list[RecordedCall]] = defaultdict(list)
        self.calls = _IndexedCalls(self._index)
        self.method_counts: defaultdict[str, int] = defaultdict(int)
        self.first_call_at = 0.0
        self.last_call_at = 0.0

    def _index(self, call: RecordedCall) -> None:
        self.method_counts[call.method.lower()] += 1
        now = time.monotonic()
        self.first_call_at = self.first_call_at or now
        self.last_call_at = now
        chat = call.params.get("chat_id")
        if isinstance(chat, int):
            self.by_chat[chat].append(call)
            return
        query = call.params.get("callback_query_id")
        if isinstance(query, str) and query.startswith("cq-"):
            self.by_chat[int(query.split("-")[1])].append(call)

    def forget_old_calls(self) -> None:
        """The flat list grows with every request; the per-chat index is what the soak reads."""
        self.calls.clear()

    def seen(self, chat_id: int) -> int:
        return len(self.by_chat.get(chat_id, ()))

    def since(self, chat_id: int, index: int) -> list[RecordedCall]:
        return self.by_chat.get(chat_id, [])[index:]

    def pending_ids(self) -> set[int]:
        """Updates getUpdates handed out (or not yet) that no later offset confirmed."""
        return {u["update_id"] for u in self._updates._pending}

    def pending_updates(self) -> int:
        return len(self._updates._pending)


def texts(calls: list[RecordedCall]) -> str:
    """Every text the calls showed: messages, edits and callback alerts."""
    return "\n".join(str(c.params.get("text", "")) for c in calls)


def buttons(call: RecordedCall) -> list[tuple[str, str]]:
    markup = call.params.get("reply_markup")
    if isinstance(markup, str):
        markup = json.loads(markup)
    if not isinstance(markup, dict):
        return []
    return [
        (b.get("text", ""), b.get("callback_data", ""))
        for row in markup.get("inline_keyboard", [])
        for b in row
        if b.get("callback_data")
    ]


def delivered(call: RecordedCall) -> bool:
    return call.result is not None
