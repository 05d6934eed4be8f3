"""Messages the bot sends on its own (not as a reply): rendered in each recipient's language.

A failure for one recipient (blocked the bot, Telegram error) is logged and never stops the
others or the handler that triggered it. The reliable outbox replaces the direct send.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError
from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import I18n

from members.service import Recipient

logger = logging.getLogger(__name__)
Render = Callable[[], tuple[str, InlineKeyboardMarkup | None]]


class Notifier:
    def __init__(self, bot: Bot, i18n: I18n) -> None:
        self._bot = bot
        self._i18n = i18n

    async def send(self, recipient: Recipient, render: Render) -> bool:
        with self._i18n.use_locale(recipient.locale or self._i18n.default_locale):
            text, markup = render()
        try:
            await self._bot.send_message(recipient.telegram_id, text, reply_markup=markup)
        except TelegramAPIError as exc:
            logger.warning("notification not delivered: %s", type(exc).__name__)
            return False
        return True

    async def send_many(self, recipients: Iterable[Recipient], render: Render) -> int:
        return sum([await self.send(recipient, render) for recipient in recipients])
