"""A local fake of the Telegram Bot API for tests.

Tests drive it through aiogram's real HTTP session, so URL building, form encoding and
response parsing are exercised exactly as in production::

    async with FakeBotAPI() as fake, fake.make_bot() as bot:
        await bot.send_message(1, "hi")
        (call,) = await fake.wait_for("sendMessage")

Only 127.0.0.1 is ever bound; nothing here talks to the network.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from contextlib import suppress
from dataclasses import dataclass
from types import TracebackType
from typing import Any

from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiohttp import web

from sandbox.bot_api_core import (
    MAX_UPLOAD,
    BotApiError,
    UpdateQueue,
    Upload,
    error_response,
    read_params,
)

Responder = Callable[[str, dict[str, Any]], Awaitable[web.Response | None]]

@dataclass
class RecordedCall:
    method: str
    params: dict[str, Any]
    at: float
    # What the fake answered with {"ok": true}, e.g. the Message a sendMessage created; None
    # while the request is in flight, for errors and for responses made by `responder`.
    result: Any = None


def _fresh(event: asyncio.Event) -> asyncio.Event:
    """Wake everyone waiting on `event` and hand back a new one for the next round."""
    event.set()
    return asyncio.Event()


class FakeBotAPI:
    def __init__(
        self, *, bot_id: int = 42, bot_username: str = "unionvoice_test_bot", token: str = "42:TEST"
    ) -> None:
        self.token = token
        self.me: dict[str, Any] = {
            "id": bot_id, "is_bot": True, "first_name": "UnionVoice", "username": bot_username,
            "can_join_groups": True, "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }  # fmt: skip
        self.calls: list[RecordedCall] = []
        self.responder: Responder | None = None
        self.base_url = ""
        self._updates = UpdateQueue()
        self._message_ids: dict[int | str, int] = {}
        self._file_seq = 0
        self._incoming_message_id = 0
        # Replaced on every call, so waiters never busy-loop.
        self._call_event = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._started_at = time.monotonic()

    # ----------------------------------------------------------------- lifecycle
    async def start(self) -> None:
        app = web.Application(client_max_size=MAX_UPLOAD)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        # Long polls are woken by stop() itself; the timeout only guards against a stuck handler.
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)  # port 0: the OS picks a free one
        await site.start()
        port = self._runner.addresses[0][1]
        self.base_url = f"http://127.0.0.1:{port}"
        self._updates.open()
        self._started_at = time.monotonic()

    async def stop(self) -> None:
        # Release pending getUpdates first, otherwise cleanup waits for them to time out.
        self._updates.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeBotAPI:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    def make_bot(self, token: str | None = None, **kwargs: Any) -> Bot:
        """A real aiogram Bot pointed at this server (close it: `async with fake.make_bot()`)."""
        api = TelegramAPIServer.from_base(self.base_url)
        return Bot(token or self.token, session=AiohttpSession(api=api), **kwargs)

    # ----------------------------------------------------------------- test helpers
    def push_update(self, update: dict[str, Any]) -> int:
        return self._updates.push(update)  # a copy: the caller's template stays as it is

    def push_message(self, text: str, *, user_id: int = 1001, **extra: Any) -> int:
        """Queue a private text message from `user_id` (the common case in flow tests)."""
        user = {"id": user_id, "is_bot": False, "first_name": f"User{user_id}"}
        self._incoming_message_id += 1
        message = {
            "message_id": self._incoming_message_id, "date": int(time.time()),
            "chat": {"id": user_id, "type": "private", "first_name": user["first_name"]},
            "from": user, "text": text, **extra,
        }  # fmt: skip
        return self.push_update({"message": message})

    def calls_of(self, method: str) -> list[RecordedCall]:
        return [call for call in self.calls if call.method == method]

    async def wait_for(
        self,
        method: str,
        count: int = 1,
        timeout: float = 5.0,
        predicate: Callable[[RecordedCall], bool] | None = None,
    ) -> list[RecordedCall]:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            found = [c for c in self.calls_of(method) if predicate is None or predicate(c)]
            if len(found) >= count:
                return found
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise AssertionError(
                    f"expected {count} {method} call(s) within {timeout}s, got {len(found)}.\n"
                    f"Calls seen:\n{self.dump_calls()}"
                )
            with suppress(TimeoutError):
                await asyncio.wait_for(self._call_event.wait(), remaining)

    def dump_calls(self) -> str:
        lines = [
            f"  +{c.at - self._started_at:7.3f}s {c.method} {json.dumps(c.params, default=str)}"
            for c in self.calls
        ]
        return "\n".join(lines) or "  (none)"

    # ----------------------------------------------------------------- HTTP
    async def _handle(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.token:
            return error_response(401, "Unauthorized")
        method = request.match_info["method"]
        params = _sizes(await read_params(request))
        call = RecordedCall(method, params, time.monotonic())
        self.calls.append(call)
        self._call_event = _fresh(self._call_event)
        if self.responder is not None and (custom := await self.responder(method, params)):
            return custom
        handler = getattr(self, f"_api_{method.lower()}", None)  # Telegram ignores case
        if handler is None:
            return error_response(404, "Not Found: method not found")
        try:
            result = await handler(params)
        except BotApiError as e:
            return error_response(e.code, e.description)
        call.result = result
        self._call_event = _fresh(self._call_event)  # wake waiters whose predicate needs it
        return web.json_response({"ok": True, "result": result})

    # ----------------------------------------------------------------- methods
    async def _api_getme(self, params: dict[str, Any]) -> Any:
        return self.me

    async def _api_getupdates(self, params: dict[str, Any]) -> Any:
        return await self._updates.get_updates(params)

    async def _api_sendmessage(self, params: dict[str, Any]) -> Any:
        if not params.get("text"):
            raise BotApiError(400, "Bad Request: message text is empty")
        return self._message(params, text=params["text"], entities=params.get("entities"))

    async def _api_sendphoto(self, params: dict[str, Any]) -> Any:
        file = self._file(params.get("photo"))
        file.pop("file_name", None)  # PhotoSize has no file_name
        photo = [{**file, "width": 640, "height": 480}]
        return self._message(params, photo=photo, **self._caption(params))

    async def _api_senddocument(self, params: dict[str, Any]) -> Any:
        return self._message(params, document=self._file(params.get("document")),
                             **self._caption(params))  # fmt: skip

    async def _api_editmessagetext(self, params: dict[str, Any]) -> Any:
        if "inline_message_id" in params:
            return True  # Telegram returns True for inline messages
        message = self._message(params, text=params.get("text"), entities=params.get("entities"))
        message["message_id"] = params.get("message_id")
        message["edit_date"] = message["date"]
        return message

    async def _api_true(self, params: dict[str, Any]) -> Any:
        return True

    _api_deletewebhook = _api_setmycommands = _api_deletemycommands = _api_true
    _api_answercallbackquery = _api_setchatmenubutton = _api_deletemessage = _api_true
    _api_editmessagereplymarkup = _api_setwebhook = _api_true

    # ----------------------------------------------------------------- builders
    def _message(self, params: dict[str, Any], **content: Any) -> dict[str, Any]:
        chat_id = params.get("chat_id")
        if chat_id is None or chat_id == "":
            raise BotApiError(400, "Bad Request: chat_id is empty")
        self._message_ids[chat_id] = self._message_ids.get(chat_id, 0) + 1
        message = {
            "message_id": self._message_ids[chat_id], "date": int(time.time()),
            "chat": _chat(chat_id), "from": self.me,
        }  # fmt: skip
        message.update({k: v for k, v in content.items() if v is not None})
        markup = params.get("reply_markup")
        # Message.reply_markup is InlineKeyboardMarkup only; echoing a reply keyboard
        # would make aiogram fail to parse the response (Telegram doesn't echo it either).
        if isinstance(markup, dict) and "inline_keyboard" in markup:
            message["reply_markup"] = markup
        return message

    def _caption(self, params: dict[str, Any]) -> dict[str, Any]:
        return {
            "caption": params.get("caption"),
            "caption_entities": params.get("caption_entities"),
        }

    def _file(self, sent: Any) -> dict[str, Any]:
        if isinstance(sent, str):  # re-sent by file_id (or URL)
            return {"file_id": sent, "file_unique_id": sent[-16:]}
        if not isinstance(sent, dict):
            raise BotApiError(400, "Bad Request: there is no file in the request")
        self._file_seq += 1
        file_id = f"fake-file-{self._file_seq}"
        return {"file_id": file_id, "file_unique_id": file_id,
                "file_name": sent["filename"], "file_size": sent["size"]}  # fmt: skip


def _chat(chat_id: int | str) -> dict[str, Any]:
    if isinstance(chat_id, int) and chat_id > 0:
        return {"id": chat_id, "type": "private"}
    if isinstance(chat_id, int):  # negative ids are groups in Telegram
        return {"id": chat_id, "type": "supergroup", "title": "Fake group"}
    return {"id": -1000000000001, "type": "channel", "username": str(chat_id).lstrip("@")}


def _sizes(params: dict[str, Any]) -> dict[str, Any]:
    """Uploads as {"filename", "size"}: what tests check, without keeping the bytes around."""
    return {
        key: {"filename": value.filename, "size": len(value.content)}
        if isinstance(value, Upload)
        else value
        for key, value in params.items()
    }
