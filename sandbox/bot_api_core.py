"""What every local Bot API emulator shares: the sandbox's (sandbox/botapi.py) and the tests'
(tests/fakes/bot_api.py). Reading a request as aiogram sends it, the getUpdates queue with
Telegram's offset rules, and Telegram's error body. Product code; tests may import it.
"""

from __future__ import annotations

import asyncio
import json
from contextlib import suppress
from dataclasses import dataclass
from typing import Any

from aiohttp import web

# Free-text fields stay strings even if they look like JSON: a message text "42" or "[draft]"
# must not turn into an int or a list. Everything else is JSON-decoded when it parses.
TEXT_FIELDS = frozenset({
    "text", "caption", "parse_mode", "callback_query_id", "inline_message_id", "url", "title",
    "description", "short_description", "name", "language_code", "business_connection_id",
    "message_effect_id", "query", "start_parameter", "payload", "file_id",
})  # fmt: skip
MAX_UPLOAD = 50 * 1024 * 1024  # Telegram's limit for files bots send (aiohttp's default: 1 MiB)


class BotApiError(Exception):
    """A refusal, answered as Telegram does: {"ok": false, "error_code", "description"}."""

    def __init__(self, code: int, description: str) -> None:
        super().__init__(description)
        self.code = code
        self.description = description


@dataclass(frozen=True, slots=True)
class Upload:
    """A file part of a multipart request."""

    filename: str | None
    content_type: str | None
    content: bytes


def decode(key: str, value: str) -> Any:
    if key in TEXT_FIELDS:
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value  # plain strings: "@channel", "HTML", file ids, ...


async def read_params(request: web.Request) -> dict[str, Any]:
    """A method's parameters from the query, a JSON body or a multipart form; an uploaded
    file stands where aiogram refers to it (`document=attach://<part>`) as an Upload."""
    params: dict[str, Any] = {k: decode(k, v) for k, v in request.query.items()}
    if request.content_type == "application/json":
        params.update(await request.json())
        return params
    files: dict[str, Upload] = {}
    for key, value in (await request.post()).items():
        if isinstance(value, web.FileField):
            files[key] = Upload(value.filename, value.content_type, value.file.read())
        else:
            # aiohttp gives a part without a text content type as bytes.
            text = value if isinstance(value, str) else bytes(value).decode()
            params[key] = decode(key, text)
    for key, value in list(params.items()):
        if isinstance(value, str) and value.startswith("attach://"):
            params[key] = files.pop(value.removeprefix("attach://"), value)
    params.update(files)
    return params


def error_response(code: int, description: str) -> web.Response:
    body = {"ok": False, "error_code": code, "description": description}
    return web.json_response(body, status=code)


class UpdateQueue:
    """Updates waiting for getUpdates. Like Telegram, handing an update out does not drop it:
    only a later offset confirms delivery."""

    def __init__(self, first_id: int = 1) -> None:
        self._pending: list[dict[str, Any]] = []  # unconfirmed updates, oldest first
        self._next_id = first_id
        # Replaced on every push, so waiters never busy-loop.
        self._event = asyncio.Event()
        self._closing = False

    def push(self, update: dict[str, Any]) -> int:
        """Queue an update (a copy); its `update_id` if it has one, else the next id."""
        update_id = int(update.get("update_id", self._next_id))
        self._next_id = max(self._next_id, update_id + 1)
        self._pending.append({**update, "update_id": update_id})
        self._wake()
        return update_id

    def open(self) -> None:
        self._closing = False

    def close(self) -> None:
        """Release every waiting getUpdates at once (the server is stopping)."""
        self._closing = True
        self._wake()

    async def get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        offset = params.get("offset")
        if isinstance(offset, int) and offset < 0:
            self._pending = self._pending[offset:]  # Telegram: keep only the last -offset
        elif isinstance(offset, int):
            self._pending = [u for u in self._pending if u["update_id"] >= offset]
        limit = min(max(int(params.get("limit", 100)), 1), 100)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + float(params.get("timeout", 0))
        while not self._pending and not self._closing and (left := deadline - loop.time()) > 0:
            with suppress(TimeoutError):
                await asyncio.wait_for(self._event.wait(), left)
        return self._pending[:limit]

    def _wake(self) -> None:
        self._event.set()
        self._event = asyncio.Event()
