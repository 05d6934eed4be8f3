"""In groups the bot only points people to the private chat (no data is collected there)."""

from __future__ import annotations

import re

from aiogram import Bot, Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from handlers.filters import group_chat

ANY_COMMAND = re.compile(r".+")


async def on_group_command(message: Message, bot: Bot) -> None:
    me = await bot.me()
    await message.reply(
        _("Please talk to me in a private chat: https://t.me/{username}").format(
            username=me.username
        )
    )


async def on_group_button(callback: CallbackQuery) -> None:
    await callback.answer(_("Please use the bot in a private chat."), show_alert=True)


async def on_anything_else(message: Message) -> None:
    """Swallow ordinary group chatter without answering it."""


def create_router() -> Router:
    router = Router(name="groups")
    router.message.filter(group_chat())
    router.callback_query.filter(group_chat())
    router.message.register(on_group_command, Command(ANY_COMMAND))
    router.message.register(on_anything_else)
    router.callback_query.register(on_group_button)
    return router
