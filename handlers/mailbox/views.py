"""How letters look (for senders and recipients alike) and the writing screens."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import get_i18n
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder
from aiogram.utils.text_decorations import html_decoration as html

from handlers.callbacks import MailboxAction, MailboxCB
from mailboxes.model import (
    MODE_LABELS,
    MODE_PROMISES,
    STATUS_LABELS,
    TYPE_LABELS,
    Author,
    IdentityMode,
    LetterDTO,
    LetterStatus,
    LetterType,
    MessageKind,
    ThreadMessage,
)
from mailboxes.service import RATINGS, MailboxService


def box_name(mailbox: MailboxService, key: str) -> str:
    return mailbox.box(key).name(get_i18n().current_locale)


def when(moment: datetime, tz: ZoneInfo, *, day_only: bool) -> str:
    local = moment.astimezone(tz)
    return f"{local:%Y-%m-%d}" if day_only else f"{local:%Y-%m-%d %H:%M}"


def letter_summary(letter: LetterDTO) -> str:
    """One line: type · mode · status."""
    return " · ".join(
        (
            _(TYPE_LABELS[letter.type]),
            _(MODE_LABELS[letter.mode]),
            _(STATUS_LABELS[letter.status]),
        )
    )


def _thread_line(
    mailbox: MailboxService,
    message: ThreadMessage,
    tz: ZoneInfo,
    *,
    anonymous: bool,
    for_recipient: bool,
) -> str:
    # The sender's times in anonymous threads are days; say so rather than show 00:00.
    day_only = anonymous and message.author is Author.SENDER
    stamp = when(message.created_at, tz, day_only=day_only)
    files = f" 📎{len(message.attachments)}" if message.attachments else ""
    if message.kind is MessageKind.TRANSFER:
        target = box_name(mailbox, message.box or "")
        line = _("[{when}] ↪️ Transferred to {box}.").format(when=stamp, box=target)
        if for_recipient and message.text:  # the note is for the recipients only
            line += "\n    " + html.quote(message.text)
        return line
    label = {
        MessageKind.LETTER: _("Sender") if for_recipient else _("You"),
        MessageKind.REPLY: _("Reply"),
        MessageKind.QUESTION: _("Question"),
        MessageKind.OUTCOME: _("Outcome"),
        MessageKind.IMPROVEMENT: _("You said, we did"),
    }[message.kind]
    return f"[{stamp}] <b>{label}</b>{files}: {html.quote(message.text)}"


def letter_text(
    mailbox: MailboxService,
    letter: LetterDTO,
    thread: Sequence[ThreadMessage],
    tz: ZoneInfo,
    *,
    for_recipient: bool,
) -> str:
    anonymous = letter.mode is IdentityMode.ANONYMOUS
    lines = [
        _("✉️ <b>Letter #{id}</b> · {box}").format(id=letter.id, box=box_name(mailbox, letter.box)),
        letter_summary(letter),
        _("Received: {when}").format(when=when(letter.created_at, tz, day_only=anonymous)),
    ]
    if for_recipient:
        if letter.mode is IdentityMode.NAMED:
            lines.append(
                _("From: {name} · {department}").format(
                    name=html.quote(letter.sender.name or _("former member")),
                    department=html.quote(letter.sender.department or "—"),
                )
            )
        elif letter.mode is IdentityMode.CONFIDENTIAL:
            lines.append(_("From: a confidential sender (identity not shown)"))
        else:
            lines.append(_("From: an anonymous sender"))
    if letter.attachments:
        lines.append(_("📎 Files: {count}").format(count=letter.attachments))
    lines += ["", html.quote(letter.body)]
    if thread:
        lines += ["", _("<b>Conversation</b>")]
        lines += [
            _thread_line(mailbox, m, tz, anonymous=anonymous, for_recipient=for_recipient)
            for m in thread
        ]
    if letter.rating is not None:
        lines.append(_("Rating: {stars}").format(stars="★" * letter.rating))
    return "\n".join(lines)


def mailbox_cb(action: MailboxAction, **fields: Any) -> str:
    return MailboxCB(action=action, **fields).pack()


def boxes_view(boxes: list[tuple[str, str]]) -> tuple[str, InlineKeyboardMarkup]:
    """(key, name) of each mailbox; then the sender's own letters and the receipt code."""
    builder = InlineKeyboardBuilder()
    for key, name in boxes:
        builder.button(text=f"✉️ {name}", callback_data=mailbox_cb(MailboxAction.BOX, box=key))
    builder.button(text=_("📂 My letters"), callback_data=mailbox_cb(MailboxAction.MINE))
    builder.button(
        text=_("🔑 I have a receipt code"), callback_data=mailbox_cb(MailboxAction.RECEIPT_FOLLOW)
    )
    builder.adjust(1)
    return _(
        "<b>Mailbox</b>\nWrite to the principal or the party secretary: report a situation, "
        "make a suggestion or report misconduct — named, confidential or anonymous.\n"
        "Which mailbox?"
    ), builder.as_markup()


