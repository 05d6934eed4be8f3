"""Small handlers shared by several conversations."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from aiogram import F, Router
from aiogram.filters.callback_data import CallbackData
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _

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


def register_actions(
    router: Router,
    factory: type[CallbackData],
    actions: Mapping[Any, CallbackHandler],
) -> None:
    """One callback handler per `action` value of a callback data factory."""
    for action, handler in actions.items():
        router.callback_query.register(handler, factory.filter(F.action == action))
