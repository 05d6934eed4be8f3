"""Proposals in chat: filing, the card, co-signing, rating, replying. The board, one's own
list, the timeline and files are in handlers/proposal_browse.py; the notices' looks in
handlers/proposal_notices.py."""

from __future__ import annotations

from collections.abc import Sequence

from aiogram import Bot, F, Router
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder
from aiogram.utils.text_decorations import html_decoration as html

from bot.callbacks import (
    ImprovementAction,
    ImprovementCB,
    MenuAction,
    MenuCB,
    ProposalAction,
    ProposalCB,
)
from bot.filters import WithoutText
from common.text import shorten
from handlers.common import CallbackHandler, ask_for_text, attachment_of, register_actions
from handlers.proposal_notices import status_name
from handlers.screen import Screen
from members.dto import Identity
from members.roles import Role
from proposals.model import (
    ASSIGNABLE,
    COSIGNABLE,
    REVIEWABLE,
    Kind,
    ProposalDTO,
    Rating,
    Status,
)
from proposals.service import ProposalService

# -- screens --------------------------------------------------------------------------------


class Filing(StatesGroup):
    title = State()
    body = State()


class Replying(StatesGroup):
    text = State()


class Commenting(StatesGroup):
    text = State()


def kind_name(kind: Kind) -> str:
    return _("proposal") if kind is Kind.PROPOSAL else _("suggestion")


def proposal_card(proposal: ProposalDTO, cosigners: int, min_cosigners: int) -> str:
    lines = [
        f"<b>#{proposal.id} {html.quote(proposal.title or '…')}</b>",
        _("{kind} · {category} · {status}").format(
            kind=kind_name(proposal.kind),
            category=html.quote(proposal.category),
            status=status_name(proposal.status),
        ),
        _("Co-signers: {count}").format(count=cosigners)
        + (f" / {min_cosigners}" if proposal.status is Status.COLLECTING else ""),
        "",
        html.quote(shorten(proposal.body, 1500)),
    ]
    if proposal.decision_reason:
        lines += ["", _("Decision: {reason}").format(reason=html.quote(proposal.decision_reason))]
    if proposal.department:
        lines.append(
            _("Handled by {department}, due {due_on}.").format(
                department=html.quote(proposal.department), due_on=proposal.due_on
            )
        )
    if proposal.answer:
        lines += [
            "",
            _("Official answer: {answer}").format(
                answer=html.quote(shorten(proposal.answer, 1500))
            ),
        ]
    return "\n".join(lines)


def proposal_cb(action: ProposalAction, proposal_id: int = 0, value: str = "") -> str:
    return ProposalCB(action=action, proposal_id=proposal_id, value=value).pack()


def card_keyboard(
    proposal: ProposalDTO, identity: Identity, attachments: int = 0
) -> InlineKeyboardMarkup:
    """The actions this person may take on this proposal now (the service checks again)."""
    builder = InlineKeyboardBuilder()
    member = identity.member
    own = member is not None and member.id == proposal.proposer_id
    if proposal.status in COSIGNABLE and not own:
        builder.button(
            text=_("✍️ Co-sign"), callback_data=proposal_cb(ProposalAction.COSIGN, proposal.id)
        )
    if identity.has(Role.OFFICER) and proposal.status in REVIEWABLE:
        for decision, text in (
            (Status.ACCEPTED, _("Accept (立案)")),
            (Status.CONVERTED, _("Convert to a suggestion")),
            (Status.MERGED, _("Merge")),
            (Status.DECLINED, _("Decline")),
        ):
            builder.button(
                text=text,
                callback_data=proposal_cb(ProposalAction.DECIDE, proposal.id, decision.value),
            )
    if identity.has(Role.OFFICER) and proposal.status in ASSIGNABLE:
        builder.button(
            text=_("Assign to a department"),
            callback_data=proposal_cb(ProposalAction.ASSIGN, proposal.id),
        )
    handler = (
        identity.has(Role.HANDLER)
        and member is not None
        and (member.department == proposal.department)
    )
    if proposal.status is Status.ASSIGNED and (handler or identity.has(Role.OFFICER)):
        builder.button(
            text=_("Answer"), callback_data=proposal_cb(ProposalAction.ANSWER, proposal.id)
        )
        builder.button(
            text=_("Ask the proposer"), callback_data=proposal_cb(ProposalAction.ASK, proposal.id)
        )
    builder.button(
        text=_("🕓 Timeline"), callback_data=proposal_cb(ProposalAction.TIMELINE, proposal.id)
    )
    if identity.has(Role.OFFICER) and proposal.status is not Status.DRAFT:
        builder.button(
            text=_("🛠 Improvement action"),
            callback_data=ImprovementCB(
                action=ImprovementAction.NEW, kind="p", ref_id=proposal.id
            ).pack(),
        )
    if attachments:
        builder.button(
            text=_("📎 Attachments ({count})").format(count=attachments),
            callback_data=proposal_cb(ProposalAction.FILES, proposal.id),
        )
    builder.adjust(2)
    return builder.as_markup()


