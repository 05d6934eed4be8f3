"""A local Bot API endpoint: the real bot long-polls it as it would api.telegram.org.

The bot is configured with `[telegram] api_base` pointing here, so aiogram's own HTTP session,
long polling, the outbox sender and the scheduler all run unchanged. What people type on the
page becomes updates for getUpdates; what the bot sends becomes chat messages on the page. It
answers like Telegram does where the bot could get it wrong: HTML that Telegram would refuse,
texts over the limits, edits that change nothing, a callback query answered twice.

Only 127.0.0.1 is meant to reach it: it holds no real token and talks to no network.
"""

from __future__ import annotations

import itertools
import logging
import mimetypes
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from sandbox.bot_api_core import (
    BotApiError,
    UpdateQueue,
    Upload,
    error_response,
    read_params,
)
from sandbox.chats import ChatStore, StoredMessage
from sandbox.personas import Persona
from sandbox.telegram_html import CAPTION_LIMIT, TEXT_LIMIT, TelegramHtmlError, formatted

logger = logging.getLogger(__name__)

NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup "
    "are exactly the same as a current content and reply markup of the message"
)


@dataclass(frozen=True, slots=True)
class StoredFile:
    file_id: str
    name: str
    mime_type: str
    content: bytes


def _bad(description: str) -> BotApiError:
    return BotApiError(400, f"Bad Request: {description}")


