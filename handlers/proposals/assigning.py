"""Assigning a proposal to a department with a due date (buttons or typed); registered
by the work router."""

from __future__ import annotations

import re
from datetime import date, timedelta

from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.text_decorations import html_decoration as html

from handlers.callbacks import ProposalCB
from handlers.proposals.cards import show_card
from handlers.proposals.states import Work
from handlers.proposals.work_views import (
    department_keyboard,
    department_text,
    department_token,
    due_date_view,
    unhandled_department_view,
    work_prompt,
)
from handlers.screen import Screen
from members.dto import Identity
from proposals.service import Department, ProposalMoved, ProposalService

ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


async def ask_step(screen: Screen, state: FSMContext, step: State, **data: object) -> None:
    await state.set_state(step)
    await state.update_data(data)
    await screen.show(work_prompt(step))


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
        await ask_step(screen, state, Work.department, proposal_id=proposal.id)
        return
    await state.set_state(Work.department)
    await state.update_data({"proposal_id": proposal.id})
    await screen.show(
        department_text(proposal.id),
        reply_markup=department_keyboard(proposal.id, departments),
    )


async def _find_department(proposals: ProposalService, token: str) -> Department | None:
    return next(
        (d for d in await proposals.departments() if department_token(d.name) == token), None
    )


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
            reply_markup=department_keyboard(proposal.id, departments),
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
        await message.answer(work_prompt(Work.due_date))
        return
    try:
        due = date.fromisoformat(text)
    except ValueError:
        await message.answer(
            _("There is no such day as {date}. {prompt}").format(
                date=html.quote(text), prompt=work_prompt(Work.due_date)
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
