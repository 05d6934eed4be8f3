"""The recipients' inbox: paged letters of their boxes, a letter with its conversation, reply,
ask a follow-up question, mark handled with an outcome, transfer to another box.

Every press re-checks in the service that the letter is in one of the presser's boxes; a
letter of another box answers exactly like one that does not exist.
"""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.callbacks import (
    ImprovementAction,
    ImprovementCB,
    InboxAction,
    InboxCB,
    InboxFilter,
    MenuAction,
    MenuCB,
)
from bot.config import Config
from bot.filters import WithoutText
from common.errors import N_, DomainError
from handlers.common import CallbackHandler, ask_for_text, register_actions, send_files
from handlers.mailbox_views import (
    add_part,
    box_name,
    letter_summary,
    letter_text,
)
from handlers.screen import Screen
from mailboxes.model import Draft, InboxPage, LetterDTO, LetterStatus
from mailboxes.service import MESSAGE_MAX, MailboxService
from members.dto import Identity
from members.roles import Role


class Answering(StatesGroup):
    text = State()  # a reply or a question: text and files, then Send


class Handling(StatesGroup):
    outcome = State()


class Transferring(StatesGroup):
    note = State()


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


async def show_inbox(
    screen: Screen,
    identity: Identity,
    mailbox: MailboxService,
    *,
    page: int = 0,
    which: InboxFilter = InboxFilter.OPEN,
) -> None:
    inbox = await mailbox.inbox(
        identity,
        unread=which is InboxFilter.UNREAD,
        open_only=which is not InboxFilter.ALL,
        page=page,
    )
    boxes = ", ".join(box_name(mailbox, key) for key in mailbox.recipient_boxes(identity))
    await screen.show(*inbox_view(inbox, boxes, which, page))


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


async def on_command(
    _message: Message, identity: Identity, mailbox: MailboxService, screen: Screen
) -> None:
    await show_inbox(screen, identity, mailbox)


async def on_menu(
    _callback: CallbackQuery, identity: Identity, mailbox: MailboxService, screen: Screen
) -> None:
    await show_inbox(screen, identity, mailbox)


async def on_list(
    _callback: CallbackQuery,
    callback_data: InboxCB,
    identity: Identity,
    mailbox: MailboxService,
    screen: Screen,
) -> None:
    await show_inbox(
        screen,
        identity,
        mailbox,
        page=callback_data.page,
        which=callback_data.view,
    )


def _letter_keyboard(letter: LetterDTO, files: bool, identity: Identity) -> InlineKeyboardMarkup:
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


async def on_open(
    _callback: CallbackQuery,
    callback_data: InboxCB,
    identity: Identity,
    mailbox: MailboxService,
    config: Config,
    screen: Screen,
) -> None:
    letter, thread = await mailbox.open_letter(identity, callback_data.letter_id)
    files = bool(letter.attachments or any(m.attachments for m in thread))
    text = letter_text(mailbox, letter, thread, config.union.tz, for_recipient=True)
    await screen.show_long(text, _letter_keyboard(letter, files, identity))


async def on_files(
    _callback: CallbackQuery,
    callback_data: InboxCB,
    identity: Identity,
    mailbox: MailboxService,
    screen: Screen,
) -> None:
    files = await mailbox.letter_files(identity, callback_data.letter_id)
    await send_files(screen, files)


# -- replying and asking ----------------------------------------------------------------------


def _send_keyboard(letter_id: int) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(text=_("📨 Send"), callback_data=_cb(InboxAction.SEND, letter_id))
    return builder.as_markup()


async def _ask(
    screen: Screen,
    letter_id: int,
    identity: Identity,
    mailbox: MailboxService,
    state: FSMContext,
    next_state: State,
    prompt: str,
    **data: object,
) -> None:
    """Open the letter (checked, audited), refuse if handled, then wait for the next message."""
    letter, _thread = await mailbox.open_letter(identity, letter_id)
    if letter.status is LetterStatus.HANDLED:
        raise DomainError(N_("This letter has been handled already."))
    await state.set_state(next_state)
    await state.set_data({"letter_id": letter.id, **data})
    await screen.show(prompt)


async def on_reply_button(
    _callback: CallbackQuery,
    callback_data: InboxCB,
    identity: Identity,
    mailbox: MailboxService,
    state: FSMContext,
    screen: Screen,
) -> None:
    question = callback_data.action is InboxAction.ASK
    prompt = (
        _("Write your question to the sender (text, photos or documents), then tap Send.")
        if question
        else _("Write your reply (text, photos or documents), then tap Send.")
    )
    await _ask(
        screen,
        callback_data.letter_id,
        identity,
        mailbox,
        state,
        Answering.text,
        prompt,
        question=question,
        draft={},
    )


