"""The chat a handler answers in, and the callback answer once the handler succeeded.

`ScreenMiddleware` injects `screen` into every private-chat handler. For a button press it
answers the callback query *after* the handler returned, so a `DomainError` raised by the
handler still reaches the error router, which shows its own alert (aiogram's
`CallbackAnswerMiddleware` answers in `finally`, too early for that). A handler that wants a
toast or an alert says `screen.notify(...)`; the query is answered once either way.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware, Bot
from aiogram.exceptions import TelegramAPIError, TelegramBadRequest
from aiogram.types import (
    CallbackQuery,
    InlineKeyboardMarkup,
    InputFile,
    Message,
    TelegramObject,
)

from common.text import split_text

logger = logging.getLogger(__name__)
Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


class Screen:
    """Shows text in the chat of the current update, or edits the message a button is on.

    A button's message can be inaccessible (too old, deleted): editing it then sends a new
    message instead, so the person always sees the answer."""

    def __init__(
        self,
        bot: Bot,
        chat_id: int,
        current: Message | None = None,
        callback: CallbackQuery | None = None,
    ) -> None:
        self.bot, self.chat_id = bot, chat_id
        self._current = current  # the bot's message the pressed button is on, if accessible
        self._callback = callback  # None once answered
        self._notice: tuple[str | None, bool] = (None, False)

    @classmethod
    def of(cls, bot: Bot, event: Message | CallbackQuery) -> Screen:
        if isinstance(event, Message):
            return cls(bot, event.chat.id)  # a person's message is never edited
        message = event.message
        chat_id = message.chat.id if message is not None else event.from_user.id
        return cls(bot, chat_id, message if isinstance(message, Message) else None, event)

    async def show(self, text: str, reply_markup: InlineKeyboardMarkup | None = None) -> Message:
        """A new message below the current one."""
        return await self.bot.send_message(self.chat_id, text, reply_markup=reply_markup)

    async def show_long(self, text: str, reply_markup: InlineKeyboardMarkup | None = None) -> None:
        """Text of any length, cut at Telegram's limit; the buttons go with the last part."""
        parts = split_text(text)
        for part in parts[:-1]:
            await self.show(part)
        await self.show(parts[-1], reply_markup)

    async def edit(self, text: str, reply_markup: InlineKeyboardMarkup | None = None) -> None:
        """Replace the pressed button's message; a new message when it cannot be edited."""
        if self._current is not None:
            try:
                await self._current.edit_text(text, reply_markup=reply_markup)
                return
            except TelegramBadRequest as exc:
                if "not modified" in exc.message:  # the same text and buttons: nothing to do
                    return
                logger.info("message could not be edited (%s); sent anew", exc.message)
        await self.show(text, reply_markup)

    async def edit_buttons(self, reply_markup: InlineKeyboardMarkup | None = None) -> None:
        """Replace (None: remove) the buttons of the pressed button's message, if it is there."""
        if self._current is None:
            return
        try:
            await self._current.edit_reply_markup(reply_markup=reply_markup)
        except TelegramBadRequest as exc:  # gone meanwhile, or unchanged: nothing to remove
            logger.info("buttons could not be edited (%s)", exc.message)

    async def document(self, document: str | InputFile, caption: str | None = None) -> None:
        await self.bot.send_document(self.chat_id, document, caption=caption)

    async def photo(self, photo: str | InputFile, caption: str | None = None) -> None:
        await self.bot.send_photo(self.chat_id, photo, caption=caption)

    def notify(self, text: str, *, alert: bool = False) -> None:
        """The callback's answer: a toast (or an alert) shown when the handler succeeded."""
        self._notice = (text, alert)

    async def acknowledge(self, text: str) -> None:
        """Answer the press now, before slow work (results, files): the spinner stops at once.
        An error after this can no longer show its alert, so only for work that rarely fails."""
        self.notify(text)
        await self.answer_callback()

    async def answer_callback(self) -> None:
        """Answer the press once (the middleware calls this after the handler succeeded)."""
        callback, self._callback = self._callback, None
        if callback is None:
            return
        text, alert = self._notice
        try:
            await callback.answer(text, show_alert=alert or None)
        except TelegramAPIError as exc:
            # Too old or answered already: the action itself succeeded and is stored, so a
            # spinner left on the button is not worth failing the update for.
            logger.info("callback query not answered: %s", type(exc).__name__)


class ScreenMiddleware(BaseMiddleware):
    """Injects `screen`; answers a button press once, after its handler succeeded."""

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        if not isinstance(event, Message | CallbackQuery):
            return await handler(event, data)
        screen = Screen.of(data["bot"], event)
        data["screen"] = screen
        result = await handler(event, data)
        await screen.answer_callback()
        return result
