"""Browsing proposals: the public board by status and category, one's own list, a
proposal's timeline and files."""

from __future__ import annotations

from aiogram import Router
from aiogram.types import CallbackQuery, InlineKeyboardButton
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder
from aiogram.utils.text_decorations import html_decoration as html

from common.text import shorten
from handlers.callbacks import ProposalAction, ProposalCB
from handlers.common import register_actions, send_files
from handlers.proposals.notices import status_name
from handlers.proposals.views import BOARD_FILTERS, PER_PAGE, board_value, listing, proposal_cb
from handlers.screen import Screen
from members.dto import Identity
from proposals.model import ACTION_LABELS, Status
from proposals.service import ProposalService


async def on_board(
    _callback: CallbackQuery,
    callback_data: ProposalCB,
    proposals: ProposalService,
    screen: Screen,
) -> None:
    page_text, _dot, rest = callback_data.value.partition(".")
    status_value, _dot, category_text = rest.partition(".")
    page = int(page_text) if page_text.isdigit() else 0
    status = Status(status_value) if status_value in {s.value for s in Status} else None
    categories = proposals.settings.categories
    category = (
        categories[int(category_text)]
        if category_text.isdigit() and int(category_text) < len(categories)
        else None
    )
    shown, total = await proposals.board(
        status=status, category=category, page=page, per_page=PER_PAGE
    )
    text, markup = listing(
        shown,
        total,
        page,
        filters=(status_value if status else "", category_text if category else ""),
    )
    builder = InlineKeyboardBuilder.from_markup(markup)
    builder.row(
        *[
            InlineKeyboardButton(
                text=("🔎 " if value == (status_value if status else "") else "")
                + (status_name(value) if value else _("all")),
                callback_data=proposal_cb(
                    ProposalAction.BOARD, value=board_value(0, value, category_text)
                ),
            )
            for value, _status in BOARD_FILTERS
        ],
        width=3,
    )
    builder.row(
        *[
            InlineKeyboardButton(
                text=("🔎 " if str(index) == category_text else "") + "#" + name,
                callback_data=proposal_cb(
                    ProposalAction.BOARD,
                    value=board_value(0, status_value if status else "", str(index)),
                ),
            )
            for index, name in enumerate(categories)
        ],
        width=3,
    )
    await screen.show(text, reply_markup=builder.as_markup())


async def on_mine(
    _callback: CallbackQuery, identity: Identity, proposals: ProposalService, screen: Screen
) -> None:
    mine = await proposals.mine(identity)
    text, markup = listing(mine, len(mine), None)
    await screen.show(text, reply_markup=markup)


async def on_timeline(
    _callback: CallbackQuery,
    callback_data: ProposalCB,
    identity: Identity,
    proposals: ProposalService,
    screen: Screen,
) -> None:
    # The service decides which names and notes this reader sees.
    proposal, entries = await proposals.timeline(identity, callback_data.proposal_id)
    tz = proposals.settings.tz
    lines = [f"<b>#{proposal.id} {html.quote(proposal.title)}</b>", _("Timeline:")]
    for entry in entries:
        line = f"{entry.at.astimezone(tz):%Y-%m-%d %H:%M} · " + _(
            ACTION_LABELS.get(entry.action, entry.action)
        )
        if entry.actor:
            line += f" · {html.quote(entry.actor)}"
        if entry.note:
            line += f"\n    {html.quote(shorten(entry.note, 300))}"
        lines.append(line)
    await screen.show(shorten("\n".join(lines)))


async def on_files(
    _callback: CallbackQuery,
    callback_data: ProposalCB,
    identity: Identity,
    proposals: ProposalService,
    screen: Screen,
) -> None:
    await send_files(screen, await proposals.attachments(identity, callback_data.proposal_id))


def create_router() -> Router:
    router = Router(name="proposal_browse")
    register_actions(
        router,
        ProposalCB,
        {
            ProposalAction.BOARD: on_board,
            ProposalAction.MINE: on_mine,
            ProposalAction.TIMELINE: on_timeline,
            ProposalAction.FILES: on_files,
        },
    )
    return router
