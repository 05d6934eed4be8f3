"""Officers' work screens: departments and due dates."""

from __future__ import annotations

import hashlib
from datetime import date, timedelta

from aiogram.fsm.state import State
from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder
from aiogram.utils.text_decorations import html_decoration as html

from handlers.callbacks import ProposalAction, ProposalCB
from handlers.proposals.states import Work
from proposals.service import Department

DUE_OFFSETS = (7, 14, 30)  # days from today, besides the configured default


def work_prompt(step: State) -> str:
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


# -- assigning: department, then due date ---------------------------------------------------------
def department_token(name: str) -> str:
    """A department in callback data: names can pass 64 bytes, a short hash cannot."""
    return hashlib.sha256(name.encode()).hexdigest()[:10]


def department_keyboard(proposal_id: int, departments: list[Department]) -> InlineKeyboardMarkup:
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


def department_text(proposal_id: int) -> str:
    return _(
        "Choose the handling department for proposal #{id}. ✅ marks departments with "
        "handlers in the bot, who are told at once. You may also send the name."
    ).format(id=proposal_id)


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
    ) + "\n" + work_prompt(Work.due_date), builder.as_markup()
