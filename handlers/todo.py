"""/todo: one screen of what waits for an officer, a handler or a mailbox recipient, with a
button per queue that lists its items (each opening the existing card). Also renders the
merged work notice ("3 proposals are waiting for review")."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder
from aiogram.utils.text_decorations import html_decoration as html

from bot.callbacks import (
    ImprovementAction,
    ImprovementCB,
    InboxAction,
    InboxCB,
    MenuAction,
    MenuCB,
    ProposalAction,
    ProposalCB,
    TodoCB,
    TodoQueue,
)
from bot.renderers import Rendered
from common.text import first_line
from handlers.mailbox_views import box_name
from handlers.proposal_browse import listing
from handlers.screen import Screen
from improvements import notifications as improvements
from mailboxes import notifications as mailbox_templates
from mailboxes.service import MailboxService
from members.dto import Identity
from proposals import notifications as proposals
from todo.notices import NOTICE_BATCH
from todo.service import Todo, TodoService

ITEMS_SHOWN = 10  # buttons in one merged notice; the rest are one tap away in /todo


def todo_text(todo: Todo) -> str:
    lines = [_("<b>📋 To do</b>")]
    if todo.registrations is not None:
        lines.append(_("Registration requests waiting: {n}").format(n=todo.registrations))
    if todo.to_review is not None:
        lines.append(_("Proposals to review: {n}").format(n=len(todo.to_review)))
    if todo.to_assign is not None:
        lines.append(_("Proposals to assign: {n}").format(n=len(todo.to_assign)))
    if todo.due is not None:
        overdue = sum(1 for p in todo.due if p.due_on is not None and p.due_on < todo.today)
        if todo.department is not None:
            line = _("Proposals of {department} due soon or overdue: {n} ({overdue} overdue)")
        else:
            line = _("Assigned proposals due soon or overdue: {n} ({overdue} overdue)")
        lines.append(
            line.format(
                department=html.quote(todo.department or ""), n=len(todo.due), overdue=overdue
            )
        )
    if todo.letters is not None:
        lines.append(_("Letters waiting for a first reply: {n}").format(n=len(todo.letters)))
    if todo.actions or todo.registrations is not None or todo.due is not None:
        lines.append(_("My improvement actions due: {n}").format(n=len(todo.actions)))
    if todo.total == 0:
        lines.append(_("Nothing is waiting for you. 🎉"))
    return "\n".join(lines)


def todo_keyboard(todo: Todo) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    if todo.registrations:
        builder.button(
            text=_("🛂 Registrations ({n})").format(n=todo.registrations),
            callback_data=MenuCB(action=MenuAction.APPROVALS),
        )
    queues = [
        (TodoQueue.REVIEW, todo.to_review, _("🔍 Review ({n})")),
        (TodoQueue.ASSIGN, todo.to_assign, _("📌 Assign ({n})")),
        (TodoQueue.DUE, todo.due, _("⏰ Due ({n})")),
        (TodoQueue.LETTERS, todo.letters, _("✉️ Letters ({n})")),
        (TodoQueue.ACTIONS, todo.actions, _("🛠 Actions ({n})")),
    ]
    for queue, items, text in queues:
        if items:
            builder.button(text=text.format(n=len(items)), callback_data=TodoCB(queue=queue))
    builder.adjust(2)
    return builder.as_markup()


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


# -- the merged work notice -----------------------------------------------------------------------
def _proposal_item(params: Mapping[str, Any]) -> tuple[str, str]:
    return f"#{params['proposal_id']} {first_line(str(params.get('title') or ''))}", ProposalCB(
        action=ProposalAction.VIEW, proposal_id=int(params["proposal_id"])
    ).pack()


def _letter_item(params: Mapping[str, Any]) -> tuple[str, str]:
    return _("Letter #{id} · {box}").format(id=params["letter_id"], box=params["box"]), InboxCB(
        action=InboxAction.OPEN, letter_id=int(params["letter_id"])
    ).pack()


def _action_item(params: Mapping[str, Any]) -> tuple[str, str]:
    return f"#{params['action_id']} {first_line(str(params.get('problem') or ''))}", ImprovementCB(
        action=ImprovementAction.VIEW, action_id=int(params["action_id"])
    ).pack()


def _batch_kinds() -> dict[str, tuple[str, Callable[[Mapping[str, Any]], tuple[str, str]]]]:
    """Template → (headline with {n}, item button). Built per call: _() needs the locale."""
    return {
        proposals.PROPOSAL_REVIEW: (
            _("📥 {n} proposals are waiting for review."),
            _proposal_item,
        ),
        proposals.PROPOSAL_DUE_SOON: (
            _("⏰ {n} proposals of your department are due soon."),
            _proposal_item,
        ),
        proposals.PROPOSAL_OVERDUE: (
            _("⚠️ {n} proposals are past their answer date."),
            _proposal_item,
        ),
        mailbox_templates.LETTER_OVERDUE: (
            _("⏰ {n} letters are still waiting for a first reply."),
            _letter_item,
        ),
        improvements.IMPROVEMENT_DUE_SOON: (
            _("⏰ {n} improvement actions are due soon."),
            _action_item,
        ),
        improvements.IMPROVEMENT_OVERDUE: (
            _("⚠️ {n} improvement actions are overdue."),
            _action_item,
        ),
    }


def render_batch(params: Mapping[str, Any]) -> Rendered:
    headline, item = _batch_kinds()[str(params["template"])]
    items = list(params["items"])
    builder = InlineKeyboardBuilder()
    for one in items[:ITEMS_SHOWN]:
        text, data = item(one)
        builder.row(InlineKeyboardButton(text=text, callback_data=data))
    builder.row(
        InlineKeyboardButton(
            text=_("📋 To do"), callback_data=MenuCB(action=MenuAction.TODO).pack()
        )
    )
    return headline.format(n=len(items)), builder.as_markup()


RENDERERS = {NOTICE_BATCH: render_batch}


def create_router() -> Router:
    router = Router(name="todo")
    router.message.register(on_todo_command, Command("todo"))
    router.callback_query.register(on_todo_button, MenuCB.filter(F.action == MenuAction.TODO))
    router.callback_query.register(on_queue, TodoCB.filter())
    return router
