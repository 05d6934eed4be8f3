"""The recipients' inbox screens: pages of letters, a letter's buttons, transfer."""

from __future__ import annotations

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from handlers.callbacks import (
    ImprovementAction,
    ImprovementCB,
    InboxAction,
    InboxCB,
    InboxFilter,
)
from handlers.mailbox.views import letter_summary
from mailboxes.model import InboxPage, LetterDTO, LetterStatus
from members.dto import Identity
from members.roles import Role


def _cb(action: InboxAction, letter_id: int = 0, **fields: object) -> str:
    return InboxCB(action=action, letter_id=letter_id, **fields).pack()


FILTER_LABELS = {
    InboxFilter.OPEN: "📂",
    InboxFilter.UNREAD: "🆕",
    InboxFilter.ALL: "🗄",
}


def _filter_name(which: InboxFilter) -> str:
    return {
        InboxFilter.OPEN: _("open"),
        InboxFilter.UNREAD: _("unread"),
        InboxFilter.ALL: _("all"),
    }[which]


def inbox_view(
    inbox: InboxPage, boxes: str, which: InboxFilter, page: int
) -> tuple[str, InlineKeyboardMarkup]:
    """One page of the inbox (`page`: the one asked for): letters, paging, the three filters."""
    builder = InlineKeyboardBuilder()
    for letter in inbox.letters:
        marker = "🆕 " if letter.unread else ""
        builder.button(
            text=f"{marker}#{letter.id} · {letter_summary(letter)}",
            callback_data=_cb(InboxAction.OPEN, letter.id),
        )
    sizes = [1] * len(inbox.letters)
    pages = max(1, -(-inbox.total // inbox.per_page))
    if inbox.page > 0:
        builder.button(text="◀️", callback_data=_cb(InboxAction.LIST, page=page - 1, view=which))
    if inbox.page + 1 < pages:
        builder.button(text="▶️", callback_data=_cb(InboxAction.LIST, page=page + 1, view=which))
    sizes.append((inbox.page > 0) + (inbox.page + 1 < pages))
    for option in InboxFilter:
        builder.button(
            text=f"{FILTER_LABELS[option]} {_filter_name(option)}",
            callback_data=_cb(InboxAction.LIST, view=option),
        )
    sizes.append(len(InboxFilter))
    builder.adjust(*[size for size in sizes if size])
    text = _("📥 <b>Inbox</b> — {boxes}\n{count} letters ({which}), page {page}/{pages}").format(
        boxes=boxes, count=inbox.total, which=_filter_name(which), page=inbox.page + 1, pages=pages
    )
    return text, builder.as_markup()


def letter_keyboard(letter: LetterDTO, files: bool, identity: Identity) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    if letter.status is not LetterStatus.HANDLED:
        builder.button(text=_("💬 Reply"), callback_data=_cb(InboxAction.REPLY, letter.id))
        builder.button(text=_("❓ Ask a question"), callback_data=_cb(InboxAction.ASK, letter.id))
        builder.button(text=_("✅ Mark handled"), callback_data=_cb(InboxAction.HANDLE, letter.id))
        builder.button(text=_("↪️ Transfer"), callback_data=_cb(InboxAction.TRANSFER, letter.id))
    if files:
        builder.button(text=_("📎 Files"), callback_data=_cb(InboxAction.FILES, letter.id))
    if identity.has(Role.OFFICER):  # 诊改: an improvement action from what this letter raised
        builder.button(
            text=_("🛠 Improvement action"),
            callback_data=ImprovementCB(
                action=ImprovementAction.NEW, kind="l", ref_id=letter.id
            ).pack(),
        )
    builder.button(text=_("« Inbox"), callback_data=_cb(InboxAction.LIST))
    builder.adjust(2)
    return builder.as_markup()


def send_keyboard(letter_id: int) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(text=_("📨 Send"), callback_data=_cb(InboxAction.SEND, letter_id))
    return builder.as_markup()


def transfer_view(letter_id: int, boxes: list[tuple[str, str]]) -> tuple[str, InlineKeyboardMarkup]:
    """(key, name) of the other mailboxes: a letter moves to one of them."""
    builder = InlineKeyboardBuilder()
    for key, name in boxes:
        builder.button(text=name, callback_data=_cb(InboxAction.TRANSFER, letter_id, box=key))
    builder.adjust(1)
    return _("Transfer letter #{id} to which mailbox?").format(id=letter_id), builder.as_markup()
