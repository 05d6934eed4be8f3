"""When the privacy notice changes (members.service.CONSENT_VERSION), registered members are
asked again before anything else; /mydata stays open to them whatever they answer."""

from __future__ import annotations

from typing import Any

from aiogram import Router
from aiogram.filters import Filter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from handlers.callbacks import ConsentCB, DataCB
from handlers.members.views import consent_keyboard, privacy_notice
from handlers.screen import Screen
from handlers.ui import menu_view
from members.dto import Identity
from members.service import CONSENT_VERSION
from privacy.service import DataRightsService

ALWAYS_OPEN_COMMANDS = ("/mydata",)


class NeedsConsent(Filter):
    """A registered member whose consent is older than the current notice."""

    async def __call__(self, event: Message | CallbackQuery, identity: Identity | None) -> bool:
        if identity is None or identity.member is None:
            return False
        if identity.member.consent_version == CONSENT_VERSION:
            return False
        if isinstance(event, Message):
            return not (event.text or "").startswith(ALWAYS_OPEN_COMMANDS)
        data = event.data or ""
        return not data.startswith((ConsentCB.__prefix__ + ":", DataCB.__prefix__ + ":"))


def _ask_again() -> str:
    return _("We have updated how we handle your data. Please read it and agree to continue.")


async def on_outdated_message(message: Message) -> None:
    await message.answer(_ask_again())
    await message.answer(privacy_notice(), reply_markup=consent_keyboard())


async def on_outdated_callback(_callback: CallbackQuery, screen: Screen) -> None:
    screen.notify(_ask_again(), alert=True)
    await screen.show(privacy_notice(), consent_keyboard())


async def on_answer(
    _callback: CallbackQuery,
    callback_data: ConsentCB,
    identity: Identity,
    data_rights: DataRightsService,
    state: FSMContext,
    screen: Screen,
) -> None:
    if not callback_data.accept:
        await screen.show(
            _(
                "Without your consent you cannot use the bot. /mydata still shows your data "
                "and lets you ask for it to be deleted."
            )
        )
        return
    await data_rights.record_consent(identity, CONSENT_VERSION)
    await state.set_state(None)
    if identity.member:
        await screen.show(_("Thank you. Your consent has been recorded."))
        await screen.show(*menu_view(identity))


def create_router() -> Router:
    router = Router(name="consent")
    router.message.register(on_outdated_message, NeedsConsent())
    router.callback_query.register(on_answer, ConsentCB.filter(), _Registered())
    router.callback_query.register(on_outdated_callback, NeedsConsent())
    return router


class _Registered(Filter):
    async def __call__(self, event: Any, identity: Identity | None) -> bool:  # noqa: ARG002 (aiogram)
        return identity is not None and identity.member is not None
