"""Proposals in chat: filing, the card, co-signing, rating, replying. The board, one's own
list, the timeline and files are in handlers/proposals/browse.py; the notices' looks in
handlers/proposals/notices.py."""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from handlers.callbacks import (
    MenuAction,
    MenuCB,
    ProposalAction,
    ProposalCB,
)
from handlers.common import CallbackHandler, ask_for_text, attachment_of, register_actions
from handlers.filters import WithoutText
from handlers.proposals.cards import show_card
from handlers.proposals.states import Commenting, Filing, Replying
from handlers.proposals.views import categories_view, finish_keyboard, menu_view, preview_view
from handlers.screen import Screen
from members.dto import Identity
from proposals.model import Kind, Rating, Status
from proposals.service import ProposalService


async def on_menu(
    _callback: CallbackQuery, identity: Identity, proposals: ProposalService, screen: Screen
) -> None:
    await screen.show(*menu_view(proposals.may_file(identity, Kind.PROPOSAL)))


async def on_new(
    _callback: CallbackQuery,
    callback_data: ProposalCB,
    proposals: ProposalService,
    screen: Screen,
) -> None:
    await screen.show(*categories_view(callback_data.value, proposals.settings.categories))


async def on_category(
    _callback: CallbackQuery,
    callback_data: ProposalCB,
    identity: Identity,
    proposals: ProposalService,
    state: FSMContext,
    screen: Screen,
) -> None:
    kind_value, _sep, index = callback_data.value.partition("-")
    categories = proposals.settings.categories
    if (
        kind_value not in {k.value for k in Kind}
        or not index.isdigit()
        or int(index) >= len(categories)
    ):
        screen.notify(_("This button is no longer valid."), alert=True)
        return
    proposal_id = await proposals.start(identity, Kind(kind_value), categories[int(index)])
    await state.set_state(Filing.title)
    await state.update_data({"proposal_id": proposal_id})
    await screen.show(_("Please send the title (at most 100 characters)."))


async def on_title(
    message: Message, identity: Identity, proposals: ProposalService, state: FSMContext
) -> None:
    proposal_id = int(await state.get_value("proposal_id") or 0)
    await proposals.set_title(identity, proposal_id, message.text or "")
    await state.set_state(Filing.body)
    await message.answer(
        _(
            "Now send the text. You may send several messages, photos and "
            "documents. When you are done, tap the button."
        ),
        reply_markup=finish_keyboard(proposal_id),
    )


async def on_body(
    message: Message, identity: Identity, proposals: ProposalService, state: FSMContext
) -> None:
    proposal_id = int(await state.get_value("proposal_id") or 0)
    attachment = attachment_of(message)
    if attachment is not None:
        await proposals.attach(identity, proposal_id, *attachment)
        if message.caption:
            await proposals.add_text(identity, proposal_id, message.caption)
        await message.answer(_("Attached."), reply_markup=finish_keyboard(proposal_id))
        return
    if message.text is None:
        await message.answer(_("Please send text, a photo or a document."))
        return
    length = await proposals.add_text(identity, proposal_id, message.text)
    await message.answer(
        _("Received ({length} characters so far).").format(length=length),
        reply_markup=finish_keyboard(proposal_id),
    )


async def on_finish(
    _callback: CallbackQuery,
    callback_data: ProposalCB,
    identity: Identity,
    proposals: ProposalService,
    screen: Screen,
) -> None:
    proposal = await proposals.visible(identity, callback_data.proposal_id)
    attachments = len(await proposals.attachments(identity, proposal.id))
    await screen.show(*preview_view(proposal, attachments, proposals.settings.min_cosigners))


