"""Officers review and assign proposals; the assigned department's handlers answer them.
Texts (a reason, an answer) come in the next message; the department and the due date are
chosen from buttons (typed ones are checked against the same lists)."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from handlers.callbacks import MenuAction, MenuCB, ProposalAction, ProposalCB
from handlers.common import ask_for_text, attachment_of, register_actions
from handlers.filters import WithoutText
from handlers.proposals.assigning import (
    ask_step,
    on_assign,
    on_department,
    on_department_button,
    on_due_button,
    on_due_date,
)
from handlers.proposals.cards import show_card
from handlers.proposals.states import Work
from handlers.proposals.views import listing
from handlers.proposals.work_views import work_prompt
from handlers.screen import Screen
from members.dto import Identity
from proposals.model import Status
from proposals.service import ProposalService


async def on_queue(
    _callback: CallbackQuery, identity: Identity, proposals: ProposalService, screen: Screen
) -> None:
    waiting = await proposals.queue(identity)
    text, markup = listing(waiting, len(waiting), None)
    await screen.show(text, reply_markup=markup)


async def on_decide(
    _callback: CallbackQuery, callback_data: ProposalCB, state: FSMContext, screen: Screen
) -> None:
    if callback_data.value not in {
        s.value for s in (Status.ACCEPTED, Status.CONVERTED, Status.MERGED, Status.DECLINED)
    }:
        screen.notify(_("This button is no longer valid."), alert=True)
        return
    step = Work.merge_target if callback_data.value == Status.MERGED else Work.reason
    await ask_step(
        screen, state, step, proposal_id=callback_data.proposal_id, decision=callback_data.value
    )


async def on_merge_target(message: Message, state: FSMContext) -> None:
    target = (message.text or "").strip().lstrip("#")
    if not target.isdigit():
        await message.answer(work_prompt(Work.merge_target))
        return
    await state.update_data({"merge_into": int(target)})
    await state.set_state(Work.reason)
    await message.answer(work_prompt(Work.reason))


async def on_reason(
    message: Message,
    identity: Identity,
    proposals: ProposalService,
    state: FSMContext,
    screen: Screen,
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
    await show_card(screen, proposals, identity, proposal.id)


async def on_answer_button(
    _callback: CallbackQuery, callback_data: ProposalCB, state: FSMContext, screen: Screen
) -> None:
    await ask_step(screen, state, Work.answer, proposal_id=callback_data.proposal_id)


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
    _callback: CallbackQuery, callback_data: ProposalCB, state: FSMContext, screen: Screen
) -> None:
    await ask_step(screen, state, Work.question, proposal_id=callback_data.proposal_id)


async def on_question(
    message: Message, identity: Identity, proposals: ProposalService, state: FSMContext
) -> None:
    proposal_id = int(await state.get_value("proposal_id") or 0)
    await proposals.ask_clarification(identity, proposal_id, message.text or "")
    await state.clear()
    await message.answer(_("Your question was passed on to the proposer."))


def create_router() -> Router:
    router = Router(name="proposal_work")
    router.callback_query.register(on_queue, MenuCB.filter(F.action == MenuAction.PROPOSAL_QUEUE))
    register_actions(
        router,
        ProposalCB,
        {
            ProposalAction.DECIDE: on_decide,
            ProposalAction.ASSIGN: on_assign,
            ProposalAction.DEPARTMENT: on_department_button,
            ProposalAction.DUE: on_due_button,
            ProposalAction.ANSWER: on_answer_button,
            ProposalAction.ASK: on_ask_button,
        },
    )
    for step, handler in (
        (Work.merge_target, on_merge_target),
        (Work.reason, on_reason),
        (Work.department, on_department),
        (Work.due_date, on_due_date),
        (Work.question, on_question),
    ):
        router.message.register(ask_for_text, step, WithoutText())
        router.message.register(handler, step)
    router.message.register(on_answer, Work.answer)
    return router
