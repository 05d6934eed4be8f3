"""Officers review and assign proposals; the assigned department's handlers answer them.
Texts (a reason, an answer) come in the next message; the department and the due date are
chosen from buttons (typed ones are checked against the same lists)."""

from __future__ import annotations

import hashlib
import re
from datetime import date, timedelta

from aiogram import F, Router
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder
from aiogram.utils.text_decorations import html_decoration as html

from bot.callbacks import MenuAction, MenuCB, ProposalAction, ProposalCB
from bot.filters import WithoutText
from handlers.common import ask_for_text, attachment_of, register_actions
from handlers.proposal_browse import listing
from handlers.proposals import show_card
from handlers.screen import Screen
from members.dto import Identity
from proposals.model import Status
from proposals.service import Department, ProposalMoved, ProposalService

DUE_OFFSETS = (7, 14, 30)  # days from today, besides the configured default
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


class Work(StatesGroup):
    merge_target = State()
    reason = State()
    department = State()
    due_date = State()
    answer = State()
    question = State()


def _prompt(step: State) -> str:
    texts = {
        Work.merge_target: _("Send the number of the proposal to merge this one into."),
        Work.reason: _("Send the reason; the proposer will see it."),
        Work.department: _("Send the name of the handling department."),
        Work.due_date: _(
            "Send the due date as YYYY-MM-DD (for example 2026-12-31), or tap one of the buttons."
        ),
        Work.answer: _("Send the official answer (you may attach documents first)."),
        Work.question: _("Send your question for the proposer."),
    }
    return texts[step]


