"""Officers review and assign proposals; the assigned department's handlers answer them.
Every step asks for its text (a reason, a department, an answer) in the next message."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from bot.callbacks import MenuAction, MenuCB, ProposalAction, ProposalCB
from bot.filters import WithoutText, private_chat
from bot.middlewares import RequireRegistration
from handlers.common import ask_for_text, attachment_of, register_actions
from handlers.proposal_browse import listing
from handlers.proposals import show_card
from members.dto import Identity
from proposals.model import Status
from proposals.service import ProposalService


class Work(StatesGroup):
    merge_target = State()
    reason = State()
    department = State()
    answer = State()
    question = State()


def _prompt(step: State) -> str:
    texts = {
        Work.merge_target: _("Send the number of the proposal to merge this one into."),
        Work.reason: _("Send the reason; the proposer will see it."),
        Work.department: _("Send the name of the handling department."),
        Work.answer: _("Send the official answer (you may attach documents first)."),
        Work.question: _("Send your question for the proposer."),
    }
    return texts[step]


async def _ask(callback: CallbackQuery, state: FSMContext, step: State, **data: object) -> None:
    await callback.answer()
    await state.set_state(step)
    await state.update_data(data)
    if isinstance(callback.message, Message):
        await callback.message.answer(_prompt(step))


async def on_queue(callback: CallbackQuery, identity: Identity, proposals: ProposalService) -> None:
    waiting = await proposals.queue(identity)
    await callback.answer()
    if isinstance(callback.message, Message):
        text, markup = listing(waiting, len(waiting), None)
        await callback.message.answer(text, reply_markup=markup)


async def on_decide(callback: CallbackQuery, callback_data: ProposalCB, state: FSMContext) -> None:
    if callback_data.value not in {
        s.value for s in (Status.ACCEPTED, Status.CONVERTED, Status.MERGED, Status.DECLINED)
    }:
        await callback.answer(_("This button is no longer valid."), show_alert=True)
        return
    step = Work.merge_target if callback_data.value == Status.MERGED else Work.reason
    await _ask(
        callback, state, step, proposal_id=callback_data.proposal_id, decision=callback_data.value
    )


async def on_merge_target(message: Message, state: FSMContext) -> None:
    target = (message.text or "").strip().lstrip("#")
    if not target.isdigit():
        await message.answer(_prompt(Work.merge_target))
        return
    await state.update_data({"merge_into": int(target)})
    await state.set_state(Work.reason)
    await message.answer(_prompt(Work.reason))


async def on_reason(
    message: Message, identity: Identity, proposals: ProposalService, state: FSMContext
) -> None:
    data = await state.get_data()
    proposal = await proposals.decide(
        identity,
        int(data["proposal_id"]),
        Status(data["decision"]),
        message.text or "",
        merge_into=data.get("merge_into"),
    )
    await state.clear()
    await show_card(message, proposals, identity, proposal.id)


async def on_assign(callback: CallbackQuery, callback_data: ProposalCB, state: FSMContext) -> None:
    await _ask(callback, state, Work.department, proposal_id=callback_data.proposal_id)


async def on_department(
    message: Message, identity: Identity, proposals: ProposalService, state: FSMContext
) -> None:
    proposal_id = int(await state.get_value("proposal_id") or 0)
    await proposals.assign(identity, proposal_id, message.text or "")
    await state.clear()
    await show_card(message, proposals, identity, proposal_id)


async def on_answer_button(
    callback: CallbackQuery, callback_data: ProposalCB, state: FSMContext
) -> None:
    await _ask(callback, state, Work.answer, proposal_id=callback_data.proposal_id)


async def on_answer(
    message: Message, identity: Identity, proposals: ProposalService, state: FSMContext
) -> None:
    proposal_id = int(await state.get_value("proposal_id") or 0)
    attachment = attachment_of(message)
    if attachment is not None:
        await proposals.attach(identity, proposal_id, *attachment)
        await message.answer(_("Attached. Now send the text of the answer."))
        return
    if message.text is None:
        await message.answer(_("Please send text, a photo or a document."))
        return
    await proposals.answer(identity, proposal_id, message.text)
    await state.clear()
    await message.answer(_("Answer sent to the proposer."))


async def on_ask_button(
    callback: CallbackQuery, callback_data: ProposalCB, state: FSMContext
) -> None:
    await _ask(callback, state, Work.question, proposal_id=callback_data.proposal_id)


async def on_question(
    message: Message, identity: Identity, proposals: ProposalService, state: FSMContext
) -> None:
    proposal_id = int(await state.get_value("proposal_id") or 0)
    await proposals.ask_clarification(identity, proposal_id, message.text or "")
    await state.clear()
    await message.answer(_("Your question was passed on to the proposer."))


def create_router() -> Router:
    router = Router(name="proposal_work")
    for observer in (router.message, router.callback_query):
        observer.filter(private_chat())
        observer.middleware(RequireRegistration())  # the service checks roles on every step
    router.callback_query.register(on_queue, MenuCB.filter(F.action == MenuAction.PROPOSAL_QUEUE))
    register_actions(
        router,
        ProposalCB,
        {
            ProposalAction.DECIDE: on_decide,
            ProposalAction.ASSIGN: on_assign,
            ProposalAction.ANSWER: on_answer_button,
            ProposalAction.ASK: on_ask_button,
        },
    )
    for step, handler in (
        (Work.merge_target, on_merge_target),
        (Work.reason, on_reason),
        (Work.department, on_department),
        (Work.question, on_question),
    ):
        router.message.register(ask_for_text, step, WithoutText())
        router.message.register(handler, step)
    router.message.register(on_answer, Work.answer)
    return router
