"""Small handlers shared by several conversations."""

from __future__ import annotations

from aiogram.types import Message
from aiogram.utils.i18n import gettext as _


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
