"""The mailbox for senders: choose a box, a type and an identity mode, write, preview, send.
Reading one's own letters is in handlers/mailbox/reading.py, the notices' looks in
handlers/mailbox/notices.py.

Anonymous senders never touch the database's FSM: their draft and their receipt session live
in an `AnonymousStore` (process memory, or Redis shared by the instances: keyed by a hash,
values encrypted), so no row ever pairs their Telegram id with a letter, not even for a
moment. The same holds for answering back on one's own named or confidential letter
(handlers/mailbox/reading.py).
"""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message, User
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder
from aiogram.utils.text_decorations import html_decoration as html

from common.errors import N_, DomainError
from handlers.callbacks import MailboxAction, MailboxCB, MenuAction, MenuCB
from handlers.common import CallbackHandler, register_actions
from handlers.mailbox import reading
from handlers.mailbox.drafts import add_part, parse_choice
from handlers.mailbox.states import InAnonymousSession, Writing
from handlers.mailbox.views import (
    box_name,
    boxes_view,
    mailbox_cb,
    modes_view,
    types_view,
    writing_keyboard,
)
from handlers.screen import Screen
from mailboxes.memory import AnonymousSession, AnonymousStore, Stage
from mailboxes.model import MODE_PROMISES, TYPE_LABELS, Draft, IdentityMode, LetterType
from mailboxes.service import LETTER_MAX, MailboxService
from members.dto import Identity


async def show_boxes(screen: Screen, mailbox: MailboxService) -> None:
    boxes = [(box.key, box_name(mailbox, box.key)) for box in mailbox.settings.boxes]
    await screen.show(*boxes_view(boxes))


async def on_menu(_callback: CallbackQuery, mailbox: MailboxService, screen: Screen) -> None:
    await show_boxes(screen, mailbox)


async def on_command(_message: Message, mailbox: MailboxService, screen: Screen) -> None:
    await show_boxes(screen, mailbox)


async def on_box(
    _callback: CallbackQuery,
    callback_data: MailboxCB,
    mailbox: MailboxService,
    screen: Screen,
) -> None:
    box = mailbox.box(callback_data.box)
    await screen.show(*types_view(box.key, box_name(mailbox, box.key)))


async def on_type(
    _callback: CallbackQuery,
    callback_data: MailboxCB,
    mailbox: MailboxService,
    screen: Screen,
) -> None:
    box = mailbox.box(callback_data.box)
    letter_type = parse_choice(LetterType, callback_data.type)
    await screen.show(*modes_view(box.key, letter_type))


async def on_mode(
    callback: CallbackQuery,
    callback_data: MailboxCB,
    mailbox: MailboxService,
    state: FSMContext,
    anonymous_sessions: AnonymousStore,
    screen: Screen,
) -> None:
    box = mailbox.box(callback_data.box)
    letter_type = parse_choice(LetterType, callback_data.type)
    mode = parse_choice(IdentityMode, callback_data.mode)
    if mode is IdentityMode.ANONYMOUS:
        if await state.get_state() is not None:
            await state.clear()
        await anonymous_sessions.start(
            callback.from_user.id, AnonymousSession(Stage.WRITING, box.key, letter_type)
        )
        hint = _(
            "🕶 Anonymous letter. Your draft is kept only in the bot's memory, never stored "
            "with your account: if the bot restarts before you send it, it is gone."
        )
    else:
        await anonymous_sessions.end(callback.from_user.id)
        await state.set_state(Writing.letter)
        await state.set_data(
            {"box": box.key, "type": letter_type.value, "mode": mode.value, "draft": {}}
        )
        hint = _(MODE_PROMISES[mode])
    await screen.show(
        hint
        + "\n"
        + _(
            "Write your letter: send text (several messages are fine, up to {limit} "
            "characters), photos or documents. Then tap Preview."
        ).format(limit=LETTER_MAX),
        reply_markup=writing_keyboard(),
    )


async def on_letter_part(message: Message, state: FSMContext) -> None:
    data = await state.get_data()
    draft = Draft.from_dict(data.get("draft") or {})
    reply = add_part(message, draft, LETTER_MAX)
    await state.update_data(draft=draft.to_dict())
    await message.answer(reply, reply_markup=writing_keyboard())


