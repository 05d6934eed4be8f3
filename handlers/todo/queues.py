"""/todo: one screen of what waits for an officer, a handler or a mailbox recipient, with a
button per queue that lists its items (each opening the existing card). Also renders the
merged work notice ("3 proposals are waiting for review")."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, InlineKeyboardButton, Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from common.text import first_line
from handlers.callbacks import (
    ImprovementAction,
    ImprovementCB,
    InboxAction,
    InboxCB,
    MenuAction,
    MenuCB,
    TodoCB,
    TodoQueue,
)
from handlers.mailbox.views import box_name
from handlers.proposals.views import listing
from handlers.screen import Screen
from handlers.todo.views import todo_keyboard, todo_text
from mailboxes.service import MailboxService
from members.dto import Identity
from todo.service import TodoService


async def show_todo(screen: Screen, identity: Identity, todo: TodoService) -> None:
    items = await todo.todo(identity)
    await screen.show(todo_text(items), reply_markup=todo_keyboard(items))


async def on_todo_command(
    _message: Message, identity: Identity, todo: TodoService, screen: Screen
) -> None:
    await show_todo(screen, identity, todo)


async def on_todo_button(
    _callback: CallbackQuery, identity: Identity, todo: TodoService, screen: Screen
) -> None:
    await show_todo(screen, identity, todo)


async def on_queue(
    _callback: CallbackQuery,
    callback_data: TodoCB,
    identity: Identity,
    todo: TodoService,
    mailbox: MailboxService,
    screen: Screen,
) -> None:
    """One queue's items, each a button to its card. Computed again, so a forged button
    shows only what this person's own /todo holds."""
    items = await todo.todo(identity)
    queue = callback_data.queue
    proposals_of = {TodoQueue.REVIEW: items.to_review, TodoQueue.ASSIGN: items.to_assign}
    proposals_of[TodoQueue.DUE] = items.due
    if queue in proposals_of:
        found = proposals_of[queue] or []
        text, markup = listing(found, len(found), None)
        await screen.show(text, reply_markup=markup)
        return
    builder = InlineKeyboardBuilder()
    if queue is TodoQueue.LETTERS:
        for letter_id, box in (items.letters or [])[:20]:
            builder.row(
                InlineKeyboardButton(
                    text=_("Letter #{id} · {box}").format(id=letter_id, box=box_name(mailbox, box)),
                    callback_data=InboxCB(action=InboxAction.OPEN, letter_id=letter_id).pack(),
                )
            )
        title = _("Letters waiting for a first reply:")
    else:
        for action in items.actions[:20]:
            builder.row(
                InlineKeyboardButton(
                    text=f"#{action.id} {first_line(action.problem)} · {action.due_on.isoformat()}",
                    callback_data=ImprovementCB(
                        action=ImprovementAction.VIEW, action_id=action.id
                    ).pack(),
                )
            )
        title = _("My improvement actions due:")
    if not builder.buttons:
        await screen.show(_("Nothing is waiting here any more."))
        return
    await screen.show(title, reply_markup=builder.as_markup())


def create_router() -> Router:
    router = Router(name="todo")
    router.message.register(on_todo_command, Command("todo"))
    router.callback_query.register(on_todo_button, MenuCB.filter(F.action == MenuAction.TODO))
    router.callback_query.register(on_queue, TodoCB.filter())
    return router
