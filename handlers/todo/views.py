"""The to-do screen: counts per queue and their buttons."""

from __future__ import annotations

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder
from aiogram.utils.text_decorations import html_decoration as html

from handlers.callbacks import MenuAction, MenuCB, TodoCB, TodoQueue
from todo.service import Todo

ITEMS_SHOWN = 10  # buttons in one merged notice; the rest are one tap away in /todo


def todo_text(todo: Todo) -> str:
    lines = [_("<b>🗒 To do</b>")]
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
