"""A Bot session that records every API call and answers like Telegram would, offline."""

from __future__ import annotations

import itertools
from collections.abc import AsyncGenerator
from datetime import UTC, datetime
from typing import Any

from aiogram import Bot
from aiogram.client.session.base import BaseSession
from aiogram.methods import (
    EditMessageReplyMarkup,
    EditMessageText,
    GetFile,
    GetMe,
    SendDocument,
    SendMessage,
    SendPhoto,
    TelegramMethod,
)
from aiogram.types import Chat, File, Message, User

BOT_USER = User(id=42, is_bot=True, first_name="UnionVoice", username="unionvoice_test_bot")


class RecordingSession(BaseSession):
    def __init__(self) -> None:
        super().__init__()
        self.requests: list[TelegramMethod[Any]] = []
        self._message_ids = itertools.count(10_000)
        self.files: dict[str, bytes] = {}  # file_id → content, for bot.download()

    async def make_request(
        self, bot: Bot, method: TelegramMethod[Any], timeout: int | None = None
    ) -> Any:
        self.requests.append(method)
        return self._answer(method)

    def _message(self, chat_id: int, **fields: Any) -> Message:
        return Message(
            message_id=next(self._message_ids),
            date=datetime.now(UTC),
            chat=Chat(id=chat_id, type="private"),
            from_user=BOT_USER,
            **fields,
        )

    def _answer(self, method: TelegramMethod[Any]) -> Any:
        if isinstance(method, GetMe):
            return BOT_USER
        if isinstance(method, GetFile):
            return File(
                file_id=method.file_id,
                file_unique_id=method.file_id,
                file_path=f"files/{method.file_id}",
            )
        if isinstance(method, SendMessage):
            return self._message(
                int(method.chat_id), text=method.text, reply_markup=method.reply_markup
            )
        if isinstance(method, SendPhoto | SendDocument):
            return self._message(int(method.chat_id), caption=method.caption)
        if isinstance(method, EditMessageText):
            return self._message(
                int(method.chat_id or 0), text=method.text, reply_markup=method.reply_markup
            )
        if isinstance(method, EditMessageReplyMarkup):
            return True
        return True

    async def close(self) -> None:
        pass

    async def stream_content(
        self,
        url: str,
        headers: dict[str, Any] | None = None,
        timeout: int = 30,
        chunk_size: int = 65536,
        raise_for_status: bool = True,
    ) -> AsyncGenerator[bytes, None]:
        yield self.files[url.rsplit("/", 1)[-1]]
