"""Small handlers shared by several conversations."""

from __future__ import annotations

from aiogram.types import Message
from aiogram.utils.i18n import gettext as _


async def ask_for_text(message: Message) -> None:
    """A sticker, photo or voice message where the conversation expects text."""
    await message.answer(_("Please send text."))
