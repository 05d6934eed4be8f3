"""Main menu, /help, /lang. The menu shows officer entries only to officers."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from handlers.callbacks import LanguageCB, MenuAction, MenuCB
from handlers.i18n import LocaleMiddleware
from handlers.members.views import LANGUAGE_NAMES, help_text, language_keyboard
from handlers.screen import Screen
from handlers.ui import menu_view
from members.dto import Identity
from members.service import MembershipService


async def on_menu_command(message: Message, identity: Identity, screen: Screen) -> None:
    if not identity.is_registered:
        await message.answer(_("Please register first: send /start."))
        return
    await screen.show(*menu_view(identity))


async def on_help(message: Message) -> None:
    await message.answer(help_text())


async def on_help_button(_callback: CallbackQuery, screen: Screen) -> None:
    await screen.show(help_text())


async def on_lang(message: Message) -> None:
    await message.answer(_("Choose your language:"), reply_markup=language_keyboard())


async def on_lang_button(_callback: CallbackQuery, screen: Screen) -> None:
    await screen.show(_("Choose your language:"), language_keyboard())


async def on_language_chosen(
    _callback: CallbackQuery,
    callback_data: LanguageCB,
    identity: Identity,
    membership: MembershipService,
    state: FSMContext,
    i18n: I18n,
    screen: Screen,
) -> None:
    if callback_data.locale not in LANGUAGE_NAMES:
        screen.notify(_("This button is no longer valid."), alert=True)
        return
    if identity.is_registered:
        await membership.set_locale(identity, callback_data.locale)
    else:  # remembered until registration, which stores it on the member
        await state.update_data({LocaleMiddleware.FSM_KEY: callback_data.locale})
    with i18n.use_locale(callback_data.locale):
        await screen.edit(
            _("Language set to {language}.").format(language=LANGUAGE_NAMES[callback_data.locale])
        )
        if identity.is_registered:
            await screen.show(*menu_view(identity))


def create_router() -> Router:
    router = Router(name="menu")
    router.message.register(on_menu_command, Command("menu"))
    router.message.register(on_help, Command("help"))
    router.message.register(on_lang, Command("lang"))
    router.callback_query.register(on_help_button, MenuCB.filter(F.action == MenuAction.HELP))
    router.callback_query.register(on_lang_button, MenuCB.filter(F.action == MenuAction.LANGUAGE))
    router.callback_query.register(on_language_chosen, LanguageCB.filter())
    return router