async def show_card(
    screen: Screen,
    proposals: ProposalService,
    identity: Identity,
    proposal_id: int,
    *,
    edit: bool = False,
) -> None:
    proposal = await proposals.visible(identity, proposal_id)
    cosigners = len(await proposals.cosigners(proposal_id))
    text = proposal_card(proposal, cosigners, proposals.settings.min_cosigners)
    attachments = await proposals.attachments(identity, proposal_id)
    markup = card_keyboard(proposal, identity, len(attachments))
    if edit:
        await screen.edit(text, reply_markup=markup)
    else:
        await screen.show(text, reply_markup=markup)


def menu_view(may_file_proposals: bool) -> tuple[str, InlineKeyboardMarkup]:
    builder = InlineKeyboardBuilder()
    if may_file_proposals:
        builder.button(
            text=_("📝 File a proposal"),
            callback_data=proposal_cb(ProposalAction.NEW, value=Kind.PROPOSAL.value),
        )
    builder.button(
        text=_("💬 Make a suggestion"),
        callback_data=proposal_cb(ProposalAction.NEW, value=Kind.SUGGESTION.value),
    )
    builder.button(
        text=_("📋 Public board"), callback_data=proposal_cb(ProposalAction.BOARD, value="0")
    )
    builder.button(text=_("🗂 My proposals"), callback_data=proposal_cb(ProposalAction.MINE))
    builder.adjust(1)
    return _("Proposals and suggestions"), builder.as_markup()


def categories_view(kind: str, categories: Sequence[str]) -> tuple[str, InlineKeyboardMarkup]:
    """A button carries the category's position, never its name."""
    builder = InlineKeyboardBuilder()
    for index, category in enumerate(categories):
        builder.button(
            text=category,
            callback_data=proposal_cb(ProposalAction.CATEGORY, value=f"{kind}-{index}"),
        )
    builder.adjust(2)
    return _("Choose a category:"), builder.as_markup()


def preview_view(
    proposal: ProposalDTO, attachments: int, min_cosigners: int
) -> tuple[str, InlineKeyboardMarkup]:
    builder = InlineKeyboardBuilder()
    builder.button(
        text=_("📨 Submit"), callback_data=proposal_cb(ProposalAction.SUBMIT, proposal.id)
    )
    return (
        _("Preview:")
        + "\n\n"
        + proposal_card(proposal, 0, min_cosigners)
        + "\n"
        + _("Attachments: {count}").format(count=attachments)
    ), builder.as_markup()


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


def _finish_keyboard(proposal_id: int) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(
        text=_("✅ Done, show the preview"),
        callback_data=proposal_cb(ProposalAction.FINISH, proposal_id),
    )
    return builder.as_markup()


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
        reply_markup=_finish_keyboard(proposal_id),
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
        await message.answer(_("Attached."), reply_markup=_finish_keyboard(proposal_id))
        return
    if message.text is None:
        await message.answer(_("Please send text, a photo or a document."))
        return
    length = await proposals.add_text(identity, proposal_id, message.text)
    await message.answer(
        _("Received ({length} characters so far).").format(length=length),
        reply_markup=_finish_keyboard(proposal_id),
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
