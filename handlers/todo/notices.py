"""The merged work notice: several waiting items in one message."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from aiogram.types import InlineKeyboardButton
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from common.text import first_line
from handlers.callbacks import (
    ImprovementAction,
    ImprovementCB,
    InboxAction,
    InboxCB,
    MenuAction,
    MenuCB,
    ProposalAction,
    ProposalCB,
)
from handlers.renderers import Rendered
from handlers.todo.views import ITEMS_SHOWN
from improvements import notifications as improvements
from mailboxes import notifications as mailbox_templates
from proposals import notifications as proposals
from todo.notices import NOTICE_BATCH


# -- the merged work notice -----------------------------------------------------------------------
def _proposal_item(params: Mapping[str, Any]) -> tuple[str, str]:
    return f"#{params['proposal_id']} {first_line(str(params.get('title') or ''))}", ProposalCB(
        action=ProposalAction.VIEW, proposal_id=int(params["proposal_id"])
    ).pack()


def _letter_item(params: Mapping[str, Any]) -> tuple[str, str]:
    return _("Letter #{id} · {box}").format(id=params["letter_id"], box=params["box"]), InboxCB(
        action=InboxAction.OPEN, letter_id=int(params["letter_id"])
    ).pack()


def _action_item(params: Mapping[str, Any]) -> tuple[str, str]:
    return f"#{params['action_id']} {first_line(str(params.get('problem') or ''))}", ImprovementCB(
        action=ImprovementAction.VIEW, action_id=int(params["action_id"])
    ).pack()


def _batch_kinds() -> dict[str, tuple[str, Callable[[Mapping[str, Any]], tuple[str, str]]]]:
    """Template → (headline with {n}, item button). Built per call: _() needs the locale."""
    return {
        proposals.PROPOSAL_REVIEW: (
            _("📥 {n} proposals are waiting for review."),
            _proposal_item,
        ),
        proposals.PROPOSAL_DUE_SOON: (
            _("⏰ {n} proposals of your department are due soon."),
            _proposal_item,
        ),
        proposals.PROPOSAL_OVERDUE: (
            _("⚠️ {n} proposals are past their answer date."),
            _proposal_item,
        ),
        mailbox_templates.LETTER_OVERDUE: (
            _("⏰ {n} letters are still waiting for a first reply."),
            _letter_item,
        ),
        improvements.IMPROVEMENT_DUE_SOON: (
            _("⏰ {n} improvement actions are due soon."),
            _action_item,
        ),
        improvements.IMPROVEMENT_OVERDUE: (
            _("⚠️ {n} improvement actions are overdue."),
            _action_item,
        ),
    }


def render_batch(params: Mapping[str, Any]) -> Rendered:
    headline, item = _batch_kinds()[str(params["template"])]
    items = list(params["items"])
    builder = InlineKeyboardBuilder()
    for one in items[:ITEMS_SHOWN]:
        text, data = item(one)
        builder.row(InlineKeyboardButton(text=text, callback_data=data))
    builder.row(
        InlineKeyboardButton(text=_("🗒 To do"), callback_data=MenuCB(action=MenuAction.TODO).pack())
    )
    return headline.format(n=len(items)), builder.as_markup()


RENDERERS = {NOTICE_BATCH: render_batch}
