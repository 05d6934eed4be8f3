"""How an improvement action looks in chat: its card, its buttons, and the notices the outbox
sends about it (rendered in the recipient's language at send time)."""

from __future__ import annotations

import html
from collections.abc import Mapping
from typing import Any

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from handlers.callbacks import ImprovementAction
from handlers.improvements.views import cb
from handlers.renderers import Rendered
from improvements import notifications as templates


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