async def on_submit(
    _callback: CallbackQuery,
    callback_data: ProposalCB,
    identity: Identity,
    proposals: ProposalService,
    state: FSMContext,
    bot: Bot,
    screen: Screen,
) -> None:
    proposal = await proposals.submit(identity, callback_data.proposal_id)
    await state.clear()
    if proposal.status is Status.COLLECTING:
        me = await bot.me()
        await screen.show(
            _(
                "Submitted. It needs {count} co-signers before review. Share this link with "
                "colleagues: https://t.me/{bot}?start=p{id}"
            ).format(count=proposals.settings.min_cosigners, bot=me.username, id=proposal.id)
        )
    else:
        await screen.show(_("Submitted. The union officers will review it."))


async def on_view(
    _callback: CallbackQuery,
    callback_data: ProposalCB,
    identity: Identity,
    proposals: ProposalService,
    screen: Screen,
) -> None:
    await show_card(screen, proposals, identity, callback_data.proposal_id)


async def on_cosign(
    _callback: CallbackQuery,
    callback_data: ProposalCB,
    identity: Identity,
    proposals: ProposalService,
    screen: Screen,
) -> None:
    await proposals.cosign(identity, callback_data.proposal_id)
    screen.notify(_("Thank you for co-signing."))
    await show_card(screen, proposals, identity, callback_data.proposal_id, edit=True)


async def on_rate(
    _callback: CallbackQuery,
    callback_data: ProposalCB,
    identity: Identity,
    proposals: ProposalService,
    state: FSMContext,
    screen: Screen,
) -> None:
    if callback_data.value not in {r.value for r in Rating}:
        screen.notify(_("This button is no longer valid."), alert=True)
        return
    await proposals.rate(identity, callback_data.proposal_id, Rating(callback_data.value))
    screen.notify(_("Thank you for your rating."))
    await state.set_state(Commenting.text)
    await state.update_data({"proposal_id": callback_data.proposal_id})
    await screen.edit_buttons(None)
    await screen.show(_("Would you like to add a comment? Send it now, or send /skip."))


async def on_reply_button(
    _callback: CallbackQuery,
    callback_data: ProposalCB,
    state: FSMContext,
    screen: Screen,
) -> None:
    await state.set_state(Replying.text)
    await state.update_data({"proposal_id": callback_data.proposal_id})
    await screen.show(_("Please send your reply."))


async def on_reply_text(
    message: Message, identity: Identity, proposals: ProposalService, state: FSMContext
) -> None:
    proposal_id = int(await state.get_value("proposal_id") or 0)
    await proposals.clarify(identity, proposal_id, message.text or "")
    await state.clear()
    await message.answer(_("Your reply was passed on to the handling department."))


async def on_comment(
    message: Message, identity: Identity, proposals: ProposalService, state: FSMContext
) -> None:
    proposal_id = int(await state.get_value("proposal_id") or 0)
    await state.clear()
    if (message.text or "").strip() == "/skip":
        await message.answer(_("All right, no comment."))
        return
    await proposals.comment_rating(identity, proposal_id, message.text or "")
    await message.answer(_("Thank you, your comment was recorded."))


def create_router() -> Router:
    router = Router(name="proposals")
    router.callback_query.register(on_menu, MenuCB.filter(F.action == MenuAction.PROPOSALS))
    actions: dict[ProposalAction, CallbackHandler] = {
        ProposalAction.NEW: on_new,
        ProposalAction.CATEGORY: on_category,
        ProposalAction.FINISH: on_finish,
        ProposalAction.SUBMIT: on_submit,
        ProposalAction.VIEW: on_view,
        ProposalAction.COSIGN: on_cosign,
        ProposalAction.RATE: on_rate,
        ProposalAction.REPLY: on_reply_button,
    }
    register_actions(router, ProposalCB, actions)
    router.message.register(ask_for_text, Filing.title, WithoutText())
    router.message.register(on_title, Filing.title)
    router.message.register(on_body, Filing.body)
    router.message.register(ask_for_text, Commenting.text, WithoutText())
    router.message.register(on_comment, Commenting.text)
    router.message.register(ask_for_text, Replying.text, WithoutText())
    router.message.register(on_reply_text, Replying.text)
    return router
