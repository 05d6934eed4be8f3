"""The mailbox for senders: choose a box, a type and an identity mode, write, preview, send;
read replies to one's own letters (or, anonymously, with a receipt code), answer back, rate.
Also how mailbox notices look (the outbox renders them at send time).

Anonymous senders never touch the database's FSM: their draft and their receipt session live
in `AnonymousSessions` (process memory, keyed by a hash), so no row ever pairs their Telegram
id with a letter, not even for a moment.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiogram import F, Router
from aiogram.filters import Command, CommandObject, Filter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import get_i18n
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder
from aiogram.utils.text_decorations import html_decoration as html

from bot.callbacks import InboxAction, InboxCB, MailboxAction, MailboxCB, MenuAction, MenuCB
from bot.config import Config
from bot.filters import private_chat
from bot.middlewares import RequireRegistration
from bot.renderers import Rendered
from common.errors import N_, DomainError
from handlers.common import attachment_of, register_actions
from handlers.mailbox_views import answer_long, letter_summary, letter_text
from mailboxes import notifications as templates
from mailboxes.memory import AnonymousSession, AnonymousSessions, Stage
from mailboxes.model import (
    MODE_PROMISES,
    TYPE_LABELS,
    Attachment,
    Draft,
    IdentityMode,
    LetterDTO,
    LetterStatus,
    LetterType,
    ThreadMessage,
)
from mailboxes.service import ATTACHMENTS_MAX, LETTER_MAX, MESSAGE_MAX, RATINGS, MailboxService
from members.dto import Identity

# -- notices ----------------------------------------------------------------------------------


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


RENDERERS = {
    templates.LETTER_NEW: render_new,
    templates.LETTER_ACTIVITY: render_activity,
    templates.LETTER_OVERDUE: render_overdue,
    templates.SENDER_NEWS: render_sender_news,
}

# -- filters and states -----------------------------------------------------------------------


class Writing(StatesGroup):
    letter = State()  # named or confidential: the draft is in the FSM data
    follow_up = State()  # the next message answers back on one of my letters


class InAnonymousSession(Filter):
    """The sender has an anonymous session at this stage (kept in memory only)."""

    def __init__(self, *stages: Stage) -> None:
        self._stages = frozenset(stages)

    async def __call__(
        self, event: Message | CallbackQuery, anonymous_sessions: AnonymousSessions
    ) -> bool | dict[str, Any]:
        session = anonymous_sessions.get(event.from_user.id) if event.from_user else None
        if session is None or session.stage not in self._stages:
            return False
        return {"anonymous": session}


def _cb(action: MailboxAction, **fields: Any) -> str:
    return MailboxCB(action=action, **fields).pack()


def _parse(enum: type, value: str) -> Any:
    try:
        return enum(value)
    except ValueError:
        raise DomainError(N_("This button is no longer valid.")) from None


# -- choosing ---------------------------------------------------------------------------------


async def show_boxes(message: Message, mailbox: MailboxService) -> None:
    builder = InlineKeyboardBuilder()
    for box in mailbox.settings.boxes:
        builder.button(
            text=f"✉️ {box.name(get_i18n().current_locale)}",
            callback_data=_cb(MailboxAction.BOX, box=box.key),
        )
    builder.button(text=_("📂 My letters"), callback_data=_cb(MailboxAction.MINE))
    builder.button(
        text=_("🔑 I have a receipt code"), callback_data=_cb(MailboxAction.RECEIPT_FOLLOW)
    )
    builder.adjust(1)
    await message.answer(
        _(
            "<b>Mailbox</b>\nWrite to the principal or the party secretary: report a situation, "
            "make a suggestion or report misconduct — named, confidential or anonymous.\n"
            "Which mailbox?"
        ),
        reply_markup=builder.as_markup(),
    )


async def on_menu(callback: CallbackQuery, mailbox: MailboxService) -> None:
    await callback.answer()
    if isinstance(callback.message, Message):
        await show_boxes(callback.message, mailbox)


async def on_command(message: Message, mailbox: MailboxService) -> None:
    await show_boxes(message, mailbox)


async def on_box(
    callback: CallbackQuery, callback_data: MailboxCB, mailbox: MailboxService
) -> None:
    box = mailbox.box(callback_data.box)
    builder = InlineKeyboardBuilder()
    for letter_type, label in TYPE_LABELS.items():
        builder.button(
            text=_(label), callback_data=_cb(MailboxAction.TYPE, box=box.key, type=letter_type)
        )
    builder.adjust(1)
    await callback.answer()
    if isinstance(callback.message, Message):
        await callback.message.answer(
            _("{box}: what would you like to do?").format(box=box.name(get_i18n().current_locale)),
            reply_markup=builder.as_markup(),
        )


async def on_type(
    callback: CallbackQuery, callback_data: MailboxCB, mailbox: MailboxService
) -> None:
    box = mailbox.box(callback_data.box)
    letter_type = _parse(LetterType, callback_data.type)
    builder = InlineKeyboardBuilder()
    labels = {
        IdentityMode.NAMED: _("👤 Named"),
        IdentityMode.CONFIDENTIAL: _("🔒 Confidential"),
        IdentityMode.ANONYMOUS: _("🕶 Anonymous"),
    }
    for mode, label in labels.items():
        builder.button(
            text=label,
            callback_data=_cb(MailboxAction.MODE, box=box.key, type=letter_type, mode=mode),
        )
    builder.adjust(3)
    await callback.answer()
    if isinstance(callback.message, Message):
        promises = "\n".join(f"• {_(MODE_PROMISES[mode])}" for mode in IdentityMode)
        await callback.message.answer(
            _("How should the recipients know you?\n{promises}").format(promises=promises),
            reply_markup=builder.as_markup(),
        )


def _writing_keyboard() -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(text=_("👀 Preview"), callback_data=_cb(MailboxAction.PREVIEW))
    builder.button(text=_("🗑 Discard"), callback_data=_cb(MailboxAction.DISCARD))
    return builder.as_markup()


async def on_mode(
    callback: CallbackQuery,
    callback_data: MailboxCB,
    mailbox: MailboxService,
    state: FSMContext,
    anonymous_sessions: AnonymousSessions,
) -> None:
    box = mailbox.box(callback_data.box)
    letter_type = _parse(LetterType, callback_data.type)
    mode = _parse(IdentityMode, callback_data.mode)
    await callback.answer()
    if mode is IdentityMode.ANONYMOUS:
        if await state.get_state() is not None:
            await state.clear()
        anonymous_sessions.start(
            callback.from_user.id, AnonymousSession(Stage.WRITING, box.key, letter_type)
        )
        hint = _(
            "🕶 Anonymous letter. Your draft is kept only in the bot's memory, never stored "
            "with your account: if the bot restarts before you send it, it is gone."
        )
    else:
        anonymous_sessions.end(callback.from_user.id)
        await state.set_state(Writing.letter)
        await state.set_data(
            {"box": box.key, "type": letter_type.value, "mode": mode.value, "draft": {}}
        )
        hint = _(MODE_PROMISES[mode])
    if isinstance(callback.message, Message):
        await callback.message.answer(
            hint
            + "\n"
            + _(
                "Write your letter: send text (several messages are fine, up to {limit} "
                "characters), photos or documents. Then tap Preview."
            ).format(limit=LETTER_MAX),
            reply_markup=_writing_keyboard(),
        )


# -- writing ----------------------------------------------------------------------------------


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


async def on_letter_part(message: Message, state: FSMContext) -> None:
    data = await state.get_data()
    draft = Draft.from_dict(data.get("draft") or {})
    reply = add_part(message, draft, LETTER_MAX)
    await state.update_data(draft=draft.to_dict())
    await message.answer(reply, reply_markup=_writing_keyboard())


async def on_anonymous_part(message: Message, anonymous: AnonymousSession) -> None:
    reply = add_part(message, anonymous.draft, LETTER_MAX)
    await message.answer(reply, reply_markup=_writing_keyboard())


async def _pending_letter(
    user_id: int, state: FSMContext, sessions: AnonymousSessions
) -> tuple[str, LetterType, IdentityMode, Draft]:
    session = sessions.get(user_id)
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
    anonymous_sessions: AnonymousSessions,
) -> None:
    box, letter_type, mode, draft = await _pending_letter(
        callback.from_user.id, state, anonymous_sessions
    )
    await callback.answer()
    if draft.is_empty:
        raise DomainError(N_("The message is empty. Please write something."))
    builder = InlineKeyboardBuilder()
    builder.button(text=_("📨 Send"), callback_data=_cb(MailboxAction.SEND))
    builder.button(text=_("🗑 Discard"), callback_data=_cb(MailboxAction.DISCARD))
    text = "\n".join(
        [
            _("<b>Preview</b> — to the {box}").format(
                box=mailbox.box(box).name(get_i18n().current_locale)
            ),
            f"{_(TYPE_LABELS[letter_type])} · {_(MODE_PROMISES[mode])}",
            _("📎 Files: {count}").format(count=len(draft.attachments)),
            "",
            html.quote(draft.text),
            "",
            _("You can still add text or files before sending."),
        ]
    )
    if isinstance(callback.message, Message):
        await answer_long(callback.message, text, builder.as_markup())


async def on_send(
    callback: CallbackQuery,
    identity: Identity,
    mailbox: MailboxService,
    state: FSMContext,
    anonymous_sessions: AnonymousSessions,
) -> None:
    box, letter_type, mode, draft = await _pending_letter(
        callback.from_user.id, state, anonymous_sessions
    )
    sent = await mailbox.send(identity, box, letter_type, mode, draft)
    await callback.answer()
    if mode is IdentityMode.ANONYMOUS:
        anonymous_sessions.end(callback.from_user.id)
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
    if isinstance(callback.message, Message):
        await callback.message.answer(text)


async def on_discard(
    callback: CallbackQuery, state: FSMContext, anonymous_sessions: AnonymousSessions
) -> None:
    anonymous_sessions.end(callback.from_user.id)
    if await state.get_state() in (Writing.letter.state, Writing.follow_up.state):
        await state.clear()
    await callback.answer(_("Discarded."))


# -- my letters -------------------------------------------------------------------------------


def _reader_keyboard(
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
        builder.button(text=_("✏️ Add a message"), callback_data=_cb(follow, letter_id=letter_id))
        sizes.append(1)
    elif letter.rating is None:
        for stars in RATINGS:
            builder.button(
                text="★" * stars, callback_data=_cb(rate, letter_id=letter_id, value=stars)
            )
        sizes.append(len(RATINGS))
    if letter.attachments or any(m.attachments for m in thread):
        builder.button(text=_("📎 Files"), callback_data=_cb(files, letter_id=letter_id))
        sizes.append(1)
    builder.adjust(*sizes) if sizes else None
    return builder.as_markup()


async def _show_own(
    message: Message,
    mailbox: MailboxService,
    config: Config,
    letter: LetterDTO,
    thread: list[ThreadMessage],
    *,
    receipt: bool,
) -> None:
    text = letter_text(mailbox, letter, thread, config.union.tz, for_recipient=False)
    await answer_long(message, text, _reader_keyboard(letter, thread, receipt=receipt))


async def on_mine(callback: CallbackQuery, identity: Identity, mailbox: MailboxService) -> None:
    letters = await mailbox.sent_letters(identity)
    await callback.answer()
    if not isinstance(callback.message, Message):
        return
    if not letters:
        await callback.message.answer(
            _(
                "You have no named or confidential letters. Anonymous letters are not listed: "
                "nothing links them to you. Open them with /receipt and their code."
            )
        )
        return
    builder = InlineKeyboardBuilder()
    for letter in letters:
        builder.button(
            text=f"#{letter.id} · {letter_summary(letter)}",
            callback_data=_cb(MailboxAction.OPEN, letter_id=letter.id),
        )
    builder.adjust(1)
    await callback.message.answer(
        _("Your letters (anonymous letters are not listed):"), reply_markup=builder.as_markup()
    )


async def on_open(
    callback: CallbackQuery,
    callback_data: MailboxCB,
    identity: Identity,
    mailbox: MailboxService,
    config: Config,
) -> None:
    letter, thread = await mailbox.own_letter(identity, callback_data.letter_id)
    await callback.answer()
    if isinstance(callback.message, Message):
        await _show_own(callback.message, mailbox, config, letter, thread, receipt=False)


async def on_follow(
    callback: CallbackQuery,
    callback_data: MailboxCB,
    identity: Identity,
    mailbox: MailboxService,
    state: FSMContext,
) -> None:
    letter, _thread = await mailbox.own_letter(identity, callback_data.letter_id)
    if letter.status is LetterStatus.HANDLED:
        raise DomainError(N_("This letter has been handled; you can rate the handling."))
    await state.set_state(Writing.follow_up)
    await state.set_data({"letter_id": letter.id})
    await callback.answer()
    if isinstance(callback.message, Message):
        await callback.message.answer(_("Send your message (text, a photo or a document)."))


async def on_follow_up(
    message: Message, identity: Identity, mailbox: MailboxService, state: FSMContext
) -> None:
    draft = Draft()
    reply = add_part(message, draft, MESSAGE_MAX)
    letter_id = int(await state.get_value("letter_id") or 0)
    await mailbox.follow_up(identity, letter_id, draft)
    await state.clear()
    await message.answer(_("Added to your letter. {detail}").format(detail=reply))


async def on_rate(
    callback: CallbackQuery, callback_data: MailboxCB, identity: Identity, mailbox: MailboxService
) -> None:
    await mailbox.rate(callback_data.letter_id, callback_data.value, actor=identity)
    await callback.answer(_("Thank you for your rating."), show_alert=True)


async def send_files(message: Message, files: list[Attachment]) -> None:
    for attachment in files:
        if attachment.kind == "photo":
            await message.answer_photo(attachment.telegram_file_id)
        else:
            await message.answer_document(attachment.telegram_file_id)


async def on_files(
    callback: CallbackQuery, callback_data: MailboxCB, identity: Identity, mailbox: MailboxService
) -> None:
    letter, _thread = await mailbox.own_letter(identity, callback_data.letter_id)
    await callback.answer()
    if isinstance(callback.message, Message):
        await send_files(callback.message, await mailbox.thread_files(letter.id))


# -- receipt codes ----------------------------------------------------------------------------


async def on_receipt_command(
    message: Message,
    command: CommandObject,
    identity: Identity,
    mailbox: MailboxService,
    config: Config,
    anonymous_sessions: AnonymousSessions,
) -> None:
    if not command.args:
        anonymous_sessions.start(message.from_user.id, AnonymousSession(Stage.CODE))  # type: ignore[union-attr]
        await message.answer(_("Send your receipt code (20 digits)."))
        return
    await _open_with_code(message, command.args, identity, mailbox, config, anonymous_sessions)


async def on_receipt_code(
    message: Message,
    identity: Identity,
    mailbox: MailboxService,
    config: Config,
    anonymous_sessions: AnonymousSessions,
) -> None:
    await _open_with_code(
        message, message.text or "", identity, mailbox, config, anonymous_sessions
    )


async def _open_with_code(
    message: Message,
    code: str,
    identity: Identity,
    mailbox: MailboxService,
    config: Config,
    sessions: AnonymousSessions,
) -> None:
    user_id = message.from_user.id  # type: ignore[union-attr]
    letter_id = await mailbox.open_receipt(identity, code)
    sessions.start(user_id, AnonymousSession(Stage.READING, letter_id=letter_id))
    letter, thread = await mailbox.receipt_letter(letter_id)
    await _show_own(message, mailbox, config, letter, thread, receipt=True)


async def on_receipt_button(
    callback: CallbackQuery,
    callback_data: MailboxCB,
    mailbox: MailboxService,
    anonymous_sessions: AnonymousSessions,
) -> None:
    """Receipt actions: the letter comes from the session, never from the button."""
    session = anonymous_sessions.get(callback.from_user.id)
    if callback_data.action is MailboxAction.RECEIPT_FOLLOW and (
        session is None or session.letter_id is None
    ):
        # From the mailbox menu ("I have a receipt code"), or a session that has expired.
        anonymous_sessions.start(callback.from_user.id, AnonymousSession(Stage.CODE))
        await callback.answer()
        if isinstance(callback.message, Message):
            await callback.message.answer(_("Send your receipt code (20 digits)."))
        return
    if session is None or session.letter_id is None:
        raise DomainError(N_("Your receipt session has ended. Send /receipt and your code again."))
    letter_id = session.letter_id
    await callback.answer()
    message = callback.message if isinstance(callback.message, Message) else None
    if callback_data.action is MailboxAction.RECEIPT_FOLLOW:
        session.stage = Stage.FOLLOW_UP
        if message:
            await message.answer(_("Send your message (text, a photo or a document)."))
    elif callback_data.action is MailboxAction.RECEIPT_RATE:
        await mailbox.rate(letter_id, callback_data.value)
        if message:
            await message.answer(_("Thank you for your rating."))
    elif message:
        await send_files(message, await mailbox.thread_files(letter_id))


async def on_receipt_follow_up(
    message: Message, mailbox: MailboxService, anonymous: AnonymousSession
) -> None:
    draft = Draft()
    reply = add_part(message, draft, MESSAGE_MAX)
    assert anonymous.letter_id is not None
    await mailbox.follow_up_anonymous(anonymous.letter_id, draft)
    anonymous.stage = Stage.READING
    await message.answer(_("Added to your letter. {detail}").format(detail=reply))


def create_router() -> Router:
    router = Router(name="mailbox")
    for observer in (router.message, router.callback_query):
        observer.filter(private_chat())
        observer.middleware(RequireRegistration())
    router.callback_query.register(on_menu, MenuCB.filter(F.action == MenuAction.MAILBOX))
    router.message.register(on_command, Command("mailbox"))
    router.message.register(on_receipt_command, Command("receipt"))
    actions = {
        MailboxAction.BOX: on_box,
        MailboxAction.TYPE: on_type,
        MailboxAction.MODE: on_mode,
        MailboxAction.PREVIEW: on_preview,
        MailboxAction.SEND: on_send,
        MailboxAction.DISCARD: on_discard,
        MailboxAction.MINE: on_mine,
        MailboxAction.OPEN: on_open,
        MailboxAction.FOLLOW: on_follow,
        MailboxAction.RATE: on_rate,
        MailboxAction.FILES: on_files,
    }
    register_actions(router, MailboxCB, actions)
    receipt_actions = {
        MailboxAction.RECEIPT_FOLLOW,
        MailboxAction.RECEIPT_RATE,
        MailboxAction.RECEIPT_FILES,
    }
    router.callback_query.register(
        on_receipt_button, MailboxCB.filter(F.action.in_(receipt_actions))
    )
    router.message.register(on_letter_part, Writing.letter)
    router.message.register(on_follow_up, Writing.follow_up)
    router.message.register(on_anonymous_part, InAnonymousSession(Stage.WRITING))
    router.message.register(on_receipt_code, InAnonymousSession(Stage.CODE))
    router.message.register(on_receipt_follow_up, InAnonymousSession(Stage.FOLLOW_UP))
    return router
