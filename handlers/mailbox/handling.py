"""Marking a letter handled (with its outcome) and transferring it to another mailbox;
registered by the inbox router."""

from __future__ import annotations

from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from common.errors import N_, DomainError
from handlers.callbacks import (
    InboxCB,
)
from handlers.mailbox.inbox_views import transfer_view
from handlers.mailbox.states import Handling, Transferring
from handlers.mailbox.views import box_name
from handlers.screen import Screen
from mailboxes.model import LetterStatus
from mailboxes.service import MailboxService
from members.dto import Identity


async def ask_about_letter(
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


async def on_handle_button(
    _callback: CallbackQuery,
    callback_data: InboxCB,
    identity: Identity,
    mailbox: MailboxService,
    state: FSMContext,
    screen: Screen,
) -> None:
    prompt = _("What was the outcome? Send one message; the sender will read it and rate it.")
    await ask_about_letter(
        screen, callback_data.letter_id, identity, mailbox, state, Handling.outcome, prompt
    )


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