async def on_answer_part(message: Message, state: FSMContext) -> None:
    data = await state.get_data()
    draft = Draft.from_dict(data.get("draft") or {})
    reply = add_part(message, draft, MESSAGE_MAX)
    await state.update_data(draft=draft.to_dict())
    await message.answer(reply, reply_markup=_send_keyboard(int(data["letter_id"])))


async def on_send(
    _callback: CallbackQuery,
    callback_data: InboxCB,
    identity: Identity,
    mailbox: MailboxService,
    state: FSMContext,
    screen: Screen,
) -> None:
    data = await state.get_data()
    if await state.get_state() != Answering.text.state or data.get("letter_id") != (
        callback_data.letter_id
    ):
        raise DomainError(N_("This button is no longer valid."))
    draft = Draft.from_dict(data.get("draft") or {})
    await mailbox.reply(identity, callback_data.letter_id, draft, question=bool(data["question"]))
    await state.clear()
    await screen.show(_("Sent to the sender of letter #{id}.").format(id=data["letter_id"]))


# -- handling and transferring ----------------------------------------------------------------


async def on_handle_button(
    _callback: CallbackQuery,
    callback_data: InboxCB,
    identity: Identity,
    mailbox: MailboxService,
    state: FSMContext,
    screen: Screen,
) -> None:
    prompt = _("What was the outcome? Send one message; the sender will read it and rate it.")
    await _ask(screen, callback_data.letter_id, identity, mailbox, state, Handling.outcome, prompt)


async def on_outcome(
    message: Message, identity: Identity, mailbox: MailboxService, state: FSMContext
) -> None:
    letter_id = int(await state.get_value("letter_id") or 0)
    await mailbox.mark_handled(identity, letter_id, message.text or "")
    await state.clear()
    await message.answer(_("Letter #{id} is marked handled.").format(id=letter_id))


async def on_transfer_button(
    _callback: CallbackQuery,
    callback_data: InboxCB,
    identity: Identity,
    mailbox: MailboxService,
    state: FSMContext,
    screen: Screen,
) -> None:
    letter, _thread = await mailbox.open_letter(identity, callback_data.letter_id)
    if not callback_data.box:
        others = [
            (box.key, box_name(mailbox, box.key))
            for box in mailbox.settings.boxes
            if box.key != letter.box
        ]
        await screen.show(*transfer_view(letter.id, others))
        return
    mailbox.box(callback_data.box)  # a forged box is refused here
    await state.set_state(Transferring.note)
    await state.set_data({"letter_id": letter.id, "box": callback_data.box})
    await screen.show(
        _(
            "Add a note for the recipients of the {box} (the sender is only told that the "
            "letter moved):"
        ).format(box=box_name(mailbox, callback_data.box))
    )


def transfer_view(letter_id: int, boxes: list[tuple[str, str]]) -> tuple[str, InlineKeyboardMarkup]:
    """(key, name) of the other mailboxes: a letter moves to one of them."""
    builder = InlineKeyboardBuilder()
    for key, name in boxes:
        builder.button(text=name, callback_data=_cb(InboxAction.TRANSFER, letter_id, box=key))
    builder.adjust(1)
    return _("Transfer letter #{id} to which mailbox?").format(id=letter_id), builder.as_markup()


async def on_transfer_note(
    message: Message, identity: Identity, mailbox: MailboxService, state: FSMContext
) -> None:
    data = await state.get_data()
    await mailbox.transfer(identity, int(data["letter_id"]), str(data["box"]), message.text or "")
    await state.clear()
    await message.answer(
        _("Letter #{id} was transferred to the {box}.").format(
            id=data["letter_id"], box=box_name(mailbox, str(data["box"]))
        )
    )


def create_router() -> Router:
    router = Router(name="mailbox_inbox")
    router.message.register(on_command, Command("inbox"))
    router.callback_query.register(on_menu, MenuCB.filter(F.action == MenuAction.INBOX))
    actions: dict[InboxAction, CallbackHandler] = {
        InboxAction.LIST: on_list,
        InboxAction.OPEN: on_open,
        InboxAction.FILES: on_files,
        InboxAction.REPLY: on_reply_button,
        InboxAction.ASK: on_reply_button,
        InboxAction.SEND: on_send,
        InboxAction.HANDLE: on_handle_button,
        InboxAction.TRANSFER: on_transfer_button,
    }
    register_actions(router, InboxCB, actions)
    router.message.register(on_answer_part, Answering.text)
    router.message.register(ask_for_text, Handling.outcome, WithoutText())
    router.message.register(on_outcome, Handling.outcome)
    router.message.register(ask_for_text, Transferring.note, WithoutText())
    router.message.register(on_transfer_note, Transferring.note)
    return router
