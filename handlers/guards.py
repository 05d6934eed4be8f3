"""Who may reach a router, checked on every message and button press. Private chat and
registration are checked once, on the parent routers in handlers/routers.py; a router for one
role is made by `role_router`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware, Router
from aiogram.types import CallbackQuery, Message, TelegramObject
from aiogram.utils.i18n import gettext as _

from members.dto import Identity
from members.roles import Role

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


async def _refuse(event: TelegramObject, text: str, data: dict[str, Any]) -> None:
    screen = data.get("screen")
    if screen is not None and isinstance(event, CallbackQuery):
        screen.notify(text, alert=True)  # the screen middleware answers the press once
    elif isinstance(event, CallbackQuery):
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
            await _refuse(event, _("You are not allowed to do this."), data)
            return None
        return await handler(event, data)


class RequireRegistration(BaseMiddleware):
    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        identity: Identity | None = data.get("identity")
        if identity is None or not identity.is_registered:
            await _refuse(event, _("Please register first: send /start."), data)
            return None
        return await handler(event, data)


def role_router(name: str, role: Role = Role.OFFICER) -> Router:
    """A router whose every message and button press is checked for `role`."""
    router = Router(name=name)
    guard = RequireRole(role)
    for observer in (router.message, router.callback_query):
        observer.middleware(guard)
    return router
