"""Small handlers shared by several conversations."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any, Protocol

from aiogram import F, Router
from aiogram.filters.callback_data import CallbackData
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _

from handlers.screen import Screen

# A callback handler: aiogram passes each one the arguments its signature names.
CallbackHandler = Callable[..., Awaitable[Any]]


async def ask_for_text(message: Message) -> None:
    """A sticker, photo or voice message where the conversation expects text."""
    await message.answer(_("Please send text."))


def attachment_of(message: Message) -> tuple[str, str, str | None] | None:
    """(kind, Telegram file id, file name) of a photo or document message, else None."""
    if message.photo:
        return "photo", message.photo[-1].file_id, None
    if message.document:
        return "document", message.document.file_id, message.document.file_name
    return None


class SentFile(Protocol):
    """A file the bot has seen before: Telegram sends it again by its id."""

    @property
    def kind(self) -> str: ...  # "photo" or "document"

    @property
    def telegram_file_id(self) -> str: ...


async def send_files(screen: Screen, files: Iterable[SentFile]) -> None:
    for attachment in files:
        if attachment.kind == "photo":
            await screen.photo(attachment.telegram_file_id)
        else:
            await screen.document(attachment.telegram_file_id)


def register_actions(
    router: Router,
    factory: type[CallbackData],
    actions: Mapping[Any, CallbackHandler],
) -> None:
    """One callback handler per `action` value of a callback data factory."""
    for action, handler in actions.items():
        router.callback_query.register(handler, factory.filter(F.action == action))
