"""Drives the real Dispatcher with real Update objects; the Bot records what it would send."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.filters.callback_data import CallbackData
from aiogram.methods import AnswerCallbackQuery, EditMessageText, SendMessage, TelegramMethod
from aiogram.types import (
    CallbackQuery,
    Chat,
    Document,
    InlineKeyboardMarkup,
    Message,
    Sticker,
    Update,
    User,
)

from outbox.worker import OutboxWorker
from tests.fakes.session import BOT_USER, RecordingSession

_update_ids = itertools.count(1)
_message_ids = itertools.count(1)


@dataclass(frozen=True)
class TgUser:
    id: int
    first_name: str = "Test"
    language_code: str | None = "zh-hans"

    def as_user(self) -> User:
        return User(
            id=self.id, is_bot=False, first_name=self.first_name, language_code=self.language_code
        )


@dataclass
class Outcome:
    """What the bot did in answer to one update."""

    requests: list[TelegramMethod[Any]]

    @property
    def texts(self) -> list[str]:
        texts = [r.text for r in self.requests if isinstance(r, SendMessage | EditMessageText)]
        texts += [r.text for r in self.requests if isinstance(r, AnswerCallbackQuery) and r.text]
        return texts

    @property
    def text(self) -> str:
        return "\n---\n".join(self.texts)

    def sent_to(self, chat_id: int) -> list[SendMessage]:
        return [r for r in self.requests if isinstance(r, SendMessage) and r.chat_id == chat_id]

    def buttons(self, chat_id: int | None = None) -> list[tuple[str, str]]:
        """(text, callback_data) of every inline button sent or edited in."""
        result = []
        for request in self.requests:
            markup = getattr(request, "reply_markup", None)
            if chat_id is not None and getattr(request, "chat_id", chat_id) != chat_id:
                continue
            if isinstance(markup, InlineKeyboardMarkup):
                for row in markup.inline_keyboard:
                    result += [(b.text, b.callback_data or "") for b in row]
        return result

    def button(self, text_part: str, chat_id: int | None = None) -> str:
        for text, data in self.buttons(chat_id):
            if text_part in text:
                return data
        raise AssertionError(f"no button with {text_part!r} in {self.buttons(chat_id)}")


class BotDriver:
    def __init__(
        self,
        dispatcher: Dispatcher,
        bot: Bot,
        session: RecordingSession,
        outbox: OutboxWorker | None = None,
    ) -> None:
        self.dispatcher, self.bot, self.session, self.outbox = dispatcher, bot, session, outbox

    async def flush_outbox(self) -> Outcome:
        """Run the real sender until the outbox is empty; what it sent."""
        assert self.outbox is not None
        start = len(self.session.requests)
        await self.outbox.drain(timeout=10)
        return Outcome(self.session.requests[start:])

    async def feed(self, update: Update) -> Outcome:
        start = len(self.session.requests)
        await self.dispatcher.feed_update(self.bot, update)
        return Outcome(self.session.requests[start:])

    @staticmethod
    def message_update(
        user: TgUser, text: str | None = None, *, chat: Chat | None = None, sticker: bool = False
    ) -> Update:
        extra: dict[str, Any] = {}
        if sticker:
            extra["sticker"] = Sticker(
                file_id="s",
                file_unique_id="s",
                type="regular",
                width=1,
                height=1,
                is_animated=False,
                is_video=False,
            )
        message = Message(
            message_id=next(_message_ids),
            date=datetime.now(UTC),
            chat=chat or Chat(id=user.id, type="private"),
            from_user=user.as_user(),
            text=text,
            **extra,
        )
        return Update(update_id=next(_update_ids), message=message)

    async def send(self, user: TgUser, text: str | None = None, **kwargs: Any) -> Outcome:
        return await self.feed(self.message_update(user, text, **kwargs))

    async def send_file(self, user: TgUser, filename: str, content: bytes) -> Outcome:
        """The user sends a document; the bot can download it through the recording session."""
        file_id = f"doc{next(_message_ids)}"
        self.session.files[file_id] = content
        update = self.message_update(user)
        assert update.message is not None
        document = Document(
            file_id=file_id, file_unique_id=file_id, file_name=filename, file_size=len(content)
        )
        update = update.model_copy(
            update={"message": update.message.model_copy(update={"document": document})}
        )
        return await self.feed(update)

    @staticmethod
    def callback_update(user: TgUser, data: str | CallbackData) -> Update:
        packed = data.pack() if isinstance(data, CallbackData) else data
        message = Message(
            message_id=next(_message_ids),
            date=datetime.now(UTC),
            chat=Chat(id=user.id, type="private"),
            from_user=BOT_USER,
            text="…",
        )
        query = CallbackQuery(
            id=str(next(_message_ids)),
            from_user=user.as_user(),
            chat_instance="test",
            data=packed,
            message=message,
        )
        return Update(update_id=next(_update_ids), callback_query=query)

    async def press(self, user: TgUser, data: str | CallbackData) -> Outcome:
        return await self.feed(self.callback_update(user, data))