def types_view(box: str, name: str) -> tuple[str, InlineKeyboardMarkup]:
    builder = InlineKeyboardBuilder()
    for letter_type, label in TYPE_LABELS.items():
        builder.button(
            text=_(label), callback_data=mailbox_cb(MailboxAction.TYPE, box=box, type=letter_type)
        )
    builder.adjust(1)
    return _("{box}: what would you like to do?").format(box=name), builder.as_markup()


def modes_view(box: str, letter_type: LetterType) -> tuple[str, InlineKeyboardMarkup]:
    """Named, confidential or anonymous, with what each one promises."""
    builder = InlineKeyboardBuilder()
    labels = {
        IdentityMode.NAMED: _("👤 Named"),
        IdentityMode.CONFIDENTIAL: _("🔒 Confidential"),
        IdentityMode.ANONYMOUS: _("🕶 Anonymous"),
    }
    for mode, label in labels.items():
        builder.button(
            text=label,
            callback_data=mailbox_cb(MailboxAction.MODE, box=box, type=letter_type, mode=mode),
        )
    builder.adjust(3)
    promises = "\n".join(f"• {_(MODE_PROMISES[mode])}" for mode in IdentityMode)
    return (
        _("How should the recipients know you?\n{promises}").format(promises=promises),
        builder.as_markup(),
    )


def writing_keyboard() -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(text=_("👀 Preview"), callback_data=mailbox_cb(MailboxAction.PREVIEW))
    builder.button(text=_("🗑 Discard"), callback_data=mailbox_cb(MailboxAction.DISCARD))
    return builder.as_markup()


def reader_keyboard(
    letter: LetterDTO, thread: list[ThreadMessage], *, receipt: bool
) -> InlineKeyboardMarkup:
    follow, rate, files = (
        (MailboxAction.RECEIPT_FOLLOW, MailboxAction.RECEIPT_RATE, MailboxAction.RECEIPT_FILES)
        if receipt
        else (MailboxAction.FOLLOW, MailboxAction.RATE, MailboxAction.FILES)
    )
    # Receipt buttons carry no letter id: the session knows the letter.
    letter_id = 0 if receipt else letter.id
    builder = InlineKeyboardBuilder()
    sizes = []
    if letter.status is not LetterStatus.HANDLED:
        builder.button(
            text=_("✏️ Add a message"), callback_data=mailbox_cb(follow, letter_id=letter_id)
        )
        sizes.append(1)
    elif letter.rating is None:
        for stars in RATINGS:
            builder.button(
                text="★" * stars, callback_data=mailbox_cb(rate, letter_id=letter_id, value=stars)
            )
        sizes.append(len(RATINGS))
    if letter.attachments or any(m.attachments for m in thread):
        builder.button(text=_("📎 Files"), callback_data=mailbox_cb(files, letter_id=letter_id))
        sizes.append(1)
    builder.adjust(*sizes) if sizes else None
    return builder.as_markup()