class SandboxBotAPI:
    def __init__(
        self,
        chats: ChatStore,
        personas: Sequence[Persona],
        *,
        token: str,
        username: str = "unionvoice_sandbox_bot",
    ) -> None:
        self.chats = chats
        self.personas = {persona.telegram_id: persona for persona in personas}
        self.token = token
        bot_id = int(token.split(":", 1)[0])
        self.me: dict[str, Any] = {
            "id": bot_id, "is_bot": True, "first_name": "UnionVoice", "username": username,
            "can_join_groups": False, "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }  # fmt: skip
        self.files: dict[str, StoredFile] = {}
        self._file_ids = itertools.count(1)
        self._query_ids = itertools.count(1)
        self._open_queries: dict[str, int] = {}  # callback query id → chat id, until answered
        # Update ids only grow, also across runs on a kept database (it remembers the ids it
        # processed, and would take a reused id for a redelivery).
        self._updates = UpdateQueue(first_id=int(time.time() * 1000))
        self._methods: dict[str, Callable[[dict[str, Any]], Awaitable[Any]]] = {
            "getme": self._get_me,
            "getupdates": self._updates.get_updates,
            "sendmessage": self._send_message,
            "sendphoto": self._send_photo,
            "senddocument": self._send_document,
            "editmessagetext": self._edit_text,
            "editmessagecaption": self._edit_caption,
            "editmessagereplymarkup": self._edit_reply_markup,
            "deletemessage": self._delete_message,
            "answercallbackquery": self._answer_callback_query,
            "getfile": self._get_file,
            "getchat": self._get_chat,
            "getmycommands": self._empty_list,
            "sendchataction": self._true,
            "setmycommands": self._true,
            "deletemycommands": self._true,
            "deletewebhook": self._true,
            "setchatmenubutton": self._true,
        }

    def add_routes(self, app: web.Application) -> None:
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        app.router.add_get("/file/bot{token}/{file_path:.+}", self._download)

    def close(self) -> None:
        """Release a waiting getUpdates so the server can stop at once."""
        self._updates.close()

    # -- what the people on the page do ----------------------------------------------------------
    def user_text(self, chat_id: int, text: str, language: str | None = None) -> int:
        message = self._user_message(chat_id, language, text=text)
        if text.startswith("/"):
            command = text.split(maxsplit=1)[0]
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
        self._show_user_message(chat_id, message, {"text": [text]})
        return self._push({"message": message})

    def user_file(
        self, chat_id: int, name: str, mime_type: str, content: bytes, language: str | None = None
    ) -> int:
        stored = self._store_file(name, mime_type, content)
        media: dict[str, Any]
        if mime_type in ("image/jpeg", "image/png"):  # what Telegram clients send as photos
            media = {"photo": [self._photo_size(stored)]}
            view: dict[str, Any] = {"photo": self.file_url(stored)}
        else:
            media = {"document": self._document(stored)}
            view = {"document": self._document_view(stored)}
        message = self._user_message(chat_id, language, **media)
        self._show_user_message(chat_id, message, view)
        return self._push({"message": message})

    def user_press(
        self, chat_id: int, message_id: int, data: str, language: str | None = None
    ) -> int | None:
        """A tap on an inline button; None if that message has no such button (any more)."""
        stored = self.chats.get(chat_id, message_id)
        buttons = [b for row in (stored.view.get("inline") or []) for b in row] if stored else []
        if stored is None or not any(b.get("data") == data for b in buttons):
            return None
        query_id = str(next(self._query_ids))
        self._open_queries[query_id] = chat_id
        query = {
            "id": query_id, "from": self._user(chat_id, language), "chat_instance": str(chat_id),
            "message": stored.telegram, "data": data,
        }  # fmt: skip
        return self._push({"callback_query": query})

    def file(self, file_id: str) -> StoredFile | None:
        return self.files.get(file_id)

    @staticmethod
    def file_url(stored: StoredFile) -> str:
        return f"/files/{stored.file_id}"

    # -- updates ---------------------------------------------------------------------------------
    def _push(self, update: dict[str, Any]) -> int:
        return self._updates.push(update)

    def _user(self, chat_id: int, language: str | None) -> dict[str, Any]:
        persona = self.personas[chat_id]
        user = {"id": chat_id, "is_bot": False, "first_name": persona.name}
        return user | ({"language_code": language} if language else {})

    def _user_message(self, chat_id: int, language: str | None, **content: Any) -> dict[str, Any]:
        user = self._user(chat_id, language)
        return {
            "message_id": self.chats.next_message_id(chat_id), "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private", "first_name": user["first_name"]},
            "from": user, **content,
        }  # fmt: skip

    def _show_user_message(
        self, chat_id: int, message: dict[str, Any], view: dict[str, Any]
    ) -> None:
        view = {"id": message["message_id"], "out": True, "date": message["date"], **view}
        self.chats.add(chat_id, StoredMessage(message, view))
        keyboard = self.chats.chat(chat_id).keyboard
        if keyboard and keyboard.get("one_time") and "text" in message:
            self.chats.set_keyboard(chat_id, None)

    # -- HTTP ------------------------------------------------------------------------------------
    async def _handle(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.token:
            return error_response(401, "Unauthorized")
        method = request.match_info["method"]
        handler = self._methods.get(method.lower())  # Telegram ignores the case
        if handler is None:
            logger.warning("the sandbox does not emulate %s", method)
            return error_response(404, "Not Found: method not found")
        params = await read_params(request)
        try:
            result = await handler(params)
        except BotApiError as exc:
            # Shown on the page too: a refusal in Telegram is easy to miss in a log.
            self.chats.problem(_chat_id_or_none(params.get("chat_id")), f"{method}: {exc}")
            logger.warning("%s refused: %s", method, exc.description)
            return error_response(exc.code, exc.description)
        return web.json_response({"ok": True, "result": result})

    async def _download(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.token:
            return error_response(401, "Unauthorized")
        stored = self.files.get(request.match_info["file_path"].rsplit("/", 1)[-1])
        if stored is None:
            return error_response(404, "Not Found")
        return web.Response(body=stored.content, content_type=stored.mime_type)

    # -- methods ---------------------------------------------------------------------------------
    async def _true(self, _params: dict[str, Any]) -> Any:
        return True

    async def _empty_list(self, _params: dict[str, Any]) -> Any:
        return []

    async def _get_me(self, _params: dict[str, Any]) -> Any:
        return self.me

    async def _get_chat(self, params: dict[str, Any]) -> Any:
        chat_id = self._chat(params)
        return {"id": chat_id, "type": "private", "first_name": self.personas[chat_id].name}

    async def _send_message(self, params: dict[str, Any]) -> Any:
        chat_id = self._chat(params)
        text = _formatted(params, "text", TEXT_LIMIT)
        return self._send(chat_id, params, {"text": params["text"]}, {"text": text})

    async def _send_photo(self, params: dict[str, Any]) -> Any:
        chat_id = self._chat(params)
        stored = self._incoming_file(params.get("photo"), "photo.png")
        view = {"photo": self.file_url(stored), "caption": _caption(params)}
        content = {"photo": [self._photo_size(stored)], **_telegram_caption(params)}
        return self._send(chat_id, params, content, view)

    async def _send_document(self, params: dict[str, Any]) -> Any:
        chat_id = self._chat(params)
        stored = self._incoming_file(params.get("document"), "document")
        view = {"document": self._document_view(stored), "caption": _caption(params)}
        content = {"document": self._document(stored), **_telegram_caption(params)}
        return self._send(chat_id, params, content, view)

    def _send(
        self,
        chat_id: int,
        params: dict[str, Any],
        content: dict[str, Any],
        view: dict[str, Any],
    ) -> dict[str, Any]:
        markup = params.get("reply_markup")
        inline = _inline_view(markup)
        message = {
            "message_id": self.chats.next_message_id(chat_id), "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private"}, "from": self.me, **content,
        }  # fmt: skip
        if inline is not None:  # Telegram echoes inline keyboards only
            message["reply_markup"] = markup
        view = {"id": message["message_id"], "out": False, "date": message["date"], **view}
        self.chats.add(chat_id, StoredMessage(message, {**view, "inline": inline}))
        if isinstance(markup, dict) and "keyboard" in markup:
            self.chats.set_keyboard(chat_id, _reply_keyboard_view(markup))
        elif isinstance(markup, dict) and markup.get("remove_keyboard"):
            self.chats.set_keyboard(chat_id, None)
        return message

    async def _edit_text(self, params: dict[str, Any]) -> Any:
        chat_id, stored = self._editable(params)
        if "text" not in stored.telegram:
            raise _bad("there is no text in the message to edit")
        text = _formatted(params, "text", TEXT_LIMIT)
        return self._edit(chat_id, stored, params, {"text": params["text"]}, {"text": text})

    async def _edit_caption(self, params: dict[str, Any]) -> Any:
        chat_id, stored = self._editable(params)
        if "text" in stored.telegram:
            raise _bad("there is no caption in the message to edit")
        caption = _caption(params)
        return self._edit(chat_id, stored, params, _telegram_caption(params), {"caption": caption})

    async def _edit_reply_markup(self, params: dict[str, Any]) -> Any:
        chat_id, stored = self._editable(params)
        return self._edit(chat_id, stored, params, {}, {})

    def _edit(
        self,
        chat_id: int,
        stored: StoredMessage,
        params: dict[str, Any],
        content: dict[str, Any],
        view: dict[str, Any],
    ) -> dict[str, Any]:
        markup = params.get("reply_markup")
        inline = _inline_view(markup)  # no markup in an edit removes the inline keyboard
        new_view = {**stored.view, **view, "inline": inline}
        if new_view == stored.view:
            raise BotApiError(400, NOT_MODIFIED)
        message = {**stored.telegram, **content, "edit_date": int(time.time())}
        message.pop("reply_markup", None)
        if inline is not None:
            message["reply_markup"] = markup
        self.chats.replace(chat_id, StoredMessage(message, {**new_view, "edited": True}))
        return message

    async def _delete_message(self, params: dict[str, Any]) -> Any:
        chat_id = self._chat(params)
        if not self.chats.delete(chat_id, int(params.get("message_id") or 0)):
            raise _bad("message to delete not found")
        return True

    async def _answer_callback_query(self, params: dict[str, Any]) -> Any:
        chat_id = self._open_queries.pop(str(params.get("callback_query_id")), None)
        if chat_id is None:
            raise _bad("query is too old and response timeout expired or query ID is invalid")
        if params.get("text"):
            self.chats.toast(chat_id, str(params["text"]), bool(params.get("show_alert")))
        return True

    async def _get_file(self, params: dict[str, Any]) -> Any:
        stored = self.files.get(str(params.get("file_id")))
        if stored is None:
            raise _bad("invalid file_id")
        return {
            "file_id": stored.file_id, "file_unique_id": stored.file_id,
            "file_size": len(stored.content), "file_path": f"files/{stored.file_id}",
        }  # fmt: skip

    # -- helpers ---------------------------------------------------------------------------------
    def _chat(self, params: dict[str, Any]) -> int:
        chat_id = _chat_id_or_none(params.get("chat_id"))
        if chat_id is None or chat_id not in self.personas:
            raise _bad("chat not found")
        return chat_id

    def _editable(self, params: dict[str, Any]) -> tuple[int, StoredMessage]:
        if params.get("inline_message_id"):
            raise _bad("the sandbox has no inline messages")
        chat_id = self._chat(params)
        stored = self.chats.get(chat_id, int(params.get("message_id") or 0))
        if stored is None:
            raise _bad("message to edit not found")
        if stored.view["out"]:
            raise _bad("message can't be edited")
        return chat_id, stored

    def _store_file(self, name: str, mime_type: str, content: bytes) -> StoredFile:
        file_id = f"sandbox-file-{next(self._file_ids)}"
        stored = StoredFile(file_id, name, mime_type, content)
        self.files[file_id] = stored
        return stored

    def _incoming_file(self, sent: Any, default_name: str) -> StoredFile:
        if isinstance(sent, str):  # sent again by file id
            if sent not in self.files:
                raise _bad("wrong file identifier/HTTP URL specified")
            return self.files[sent]
        if not isinstance(sent, Upload):
            raise _bad("there is no file in the request")
        name = sent.filename or default_name
        mime = mimetypes.guess_type(name)[0] or sent.content_type or "application/octet-stream"
        return self._store_file(name, mime, sent.content)

    @staticmethod
    def _photo_size(stored: StoredFile) -> dict[str, Any]:
        return {
            "file_id": stored.file_id, "file_unique_id": stored.file_id,
            "width": 800, "height": 600, "file_size": len(stored.content),
        }  # fmt: skip

    @staticmethod
    def _document(stored: StoredFile) -> dict[str, Any]:
        return {
            "file_id": stored.file_id, "file_unique_id": stored.file_id,
            "file_name": stored.name, "mime_type": stored.mime_type,
            "file_size": len(stored.content),
        }  # fmt: skip

    def _document_view(self, stored: StoredFile) -> dict[str, Any]:
        return {"name": stored.name, "url": self.file_url(stored), "size": len(stored.content)}


def _chat_id_or_none(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _formatted(params: dict[str, Any], key: str, limit: int) -> list[Any]:
    try:
        return formatted(str(params.get(key) or ""), params.get("parse_mode"), limit)
    except TelegramHtmlError as exc:
        raise _bad(str(exc)) from None


def _caption(params: dict[str, Any]) -> list[Any] | None:
    return _formatted(params, "caption", CAPTION_LIMIT) if params.get("caption") else None


def _telegram_caption(params: dict[str, Any]) -> dict[str, Any]:
    return {"caption": params["caption"]} if params.get("caption") else {}


def _inline_view(markup: Any) -> list[list[dict[str, str]]] | None:
    if not isinstance(markup, dict) or not markup.get("inline_keyboard"):
        return None
    rows = []
    for row in markup["inline_keyboard"]:
        buttons = []
        for button in row:
            view = {"text": str(button.get("text", ""))}
            if "callback_data" in button:
                view["data"] = str(button["callback_data"])
            elif "url" in button:
                view["url"] = str(button["url"])
            buttons.append(view)
        rows.append(buttons)
    return rows


def _reply_keyboard_view(markup: dict[str, Any]) -> dict[str, Any]:
    return {
        "rows": [
            [
                str(button.get("text", "")) if isinstance(button, dict) else str(button)
                for button in row
            ]
            for row in markup["keyboard"]
        ],
        "one_time": bool(markup.get("one_time_keyboard")),
        "placeholder": markup.get("input_field_placeholder"),
    }
