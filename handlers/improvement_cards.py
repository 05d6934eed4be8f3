"""How an improvement action looks in chat: its card, its buttons, and the notices the outbox
sends about it (rendered in the recipient's language at send time)."""

from __future__ import annotations

import html
from collections.abc import Mapping
from datetime import date
from typing import Any

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from handlers.callbacks import ImprovementAction, ImprovementCB
from handlers.renderers import Rendered
from improvements import notifications as templates
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


# -- notices ------------------------------------------------------------------------------------
def _render_done(params: Mapping[str, Any]) -> Rendered:
    e = html.escape
    lines = [
        "<b>" + _("You said, we did") + "</b>",
        _("What members raised: {problem}").format(problem=e(params["problem"])),
    ]
    if params.get("measures"):
        lines.append(_("What was done: {measures}").format(measures=e(params["measures"])))
    if params.get("effect"):
        lines.append(_("The effect: {effect}").format(effect=e(params["effect"])))
    lines.append(_("Thank you for speaking up."))
    return "\n".join(lines), None


def _render_due_soon(params: Mapping[str, Any]) -> Rendered:
    text = _("Improvement action #{id} “{problem}” is due on {date}.").format(
        id=params["action_id"], problem=html.escape(params["problem"]), date=params["due_on"]
    )
    return text, _view_markup(int(params["action_id"]))


def _render_overdue(params: Mapping[str, Any]) -> Rendered:
    text = _("Improvement action #{id} “{problem}” is overdue (due {date}).").format(
        id=params["action_id"], problem=html.escape(params["problem"]), date=params["due_on"]
    )
    return text, _view_markup(int(params["action_id"]))


def _view_markup(action_id: int) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(text=_("Open"), callback_data=cb(ImprovementAction.VIEW, action_id))
    return builder.as_markup()


RENDERERS = {
    templates.IMPROVEMENT_DONE: _render_done,
    templates.IMPROVEMENT_DUE_SOON: _render_due_soon,
    templates.IMPROVEMENT_OVERDUE: _render_overdue,
}
