"""An improvement action's card, its evidence and its buttons; the step prompts."""

from __future__ import annotations

import html
from datetime import date
from typing import Any

from aiogram.fsm.state import State
from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from handlers.callbacks import ImprovementAction, ImprovementCB
from handlers.improvements.states import Steps
from improvements.model import STATUS_LABELS, UNFINISHED, ActionDTO, ActionStatus
from members.dto import Identity
from members.roles import Role


def cb(action: ImprovementAction, action_id: int = 0) -> str:
    return ImprovementCB(action=action, action_id=action_id).pack()


def _date(value: date | None) -> str:
    return value.isoformat() if value else "—"


def card_text(action: ActionDTO) -> str:
    e = html.escape
    lines = [
        f"<b>🛠 #{action.id} {e(action.title)}</b>",
        _("Status: {status}").format(status=_(STATUS_LABELS[action.status])),
        _("Problem: {text}").format(text=e(action.problem)),
        _("Cause: {text}").format(text=e(action.cause or "—")),
        _("Measures: {text}").format(text=e(action.measures or "—")),
        _("Owner: {owner} · due {date}").format(
            owner=e(action.owner or "—"), date=_date(action.due_on)
        ),
        _("Expected effect: {text}").format(text=e(action.expected_effect or "—")),
    ]
    if action.effect:
        lines.append(_("Effect: {text}").format(text=e(action.effect)))
    lines += evidence_lines(action.evidence)
    if action.reason:
        lines.append(_("Dropped: {text}").format(text=e(action.reason)))
    if action.links:
        lines.append(
            _("From: {sources}").format(
                sources=", ".join(
                    e(
                        f"{link.kind.value} {link.ref_id}"
                        + (f"/{link.ref_key}" if link.ref_key else "")
                    )
                    for link in action.links
                )
            )
        )
    return "\n".join(lines)


def evidence_lines(evidence: Any) -> list[str]:
    lines = []
    for item in evidence:
        before = "—" if item.before is None else f"{item.before:.2f}"
        if item.after is None:
            lines.append(
                _("Question {question}: {before} before; no later survey yet.").format(
                    question=html.escape(item.question_id), before=before
                )
            )
        else:
            lines.append(
                _("Question {question}: {before} before → {after} after.").format(
                    question=html.escape(item.question_id), before=before, after=f"{item.after:.2f}"
                )
            )
    return lines


def card_keyboard(action: ActionDTO, identity: Identity) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    officer = identity.has(Role.OFFICER)
    if action.status is ActionStatus.OPEN:
        builder.button(
            text=_("▶️ Start the work"), callback_data=cb(ImprovementAction.START, action.id)
        )
    if action.status in (ActionStatus.OPEN, ActionStatus.IN_PROGRESS):
        builder.button(
            text=_("🔎 Measures done"), callback_data=cb(ImprovementAction.CHECK, action.id)
        )
    if action.status in UNFINISHED:
        builder.button(
            text=_("📈 Record the effect"), callback_data=cb(ImprovementAction.EFFECT, action.id)
        )
    if officer and action.status in UNFINISHED and action.effect:
        builder.button(
            text=_("✅ Close and tell members"),
            callback_data=cb(ImprovementAction.CLOSE, action.id),
        )
    if officer and action.status in UNFINISHED:
        builder.button(text=_("🗑 Drop"), callback_data=cb(ImprovementAction.DROP, action.id))
    builder.button(text=_("📋 All actions"), callback_data=cb(ImprovementAction.LIST))
    builder.adjust(2)
    return builder.as_markup()


def step_prompt(step: State) -> str:
    return {
        Steps.problem: _("Step 1/6. Send the problem (问题)."),
        Steps.cause: _("Step 2/6. Send the cause analysis (原因分析)."),
        Steps.measures: _("Step 3/6. Send the measures (改进措施)."),
        Steps.owner: _(
            "Step 4/6. Who is responsible? Send an employee id, or the name of a department."
        ),
        Steps.due: _("Step 5/6. Send the due date as YYYY-MM-DD, a number of days, or “-”."),
        Steps.expected: _("Step 6/6. Send the expected effect."),
        Steps.effect: _("Send the effect (改进成效) in words; the figures above are kept with it."),
        Steps.reason: _("Send the reason for dropping this action."),
    }[step]
