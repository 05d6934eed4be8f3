"""How the mailbox's notices look; the outbox renders them at send time."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from handlers.callbacks import InboxAction, InboxCB, MailboxAction, MailboxCB
from handlers.renderers import Rendered
from mailboxes import notifications as templates
from mailboxes.model import TYPE_LABELS, LetterType


def _inbox_button(letter_id: int) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(
        text=_("📥 Open the letter"),
        callback_data=InboxCB(action=InboxAction.OPEN, letter_id=letter_id),
    )
    return builder.as_markup()


def render_new(params: Mapping[str, Any]) -> Rendered:
    text = _("✉️ A new letter #{id} has arrived in the {box}: {type}.").format(
        id=params["letter_id"],
        box=params["box"],
        type=_(TYPE_LABELS[LetterType(params["type"])]),
    )
    return text, _inbox_button(params["letter_id"])


def render_activity(params: Mapping[str, Any]) -> Rendered:
    text = _("✉️ Letter #{id} in the {box} has something new.").format(
        id=params["letter_id"], box=params["box"]
    )
    return text, _inbox_button(params["letter_id"])


def render_overdue(params: Mapping[str, Any]) -> Rendered:
    text = _("⏰ Letter #{id} in the {box} has had no reply for {days} days.").format(
        id=params["letter_id"], box=params["box"], days=params["days"]
    )
    return text, _inbox_button(params["letter_id"])


def render_sender_news(params: Mapping[str, Any]) -> Rendered:
    letter_id, box, kind = params.get("letter_id"), params["box"], params["kind"]
    letter = _("your letter #{id}").format(id=letter_id) if letter_id else _("your letter")
    text = {
        "reply": _("💬 The {box} replied to {letter}."),
        "question": _("❓ The {box} has a question about {letter}."),
        "outcome": _("✅ The {box} has handled {letter}. Please rate the handling."),
        "transfer": _("↪️ {letter} was transferred to the {box}."),
    }[kind].format(box=box, letter=letter)
    builder = InlineKeyboardBuilder()
    if letter_id:
        builder.button(
            text=_("Open"), callback_data=MailboxCB(action=MailboxAction.OPEN, letter_id=letter_id)
        )
    else:  # confidential: the notice names no letter
        builder.button(text=_("📂 My letters"), callback_data=MailboxCB(action=MailboxAction.MINE))
    return text[:1].upper() + text[1:], builder.as_markup()


def render_confidential_news(_params: Mapping[str, Any]) -> Rendered:
    # Names no letter, box or kind: the row in the outbox says only "there was news".
    builder = InlineKeyboardBuilder()
    builder.button(text=_("📂 My letters"), callback_data=MailboxCB(action=MailboxAction.MINE))
    text = _("🔒 There is news on your confidential letter. Open My letters to read it.")
    return text, builder.as_markup()


RENDERERS = {
    templates.LETTER_NEW: render_new,
    templates.LETTER_ACTIVITY: render_activity,
    templates.LETTER_OVERDUE: render_overdue,
    templates.SENDER_NEWS: render_sender_news,
    templates.CONFIDENTIAL_NEWS: render_confidential_news,
}
