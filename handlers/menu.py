"""Main menu, /help, /lang. The menu shows officer entries only to officers."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder
from aiogram.utils.text_decorations import html_decoration as html

from bot.callbacks import LanguageCB, MenuAction, MenuCB
from bot.i18n import LocaleMiddleware
from handlers.screen import Screen
from members.dto import Identity
from members.roles import Role, effective_roles
from members.service import MembershipService

LANGUAGE_NAMES = {"zh": "中文", "en": "English"}


def main_menu(identity: Identity) -> InlineKeyboardMarkup:
    return main_menu_for_roles(identity.roles)


def main_menu_for_roles(roles: frozenset[Role]) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    entries = [
        (MenuAction.SURVEYS, _("📋 Surveys")),
        (MenuAction.PROPOSALS, _("💡 Proposals")),
        (MenuAction.MAILBOX, _("✉️ Mailbox")),
        (MenuAction.MINE, _("🗂 My data")),
        (MenuAction.LANGUAGE, _("🌐 Language")),
        (MenuAction.HELP, _("❓ Help")),
    ]
    held = effective_roles(roles)
    if Role.PRINCIPAL in held or Role.SECRETARY in held:
        entries.append((MenuAction.INBOX, _("📥 Mailbox inbox")))
    if held & {Role.OFFICER, Role.HANDLER, Role.PRINCIPAL, Role.SECRETARY}:
        # the people who act on things: what waits for them, and which notices they get
        entries += [(MenuAction.TODO, _("📋 To do")), (MenuAction.SETTINGS, _("⚙️ Notices"))]
    if Role.OFFICER in held or Role.HANDLER in held:
        entries.append((MenuAction.PROPOSAL_QUEUE, _("🗳 Proposals to handle")))
    if Role.OFFICER in held:
        entries += [
            (MenuAction.APPROVALS, _("🛂 Registration requests")),
            (MenuAction.ROLES, _("👥 Roles")),
            (MenuAction.SURVEY_ADMIN, _("📊 Manage surveys")),
        ]
    for action, text in entries:
        builder.button(text=text, callback_data=MenuCB(action=action))
    builder.adjust(2)
    return builder.as_markup()


def menu_text(identity: Identity) -> str:
    name = identity.member.name if identity.member else ""
    return _("Hello, {name}! What would you like to do?").format(name=html.quote(name))


def help_text() -> str:
    return _(
        "<b>UnionVoice</b> is the union's bot.\n"
        "• Surveys: answer union questionnaires.\n"
        "• Proposals: file a proposal or co-sign one.\n"
        "• Mailbox: write to the principal or the party secretary, "
        "named, confidential or anonymous (/mailbox); /receipt with your code shows the "
        "replies to an anonymous letter.\n"
        "• My data: /mydata shows what the bot holds about you, as a file too, and lets you "
        "ask for it to be deleted.\n"
        "• For recipients and officers: /inbox — the mailbox's letters, /digest — the weekly "
        "digest, /actions — improvement actions, /todo — everything waiting for you, "
        "/settings — which notices you get.\n\n"
        "Commands: /menu — main menu, /lang — language, /help — this help, "
        "/start — register."
    )


def language_keyboard() -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for code, name in LANGUAGE_NAMES.items():
        builder.button(text=name, callback_data=LanguageCB(locale=code))
    return builder.as_markup()


def menu_view(identity: Identity) -> tuple[str, InlineKeyboardMarkup]:
    return menu_text(identity), main_menu(identity)


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
