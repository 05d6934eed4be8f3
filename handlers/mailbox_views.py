"""What the mailbox's handlers share: how letters look (for senders and recipients alike),
sending texts longer than one Telegram message, adding a message to a draft, sending files,
the writing states and the anonymous-session filter."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from aiogram.filters import Filter
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import get_i18n
from aiogram.utils.i18n import gettext as _
from aiogram.utils.text_decorations import html_decoration as html

from bot.callbacks import MailboxAction, MailboxCB
from common.errors import N_, DomainError
from handlers.common import attachment_of
from mailboxes.memory import AnonymousStore, Stage
from mailboxes.model import (
    MODE_LABELS,
    STATUS_LABELS,
    TYPE_LABELS,
    Attachment,
    Author,
    Draft,
    IdentityMode,
    LetterDTO,
    MessageKind,
    ThreadMessage,
)
from mailboxes.service import ATTACHMENTS_MAX, MailboxService


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


class Writing(StatesGroup):
    letter = State()  # named or confidential: the draft is in the FSM data


class InAnonymousSession(Filter):
    """The sender has an anonymous session at this stage (kept in memory only)."""

    def __init__(self, *stages: Stage) -> None:
        self._stages = frozenset(stages)

    async def __call__(
        self, event: Message | CallbackQuery, anonymous_sessions: AnonymousStore
    ) -> bool | dict[str, Any]:
        session = await anonymous_sessions.get(event.from_user.id) if event.from_user else None
        if session is None or session.stage not in self._stages:
            return False
        return {"anonymous": session}


def mailbox_cb(action: MailboxAction, **fields: Any) -> str:
    return MailboxCB(action=action, **fields).pack()


def parse_choice(enum: type, value: str) -> Any:
    try:
        return enum(value)
    except ValueError:
        raise DomainError(N_("This button is no longer valid.")) from None


def add_part(message: Message, draft: Draft, limit: int) -> str:
    """Add a message to a draft; the reply to show. Refuses what cannot be kept."""
    attachment = attachment_of(message)
    if attachment is not None:
        draft.add_attachment(Attachment(*attachment), ATTACHMENTS_MAX)
        if message.caption:
            draft.add_text(message.caption, limit)
        return _("Attached ({count} files).").format(count=len(draft.attachments))
    if message.text is None:
        raise DomainError(N_("Only text, photos and documents can be added. Please send one."))
    draft.add_text(message.text, limit)
    return _("Received ({length} characters so far).").format(length=len(draft.text))
