"""The recipients' inbox: paged letters of their boxes, a letter with its conversation, reply,
ask a follow-up question, mark handled with an outcome, transfer to another box.

Every press re-checks in the service that the letter is in one of the presser's boxes; a
letter of another box answers exactly like one that does not exist.
"""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from common.errors import N_, DomainError
from handlers.callbacks import (
    InboxAction,
    InboxCB,
    InboxFilter,
    MenuAction,
    MenuCB,
)
from handlers.common import CallbackHandler, ask_for_text, register_actions, send_files
from handlers.filters import WithoutText
from handlers.mailbox.drafts import add_part
from handlers.mailbox.handling import (
    ask_about_letter,
    on_handle_button,
    on_outcome,
    on_transfer_button,
    on_transfer_note,
)
from handlers.mailbox.inbox_views import inbox_view, letter_keyboard, send_keyboard
from handlers.mailbox.states import Answering, Handling, Transferring
from handlers.mailbox.views import box_name, letter_text
from handlers.screen import Screen
from mailboxes.model import Draft
from mailboxes.service import MESSAGE_MAX, MailboxService
from members.dto import Identity


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


async def on_open(
    _callback: CallbackQuery,
    callback_data: InboxCB,
    identity: Identity,
    mailbox: MailboxService,
    screen: Screen,
) -> None:
    letter, thread = await mailbox.open_letter(identity, callback_data.letter_id)
    files = bool(letter.attachments or any(m.attachments for m in thread))
    text = letter_text(mailbox, letter, thread, mailbox.tz, for_recipient=True)
    await screen.show_long(text, letter_keyboard(letter, files, identity))


async def on_files(
    _callback: CallbackQuery,
    callback_data: InboxCB,
    identity: Identity,
    mailbox: MailboxService,
    screen: Screen,
) -> None:
    files = await mailbox.letter_files(identity, callback_data.letter_id)
    await send_files(screen, files)


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
    await ask_about_letter(
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
    await message.answer(reply, reply_markup=send_keyboard(int(data["letter_id"])))


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
