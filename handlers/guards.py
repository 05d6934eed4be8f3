"""Router guards: who may use a whole router, checked on every message and button press."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import CallbackQuery, Message, TelegramObject
from aiogram.utils.i18n import gettext as _

from members.dto import Identity
from members.roles import Role

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


async def _refuse(event: TelegramObject, text: str) -> None:
    if isinstance(event, CallbackQuery):
        await event.answer(text, show_alert=True)
    elif isinstance(event, Message):
        await event.answer(text)


class RequireRole(BaseMiddleware):
    """Guards a whole router: checked on every message and every button press."""

    def __init__(self, role: Role) -> None:
        self._role = role

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        identity: Identity | None = data.get("identity")
        if identity is None or not identity.has(self._role):
            await _refuse(event, _("You are not allowed to do this."))
            return None
        return await handler(event, data)


class RequireRegistration(BaseMiddleware):
    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        identity: Identity | None = data.get("identity")
        if identity is None or not identity.is_registered:
            await _refuse(event, _("Please register first: send /start."))
            return None
        return await handler(event, data)
