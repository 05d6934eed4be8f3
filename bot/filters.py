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
