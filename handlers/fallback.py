"""Last resort: anything no other handler took gets a short, useful answer."""

from __future__ import annotations

from aiogram import Router
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from handlers.screen import Screen
from handlers.ui import menu_view
from members.dto import Identity


async def on_stale_button(_callback: CallbackQuery, screen: Screen) -> None:
    # Forged or outdated callback data lands here: say so, change nothing.
    screen.notify(_("This button is no longer valid."), alert=True)


async def on_unknown_message(message: Message, identity: Identity, screen: Screen) -> None:
    if not identity.is_registered:
        await message.answer(_("Welcome! Send /start to register."))
        return
    await message.answer(_("I did not understand that. Please use the menu."))
    await screen.show(*menu_view(identity))


def create_router() -> Router:
    router = Router(name="fallback")
    router.callback_query.register(on_stale_button)
    router.message.register(on_unknown_message)
    return router
