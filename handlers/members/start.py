"""Registration in a private chat: privacy notice → consent → employee id → name → roster."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import CommandObject, CommandStart
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from aiogram.utils.text_decorations import html_decoration as html

from handlers.callbacks import ConsentCB
from handlers.common import ask_for_text
from handlers.filters import WithoutText
from handlers.members.states import Registration
from handlers.members.views import consent_keyboard, privacy_notice
from handlers.proposals.cards import show_card
from handlers.screen import Screen
from handlers.ui import menu_view
from members.dto import Identity
from members.service import (
    INVITE_PREFIX,
    MembershipService,
    RegistrationResult,
    validate_employee_id,
)
from proposals.service import ProposalService

INVITE_KEY = "invite"

PROPOSAL_LINK = "p"  # t.me/<bot>?start=p<id> opens a proposal to co-sign


async def on_start(
    message: Message,
    command: CommandObject,
    identity: Identity,
    membership: MembershipService,
    state: FSMContext,
    proposals: ProposalService,
    screen: Screen,
) -> None:
    if identity.is_registered:
        await state.set_state(None)
        args = command.args or ""
        if args.startswith(PROPOSAL_LINK) and args[len(PROPOSAL_LINK) :].isdigit():
            # A co-signing link a proposer shared.
            await show_card(screen, proposals, identity, int(args[len(PROPOSAL_LINK) :]))
            return
        if args:
            await message.answer(_("You are already registered."))
        await screen.show(*menu_view(identity))
        return
    if await membership.has_pending_request(identity.telegram_id):
        await message.answer(_("Your registration request is waiting for an officer's decision."))
        return
    args = command.args or ""
    invite = args[len(INVITE_PREFIX) :] if args.startswith(INVITE_PREFIX) else None
    await state.set_state(Registration.consent)
    await state.update_data({INVITE_KEY: invite})
    await message.answer(privacy_notice(), reply_markup=consent_keyboard())


async def on_consent(
    _callback: CallbackQuery,
    callback_data: ConsentCB,
    state: FSMContext,
    membership: MembershipService,
    identity: Identity,
    i18n: I18n,
    screen: Screen,
) -> None:
    await screen.edit_buttons(None)
    if not callback_data.accept:
        await state.clear()
        await screen.show(
            _(
                "Without your consent we cannot register you. Send /start whenever you change "
                "your mind."
            )
        )
        return
    invite = await state.get_value(INVITE_KEY)
    if invite:
        result = await membership.redeem_invite(
            identity.telegram_id, str(invite), locale=i18n.current_locale
        )
        await _finish(screen, result, state)
        return
    await state.set_state(Registration.employee_id)
    await screen.show(_("Please send your employee id (工号)."))


async def on_consent_text(message: Message) -> None:
    await message.answer(
        _("Please answer with the buttons above: do you agree?"), reply_markup=consent_keyboard()
    )


async def on_employee_id(message: Message, state: FSMContext) -> None:
    employee_id = validate_employee_id(message.text or "")
    await state.update_data({"employee_id": employee_id})
    await state.set_state(Registration.name)
    await message.answer(_("Thank you. Now please send your full name as on the roster."))


async def on_name(
    message: Message,
    state: FSMContext,
    membership: MembershipService,
    identity: Identity,
    i18n: I18n,
    screen: Screen,
) -> None:
    employee_id = await state.get_value("employee_id")
    if not employee_id:  # state lost its data (should not happen): start over cleanly
        await state.set_state(Registration.employee_id)
        await message.answer(_("Please send your employee id (工号)."))
        return
    result = await membership.register(
        identity.telegram_id, str(employee_id), message.text or "", locale=i18n.current_locale
    )
    await _finish(screen, result, state)


async def _finish(screen: Screen, result: RegistrationResult, state: FSMContext) -> None:
    await state.clear()
    if result.member is not None:
        identity = Identity(result.member.telegram_id or 0, result.member, result.member.roles)
        if result.status == "registered":
            await screen.show(
                _("Welcome, {name}! You are registered as a member of {department}.").format(
                    name=html.quote(result.member.name),
                    department=html.quote(result.member.department or "—"),
                )
            )
        await screen.show(*menu_view(identity))
        return
    if result.status == "throttled":
        await screen.show(
            _(
                "Too many registration attempts from this account. Please try again in "
                "{minutes} minutes."
            ).format(minutes=result.retry_minutes)
        )
        return
    if result.status == "already_pending":
        await screen.show(_("Your registration request is waiting for an officer's decision."))
        return
    await screen.show(
        _(
            "We could not find you on the union roster. Your request has been sent to the union "
            "officers; you will get a message here when they decide."
        )
    )


def create_router() -> Router:
    router = Router(name="start")
    router.message.register(on_start, CommandStart())
    router.callback_query.register(on_consent, ConsentCB.filter(), Registration.consent)
    router.message.register(on_consent_text, Registration.consent)
    router.message.register(ask_for_text, Registration.employee_id, WithoutText())
    router.message.register(ask_for_text, Registration.name, WithoutText())
    router.message.register(on_employee_id, Registration.employee_id)
    router.message.register(on_name, Registration.name)
    return router