async def on_anonymous_part(
    message: Message,
    event_from_user: User,
    anonymous: AnonymousSession,
    anonymous_sessions: AnonymousStore,
) -> None:
    again = anonymous.draft.has(message.message_id)
    reply = add_part(message, anonymous.draft, LETTER_MAX)  # checked against the whole draft
    if not again:
        part = Draft()
        add_part(message, part, LETTER_MAX)
        # Only the new part is kept: an append, so nothing added meanwhile is overwritten.
        await anonymous_sessions.append(event_from_user.id, part)
    await message.answer(reply, reply_markup=writing_keyboard())


async def _pending_letter(
    user_id: int, state: FSMContext, sessions: AnonymousStore
) -> tuple[str, LetterType, IdentityMode, Draft]:
    session = await sessions.get(user_id)
    if session is not None and session.stage is Stage.WRITING:
        return session.box, session.type, IdentityMode.ANONYMOUS, session.draft
    if await state.get_state() == Writing.letter.state:
        data = await state.get_data()
        return (
            str(data["box"]),
            LetterType(data["type"]),
            IdentityMode(data["mode"]),
            Draft.from_dict(data.get("draft") or {}),
        )
    raise DomainError(N_("There is no letter being written. Open the mailbox to start one."))


async def on_preview(
    callback: CallbackQuery,
    mailbox: MailboxService,
    state: FSMContext,
    anonymous_sessions: AnonymousStore,
    screen: Screen,
) -> None:
    box, letter_type, mode, draft = await _pending_letter(
        callback.from_user.id, state, anonymous_sessions
    )
    if draft.is_empty:
        raise DomainError(N_("The message is empty. Please write something."))
    builder = InlineKeyboardBuilder()
    builder.button(text=_("📨 Send"), callback_data=mailbox_cb(MailboxAction.SEND))
    builder.button(text=_("🗑 Discard"), callback_data=mailbox_cb(MailboxAction.DISCARD))
    text = "\n".join(
        [
            _("<b>Preview</b> — to the {box}").format(box=box_name(mailbox, box)),
            f"{_(TYPE_LABELS[letter_type])} · {_(MODE_PROMISES[mode])}",
            _("📎 Files: {count}").format(count=len(draft.attachments)),
            "",
            html.quote(draft.text),
            "",
            _("You can still add text or files before sending."),
        ]
    )
    await screen.show_long(text, builder.as_markup())


async def on_send(
    callback: CallbackQuery,
    identity: Identity,
    mailbox: MailboxService,
    state: FSMContext,
    anonymous_sessions: AnonymousStore,
    screen: Screen,
) -> None:
    box, letter_type, mode, draft = await _pending_letter(
        callback.from_user.id, state, anonymous_sessions
    )
    sent = await mailbox.send(identity, box, letter_type, mode, draft)
    if mode is IdentityMode.ANONYMOUS:
        await anonymous_sessions.end(callback.from_user.id)
        text = _(
            "📨 Sent anonymously: letter #{id}.\n\n"
            "Your receipt code, shown only this once:\n<code>{code}</code>\n\n"
            "Write it down now. With /receipt and this code you can read the replies and "
            "answer. Nobody can recover it for you — not even the bot. You may delete this "
            "message once the code is safe."
        ).format(id=sent.letter_id, code=sent.receipt_code)
    else:
        await state.clear()
        text = _("📨 Sent: letter #{id}. You will be told here when the recipients reply.").format(
            id=sent.letter_id
        )
    await screen.show(text)


async def on_discard(
    callback: CallbackQuery,
    state: FSMContext,
    anonymous_sessions: AnonymousStore,
    screen: Screen,
) -> None:
    await anonymous_sessions.end(callback.from_user.id)
    if await state.get_state() == Writing.letter.state:
        await state.clear()
    screen.notify(_("Discarded."))


def create_router() -> Router:
    router = Router(name="mailbox")
    router.callback_query.register(on_menu, MenuCB.filter(F.action == MenuAction.MAILBOX))
    router.message.register(on_command, Command("mailbox"))
    actions: dict[MailboxAction, CallbackHandler] = {
        MailboxAction.BOX: on_box,
        MailboxAction.TYPE: on_type,
        MailboxAction.MODE: on_mode,
        MailboxAction.PREVIEW: on_preview,
        MailboxAction.SEND: on_send,
        MailboxAction.DISCARD: on_discard,
    }
    register_actions(router, MailboxCB, actions)
    router.message.register(on_letter_part, StateFilter(Writing.letter))
    router.message.register(on_anonymous_part, InAnonymousSession(Stage.WRITING))
    reading.register(router)
    return router
