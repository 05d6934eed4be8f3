"""Improvement actions in chat: an officer opens one from a proposal card, a survey question
or a digest theme and fills it in step by step; /actions lists them; the card moves an action
along, records its effect with the measured evidence, and closes it (members are told)."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from common.errors import PermissionDenied
from handlers.callbacks import ImprovementAction, ImprovementCB
from handlers.common import CallbackHandler, ask_for_text, register_actions
from handlers.filters import WithoutText
from handlers.improvements.opening import on_new, on_step, show_action
from handlers.improvements.states import ORDER, Steps
from handlers.improvements.views import cb, evidence_lines, step_prompt
from handlers.screen import Screen
from improvements.model import STATUS_LABELS
from improvements.service import ImprovementService
from members.dto import Identity
from members.roles import Role


# -- working on it ------------------------------------------------------------------------------
async def on_list(
    _event: Message | CallbackQuery,
    identity: Identity,
    screen: Screen,
    improvements: ImprovementService,
) -> None:
    """/actions and the list button alike."""
    actions = await improvements.unfinished(identity)
    today = improvements.today()
    if not actions:
        await screen.show(_("No improvement action is open."))
        return
    builder = InlineKeyboardBuilder()
    for action in actions[:50]:
        mark = "⚠️" if action.due_on and action.due_on < today else "🛠"
        builder.button(
            text=f"{mark} #{action.id} {action.title[:40]}",
            callback_data=cb(ImprovementAction.VIEW, action.id),
        )
    builder.adjust(1)
    await screen.show(
        _("Open improvement actions: {count}").format(count=len(actions)),
        reply_markup=builder.as_markup(),
    )


async def on_view(
    _callback: CallbackQuery,
    callback_data: ImprovementCB,
    identity: Identity,
    screen: Screen,
    improvements: ImprovementService,
) -> None:
    action = await improvements.visible(identity, callback_data.action_id)
    await show_action(screen, action, identity)


async def on_move(
    _callback: CallbackQuery,
    callback_data: ImprovementCB,
    identity: Identity,
    screen: Screen,
    improvements: ImprovementService,
) -> None:
    if callback_data.action is ImprovementAction.START:
        action = await improvements.start(identity, callback_data.action_id)
    else:
        action = await improvements.to_checking(identity, callback_data.action_id)
    screen.notify(_("Status: {status}").format(status=_(STATUS_LABELS[action.status])))
    await show_action(screen, action, identity)


async def on_effect_button(
    _callback: CallbackQuery,
    callback_data: ImprovementCB,
    identity: Identity,
    state: FSMContext,
    screen: Screen,
    improvements: ImprovementService,
) -> None:
    await improvements.visible(identity, callback_data.action_id)
    evidence = await improvements.measure(callback_data.action_id)
    await state.set_state(Steps.effect)
    await state.update_data({"action_id": callback_data.action_id})
    lines = evidence_lines(evidence) or [_("No linked survey question to measure.")]
    await screen.show("\n".join([*lines, "", step_prompt(Steps.effect)]))


async def on_effect(
    message: Message,
    identity: Identity,
    state: FSMContext,
    screen: Screen,
    improvements: ImprovementService,
) -> None:
    action_id = int(await state.get_value("action_id") or 0)
    action = await improvements.record_effect(identity, action_id, message.text or "")
    await state.clear()
    await show_action(screen, action, identity)


async def on_close(
    _callback: CallbackQuery,
    callback_data: ImprovementCB,
    identity: Identity,
    screen: Screen,
    improvements: ImprovementService,
) -> None:
    action, told = await improvements.close(identity, callback_data.action_id)
    screen.notify(
        _("Closed. {count} member(s) will be told what changed.").format(count=told), alert=True
    )
    await show_action(screen, action, identity)


async def on_drop_button(
    _callback: CallbackQuery,
    callback_data: ImprovementCB,
    identity: Identity,
    state: FSMContext,
    screen: Screen,
) -> None:
    if not identity.has(Role.OFFICER):
        raise PermissionDenied()
    await state.set_state(Steps.reason)
    await state.update_data({"action_id": callback_data.action_id})
    await screen.show(step_prompt(Steps.reason))


async def on_reason(
    message: Message,
    identity: Identity,
    state: FSMContext,
    screen: Screen,
    improvements: ImprovementService,
) -> None:
    action_id = int(await state.get_value("action_id") or 0)
    action = await improvements.drop(identity, action_id, message.text or "")
    await state.clear()
    await show_action(screen, action, identity)


def create_router() -> Router:
    router = Router(name="improvements")
    router.message.register(on_list, Command("actions"))
    router.callback_query.register(
        on_list, ImprovementCB.filter(F.action == ImprovementAction.LIST)
    )
    actions: dict[ImprovementAction, CallbackHandler] = {
        ImprovementAction.NEW: on_new,
        ImprovementAction.VIEW: on_view,
        ImprovementAction.START: on_move,
        ImprovementAction.CHECK: on_move,
        ImprovementAction.EFFECT: on_effect_button,
        ImprovementAction.CLOSE: on_close,
        ImprovementAction.DROP: on_drop_button,
    }
    register_actions(router, ImprovementCB, actions)
    for step in [*ORDER, Steps.effect, Steps.reason]:
        router.message.register(ask_for_text, step, WithoutText())
    for step in ORDER:
        router.message.register(on_step, step)
    router.message.register(on_effect, Steps.effect)
    router.message.register(on_reason, Steps.reason)
    return router
