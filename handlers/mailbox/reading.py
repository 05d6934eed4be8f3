"""The sender reads their own letters: named and confidential ones from "My letters",
anonymous ones with the receipt code (the letter then comes from the in-memory session, never
from a button). Answering back and rating the handling."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command, CommandObject
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message, User
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from common.errors import N_, DomainError
from handlers.callbacks import MailboxAction, MailboxCB
from handlers.common import CallbackHandler, register_actions, send_files
from handlers.mailbox.drafts import add_part
from handlers.mailbox.states import InAnonymousSession
from handlers.mailbox.views import letter_summary, letter_text, mailbox_cb, reader_keyboard
from handlers.screen import Screen
from mailboxes.memory import AnonymousSession, AnonymousStore, Stage
from mailboxes.model import Draft, LetterDTO, LetterStatus, ThreadMessage
from mailboxes.service import MESSAGE_MAX, MailboxService
from members.dto import Identity


async def _show_own(
    screen: Screen,
    mailbox: MailboxService,
    letter: LetterDTO,
    thread: list[ThreadMessage],
    *,
    receipt: bool,
) -> None:
    text = letter_text(mailbox, letter, thread, mailbox.tz, for_recipient=False)
    await screen.show_long(text, reader_keyboard(letter, thread, receipt=receipt))


async def on_mine(
    _callback: CallbackQuery, identity: Identity, mailbox: MailboxService, screen: Screen
) -> None:
    letters = await mailbox.sent_letters(identity)
    if not letters:
        await screen.show(
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
            callback_data=mailbox_cb(MailboxAction.OPEN, letter_id=letter.id),
        )
    builder.adjust(1)
    await screen.show(
        _("Your letters (anonymous letters are not listed):"), reply_markup=builder.as_markup()
    )


async def on_open(
    _callback: CallbackQuery,
    callback_data: MailboxCB,
    identity: Identity,
    mailbox: MailboxService,
    screen: Screen,
) -> None:
    letter, thread = await mailbox.own_letter(identity, callback_data.letter_id)
    await _show_own(screen, mailbox, letter, thread, receipt=False)


async def on_follow(
    callback: CallbackQuery,
    callback_data: MailboxCB,
    identity: Identity,
    mailbox: MailboxService,
    state: FSMContext,
    anonymous_sessions: AnonymousStore,
    screen: Screen,
) -> None:
    letter, _thread = await mailbox.own_letter(identity, callback_data.letter_id)
    if letter.status is LetterStatus.HANDLED:
        raise DomainError(N_("This letter has been handled; you can rate the handling."))
    if await state.get_state() is not None:
        await state.clear()
    # In memory, not in the conversation state: that row sits under the sender's Telegram id
    # (for weeks if abandoned) and would point at a confidential letter.
    await anonymous_sessions.start(
        callback.from_user.id, AnonymousSession(Stage.OWN_FOLLOW_UP, letter_id=letter.id)
    )
    await screen.show(_("Send your message (text, a photo or a document)."))


async def on_follow_up(
    message: Message,
    identity: Identity,
    mailbox: MailboxService,
    anonymous: AnonymousSession,
    anonymous_sessions: AnonymousStore,
) -> None:
    draft = Draft()
    reply = add_part(message, draft, MESSAGE_MAX)
    assert anonymous.letter_id is not None
    await mailbox.follow_up(identity, anonymous.letter_id, draft)  # ownership checked again
    await anonymous_sessions.end(identity.telegram_id)
    await message.answer(_("Added to your letter. {detail}").format(detail=reply))


async def on_rate(
    _callback: CallbackQuery,
    callback_data: MailboxCB,
    identity: Identity,
    mailbox: MailboxService,
    screen: Screen,
) -> None:
    await mailbox.rate(callback_data.letter_id, callback_data.value, actor=identity)
    screen.notify(_("Thank you for your rating."), alert=True)


async def on_files(
    _callback: CallbackQuery,
    callback_data: MailboxCB,
    identity: Identity,
    mailbox: MailboxService,
    screen: Screen,
) -> None:
    letter, _thread = await mailbox.own_letter(identity, callback_data.letter_id)
    await send_files(screen, await mailbox.thread_files(letter.id))


async def on_receipt_command(
    message: Message,
    command: CommandObject,
    identity: Identity,
    mailbox: MailboxService,
    anonymous_sessions: AnonymousStore,
    screen: Screen,
) -> None:
    if not command.args:
        await anonymous_sessions.start(identity.telegram_id, AnonymousSession(Stage.CODE))
        await message.answer(_("Send your receipt code (20 digits)."))
        return
    await _open_with_code(
        message, screen, command.args, identity, mailbox, anonymous_sessions
    )


async def on_receipt_code(
    message: Message,
    identity: Identity,
    mailbox: MailboxService,
    anonymous_sessions: AnonymousStore,
    screen: Screen,
) -> None:
    await _open_with_code(
        message, screen, message.text or "", identity, mailbox, anonymous_sessions
    )


async def _open_with_code(
    _message: Message,
    screen: Screen,
    code: str,
    identity: Identity,
    mailbox: MailboxService,
    sessions: AnonymousStore,
) -> None:
    letter_id = await mailbox.open_receipt(identity, code)
    await sessions.start(identity.telegram_id, AnonymousSession(Stage.READING, letter_id=letter_id))
    letter, thread = await mailbox.receipt_letter(letter_id)
    await _show_own(screen, mailbox, letter, thread, receipt=True)


async def on_receipt_button(
    callback: CallbackQuery,
    callback_data: MailboxCB,
    mailbox: MailboxService,
    anonymous_sessions: AnonymousStore,
    screen: Screen,
) -> None:
    """Receipt actions: the letter comes from the session, never from the button."""
    session = await anonymous_sessions.get(callback.from_user.id)
    if callback_data.action is MailboxAction.RECEIPT_FOLLOW and (
        session is None or session.letter_id is None
    ):
        # From the mailbox menu ("I have a receipt code"), or a session that has expired.
        await anonymous_sessions.start(callback.from_user.id, AnonymousSession(Stage.CODE))
        await screen.show(_("Send your receipt code (20 digits)."))
        return
    if session is None or session.letter_id is None:
        raise DomainError(N_("Your receipt session has ended. Send /receipt and your code again."))
    letter_id = session.letter_id
    if callback_data.action is MailboxAction.RECEIPT_FOLLOW:
        session.stage = Stage.FOLLOW_UP
        await anonymous_sessions.save(callback.from_user.id, session)
        await screen.show(_("Send your message (text, a photo or a document)."))
    elif callback_data.action is MailboxAction.RECEIPT_RATE:
        await mailbox.rate(letter_id, callback_data.value)
        await screen.show(_("Thank you for your rating."))
    else:
        await send_files(screen, await mailbox.thread_files(letter_id))


async def on_receipt_follow_up(
    message: Message,
    event_from_user: User,
    mailbox: MailboxService,
    anonymous: AnonymousSession,
    anonymous_sessions: AnonymousStore,
) -> None:
    draft = Draft()
    reply = add_part(message, draft, MESSAGE_MAX)
    assert anonymous.letter_id is not None
    await mailbox.follow_up_anonymous(anonymous.letter_id, draft)
    anonymous.stage = Stage.READING
    await anonymous_sessions.save(event_from_user.id, anonymous)
    await message.answer(_("Added to your letter. {detail}").format(detail=reply))


def register(router: Router) -> None:
    """The reading handlers, on the mailbox's router (same filters and guards)."""
    router.message.register(on_receipt_command, Command("receipt"))
    actions: dict[MailboxAction, CallbackHandler] = {
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
    router.message.register(on_follow_up, InAnonymousSession(Stage.OWN_FOLLOW_UP))
    router.message.register(on_receipt_code, InAnonymousSession(Stage.CODE))
    router.message.register(on_receipt_follow_up, InAnonymousSession(Stage.FOLLOW_UP))
