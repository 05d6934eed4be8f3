"""Async filters (aiogram runs synchronous filters in a thread: keep the hot path async)."""

from __future__ import annotations

from aiogram.enums import ChatType
from aiogram.filters import Filter
from aiogram.types import CallbackQuery, Message


class ChatTypeFilter(Filter):
    def __init__(self, *types: ChatType) -> None:
        self._types = frozenset(types)

    async def __call__(self, event: Message | CallbackQuery) -> bool:
        message = event.message if isinstance(event, CallbackQuery) else event
        return message is not None and message.chat.type in self._types


def private_chat() -> ChatTypeFilter:
    return ChatTypeFilter(ChatType.PRIVATE)


def group_chat() -> ChatTypeFilter:
    return ChatTypeFilter(ChatType.GROUP, ChatType.SUPERGROUP)


class WithoutText(Filter):
    """A message with no text (sticker, photo, voice …) where text is expected."""

    async def __call__(self, message: Message) -> bool:
        return message.text is None


class DocumentWithSuffix(Filter):
    """A document whose file name ends with one of the suffixes (case-insensitive)."""

    def __init__(self, *suffixes: str) -> None:
        self._suffixes = tuple(s.lower() for s in suffixes)

    async def __call__(self, message: Message) -> bool:
        name = message.document.file_name if message.document else None
        return bool(name and name.lower().endswith(self._suffixes))
