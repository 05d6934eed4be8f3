"""/settings: which work notices to get. Each kind that can reach this person, one toggle."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from handlers.callbacks import MenuAction, MenuCB, NoticeCB
from handlers.members.views import settings_view
from handlers.screen import Screen
from members.dto import Identity
from todo.notices import KIND_LABELS, NoticeKind
from todo.service import NoticeSettings


async def on_settings(
    message: Message, identity: Identity, notice_settings: NoticeSettings
) -> None:
    text, markup = settings_view(await notice_settings.choices(identity))
    await message.answer(text, reply_markup=markup)


async def on_settings_button(
    _callback: CallbackQuery,
    identity: Identity,
    notice_settings: NoticeSettings,
    screen: Screen,
) -> None:
    text, markup = settings_view(await notice_settings.choices(identity))
    await screen.show(text, reply_markup=markup)


async def on_toggle(
    _callback: CallbackQuery,
    callback_data: NoticeCB,
    identity: Identity,
    notice_settings: NoticeSettings,
    screen: Screen,
) -> None:
    try:
        kind = NoticeKind(callback_data.kind)
    except ValueError:
        screen.notify(_("This button is no longer valid."), alert=True)
        return
    muted = await notice_settings.toggle(identity, kind)
    label = _(KIND_LABELS[kind])
    screen.notify((_("Muted: {kind}.") if muted else _("On again: {kind}.")).format(kind=label))
    text, markup = settings_view(await notice_settings.choices(identity))
    await screen.edit(text, reply_markup=markup)


def create_router() -> Router:
    router = Router(name="settings")
    router.message.register(on_settings, Command("settings"))
    router.callback_query.register(
        on_settings_button, MenuCB.filter(F.action == MenuAction.SETTINGS)
    )
    router.callback_query.register(on_toggle, NoticeCB.filter())
    return router