async def _ask(screen: Screen, state: FSMContext, step: State, **data: object) -> None:
    await state.set_state(step)
    await state.update_data(data)
    await screen.show(_prompt(step))


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
    await _ask(
        screen, state, step, proposal_id=callback_data.proposal_id, decision=callback_data.value
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


# -- assigning: department, then due date ---------------------------------------------------------
def department_token(name: str) -> str:
    """A department in callback data: names can pass 64 bytes, a short hash cannot."""
    return hashlib.sha256(name.encode()).hexdigest()[:10]


def _department_keyboard(proposal_id: int, departments: list[Department]) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for department in departments:
        mark = "✅ " if department.handlers else ""
        builder.button(
            text=f"{mark}{department.name}",
            callback_data=ProposalCB(
                action=ProposalAction.DEPARTMENT,
                proposal_id=proposal_id,
                value=department_token(department.name),
            ),
        )
    builder.adjust(2)
    return builder.as_markup()


def _department_text(proposal_id: int) -> str:
    return _(
        "Choose the handling department for proposal #{id}. ✅ marks departments with "
        "handlers in the bot, who are told at once. You may also send the name."
    ).format(id=proposal_id)


async def on_assign(
    _callback: CallbackQuery,
    callback_data: ProposalCB,
    identity: Identity,
    proposals: ProposalService,
    state: FSMContext,
    screen: Screen,
) -> None:
    proposal = await proposals.assignable(identity, callback_data.proposal_id)
    departments = await proposals.departments()
    if not departments:  # an empty roster: nothing to choose from, the name is typed
        await _ask(screen, state, Work.department, proposal_id=proposal.id)
        return
    await state.set_state(Work.department)
    await state.update_data({"proposal_id": proposal.id})
    await screen.show(
        _department_text(proposal.id),
        reply_markup=_department_keyboard(proposal.id, departments),
    )


async def _find_department(proposals: ProposalService, token: str) -> Department | None:
    return next(
        (d for d in await proposals.departments() if department_token(d.name) == token), None
    )


def unhandled_department_view(
    proposal_id: int, department: str
) -> tuple[str, InlineKeyboardMarkup]:
    """A department nobody handles in the bot: assign anyway, or choose another?"""
    builder = InlineKeyboardBuilder()
    builder.button(
        text=_("✅ Assign anyway"),
        callback_data=ProposalCB(
            action=ProposalAction.DEPARTMENT,
            proposal_id=proposal_id,
            value=department_token(department) + "!",
        ),
    )
    builder.button(
        text=_("↩️ Choose another"),
        callback_data=ProposalCB(action=ProposalAction.ASSIGN, proposal_id=proposal_id),
    )
    return _(
        "{department} has no handlers in the bot yet: nobody there would be told. "
        "If you assign it there, the union officers are told instead and must follow "
        "it up. Assign anyway?"
    ).format(department=html.quote(department)), builder.as_markup()


def due_date_view(
    proposal_id: int, department: str, today: date, default_days: int
) -> tuple[str, InlineKeyboardMarkup]:
    """The due date of the answer: the default first, then the other offsets."""
    token = department_token(department)
    builder = InlineKeyboardBuilder()
    for days in (default_days, *(d for d in DUE_OFFSETS if d != default_days)):
        due = (today + timedelta(days=days)).isoformat()
        text = _("{date} (default)").format(date=due) if days == default_days else f"+{days}: {due}"
        builder.button(
            text=text,
            callback_data=ProposalCB(
                action=ProposalAction.DUE, proposal_id=proposal_id, value=f"{days}-{token}"
            ),
        )
    builder.adjust(1, 3)
    return _("Proposal #{id} → {department}. By when is the answer due?").format(
        id=proposal_id, department=html.quote(department)
    ) + "\n" + _prompt(Work.due_date), builder.as_markup()


async def _chosen(
    screen: Screen,
    proposals: ProposalService,
    state: FSMContext,
    proposal_id: int,
    department: Department,
    confirmed: bool,
) -> None:
    """A department is chosen: without handlers, ask first; then ask for the due date."""
    if not department.handlers and not confirmed:
        await screen.show(*unhandled_department_view(proposal_id, department.name))
        return
    await state.set_state(Work.due_date)
    await state.update_data({"proposal_id": proposal_id, "department": department.name})
    await screen.show(
        *due_date_view(
            proposal_id, department.name, proposals.today(), proposals.settings.answer_days
        )
    )


async def on_department_button(
    _callback: CallbackQuery,
    callback_data: ProposalCB,
    identity: Identity,
    proposals: ProposalService,
    state: FSMContext,
    screen: Screen,
) -> None:
    proposal = await proposals.assignable(identity, callback_data.proposal_id)
    department = await _find_department(proposals, callback_data.value.rstrip("!"))
    if department is None:  # the roster changed since the button was made
        screen.notify(_("This button is no longer valid."), alert=True)
        return
    confirmed = callback_data.value.endswith("!")
    await _chosen(screen, proposals, state, proposal.id, department, confirmed)


async def on_department(
    message: Message,
    identity: Identity,
    proposals: ProposalService,
    state: FSMContext,
    screen: Screen,
) -> None:
    """A typed name counts only if it is exactly a department of the roster."""
    proposal = await proposals.assignable(identity, int(await state.get_value("proposal_id") or 0))
    departments = await proposals.departments()
    name = (message.text or "").strip()
    department = next((d for d in departments if d.name == name), None)
    if department is None and departments:
        await message.answer(
            _("There is no department of that name: choose one from the list."),
            reply_markup=_department_keyboard(proposal.id, departments),
        )
        return
    if department is None:  # an empty roster: the name as typed
        await proposals.assign(identity, proposal.id, name)
        await state.clear()
        await show_card(screen, proposals, identity, proposal.id)
        return
    await _chosen(screen, proposals, state, proposal.id, department, confirmed=False)


async def _assign(
    screen: Screen,
    identity: Identity,
    proposals: ProposalService,
    state: FSMContext,
    proposal_id: int,
    department: str,
    due: date,
) -> None:
    try:
        await proposals.assign(identity, proposal_id, department, due)
    except ProposalMoved:
        await state.clear()  # nothing left to choose for this proposal
        raise
    await state.clear()
    await show_card(screen, proposals, identity, proposal_id)


async def on_due_button(
    _callback: CallbackQuery,
    callback_data: ProposalCB,
    identity: Identity,
    proposals: ProposalService,
    state: FSMContext,
    screen: Screen,
) -> None:
    proposal = await proposals.assignable(identity, callback_data.proposal_id)
    days, _sep, token = callback_data.value.partition("-")
    department = await _find_department(proposals, token)
    if department is None or not days.isdigit() or int(days) > 366:
        screen.notify(_("This button is no longer valid."), alert=True)
        return
    due = proposals.today() + timedelta(days=int(days))
    await _assign(screen, identity, proposals, state, proposal.id, department.name, due)


async def on_due_date(
    message: Message,
    identity: Identity,
    proposals: ProposalService,
    state: FSMContext,
    screen: Screen,
) -> None:
    """A typed due date: the format, a real day, not in the past (the service checks that
    and that the proposal can still be assigned). Nothing changes on a bad one."""
    data = await state.get_data()
    text = (message.text or "").strip()
    if not ISO_DATE.fullmatch(text):
        await message.answer(_prompt(Work.due_date))
        return
    try:
        due = date.fromisoformat(text)
    except ValueError:
        await message.answer(
            _("There is no such day as {date}. {prompt}").format(
                date=html.quote(text), prompt=_prompt(Work.due_date)
            )
        )
        return
    await _assign(
        screen,
        identity,
        proposals,
        state,
        int(data.get("proposal_id") or 0),
        str(data.get("department") or ""),
        due,
    )


async def on_answer_button(
    _callback: CallbackQuery, callback_data: ProposalCB, state: FSMContext, screen: Screen
) -> None:
    await _ask(screen, state, Work.answer, proposal_id=callback_data.proposal_id)


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
    await _ask(screen, state, Work.question, proposal_id=callback_data.proposal_id)


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
