"""Screens of registration, the menu, approvals, roles and notice settings: pure
functions from data to text and keyboard."""

from __future__ import annotations

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder
from aiogram.utils.text_decorations import html_decoration as html

from handlers.callbacks import (
    ApprovalCB,
    ConsentCB,
    LanguageCB,
    MemberPickCB,
    NoticeCB,
    RoleCB,
)
from handlers.ui import role_names
from members.dto import MemberDTO, RosterEntry
from members.picker import DepartmentPage
from members.roles import Role
from members.service import (
    is_privileged,
)
from todo.notices import KIND_LABELS, NoticeKind


def privacy_notice() -> str:
    return _(
        "<b>Before you register</b>\n\n"
        "<b>What we store:</b> your employee id, name and department from the union roster, "
        "your Telegram id, your language and what you submit in this bot.\n"
        "<b>Why:</b> to make sure only union members take part, and to answer you.\n"
        "<b>Who sees it:</b> union officers see your name and department. Anonymous surveys "
        "and anonymous letters are never linked to you. Nothing is shared outside the union.\n"
        "<b>How long:</b> sent notices 30 days, handled letters 2 years, free-text survey "
        "answers 3 years; then they are deleted.\n"
        "<b>Your rights:</b> /mydata shows everything the bot holds about you, lets you "
        "download it and ask for it to be deleted.\n\n"
        "Do you agree?"
    )


def consent_keyboard() -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(text=_("✅ I agree"), callback_data=ConsentCB(accept=True))
    builder.button(text=_("Decline"), callback_data=ConsentCB(accept=False))
    return builder.as_markup()


LANGUAGE_NAMES = {"zh": "中文", "en": "English"}


def help_text() -> str:
    return _(
        "<b>UnionVoice</b> is the union's bot.\n"
        "• Surveys: answer union questionnaires.\n"
        "• Proposals: file a proposal or co-sign one.\n"
        "• Mailbox: write to the principal or the party secretary, "
        "named, confidential or anonymous (/mailbox); /receipt with your code shows the "
        "replies to an anonymous letter.\n"
        "• My data: /mydata shows what the bot holds about you, as a file too, and lets you "
        "ask for it to be deleted.\n"
        "• For recipients and officers: /inbox — the mailbox's letters, /digest — the weekly "
        "digest, /actions — improvement actions, /todo — everything waiting for you, "
        "/settings — which notices you get.\n\n"
        "Commands: /menu — main menu, /lang — language, /help — this help, "
        "/start — register."
    )


def language_keyboard() -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for code, name in LANGUAGE_NAMES.items():
        builder.button(text=name, callback_data=LanguageCB(locale=code))
    return builder.as_markup()


def approval_text(request_id: int, employee_id: str, name: str, roster: RosterEntry | None) -> str:
    """The request as an approver sees it: what the person typed and what the row would bring."""
    text = _(
        "<b>Registration request #{id}</b>\nEmployee id: {employee_id}\nName given: {name}"
    ).format(id=request_id, employee_id=html.quote(employee_id), name=html.quote(name))
    if roster is None:
        return text + "\n" + _("This employee id is not on the roster. Let them in?")
    names = role_names()
    roles = "、".join(names[r] for r in Role if r in roster.roles) or "—"
    text += "\n" + _(
        "On the roster: <b>{name}</b>, <b>{department}</b>\nRoles: <b>{roles}</b>"
    ).format(
        name=html.quote(roster.name), department=html.quote(roster.department or "—"), roles=roles
    )
    if roster.linked:
        return (
            text
            + "\n\n"
            + _(
                "⚠️ This roster entry is already linked to another Telegram account; its owner was "
                "told of this attempt. It cannot be approved."
            )
        )
    if is_privileged(roster.roles):
        text += "\n\n" + _("⚠️ These roles can be approved by an admin only.")
    return text + "\n" + _("Let them in?")


def approval_keyboard(request_id: int, *, can_approve: bool = True) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    if can_approve:
        builder.button(
            text=_("✅ Approve"), callback_data=ApprovalCB(request_id=request_id, approve=True)
        )
    builder.button(
        text=_("❌ Reject"), callback_data=ApprovalCB(request_id=request_id, approve=False)
    )
    return builder.as_markup()


def member_card(member: MemberDTO) -> str:
    names = role_names()
    roles = "、".join(names[r] for r in Role if r in member.roles) or "—"
    return _(
        "<b>{name}</b> ({employee_id})\nDepartment: {department}\nRoles: {roles}\n"
        "Registered in the bot: {registered}\n\nTap a role to grant or revoke it."
    ).format(
        name=html.quote(member.name),
        employee_id=html.quote(member.employee_id),
        department=html.quote(member.department or "—"),
        roles=roles,
        registered=_("yes") if member.telegram_id else _("no"),
    )


def roles_keyboard(member: MemberDTO, manageable: tuple[Role, ...]) -> InlineKeyboardMarkup:
    """Only the roles this officer may change: recipient roles and admin are an admin's."""
    builder = InlineKeyboardBuilder()
    for role, name in role_names().items():
        if role not in manageable:
            continue
        mark = "☑️" if role in member.roles else "⬜️"
        builder.button(text=f"{mark} {name}", callback_data=RoleCB(member_id=member.id, role=role))
    builder.adjust(2)
    return builder.as_markup()


def departments_view(departments: list[str]) -> tuple[str, InlineKeyboardMarkup]:
    builder = InlineKeyboardBuilder()
    for index, name in enumerate(departments):
        builder.button(text=name, callback_data=MemberPickCB(department=index))
    builder.adjust(2)
    text = _("Choose the member's department, or send their employee id.")
    return text, builder.as_markup()


def members_view(found: DepartmentPage) -> tuple[str, InlineKeyboardMarkup]:
    builder = InlineKeyboardBuilder()
    for member in found.members:
        builder.row(
            InlineKeyboardButton(
                text=f"{member.name} ({member.employee_id})",
                callback_data=MemberPickCB(department=found.index, member_id=member.id).pack(),
            )
        )
    navigation = []
    if found.page > 0:
        navigation.append(
            InlineKeyboardButton(
                text="⬅️",
                callback_data=MemberPickCB(department=found.index, page=found.page - 1).pack(),
            )
        )
    if found.page + 1 < found.pages:
        navigation.append(
            InlineKeyboardButton(
                text="➡️",
                callback_data=MemberPickCB(department=found.index, page=found.page + 1).pack(),
            )
        )
    if navigation:
        builder.row(*navigation)
    builder.row(InlineKeyboardButton(text=_("↩️ Departments"), callback_data=MemberPickCB().pack()))
    return _("Members of {department}:").format(
        department=html.quote(found.department)
    ), builder.as_markup()


def settings_view(choices: list[tuple[NoticeKind, bool]]) -> tuple[str, InlineKeyboardMarkup]:
    if not choices:
        return _("There are no work notices to set for you."), InlineKeyboardBuilder().as_markup()
    text = _(
        "<b>⚙️ Notices</b>\nTap a kind to turn it on or off. 🔔 on, 🔕 muted: muted notices "
        "are not sent; /todo still shows everything waiting."
    )
    builder = InlineKeyboardBuilder()
    for kind, muted in choices:
        mark = "🔕" if muted else "🔔"
        builder.button(text=f"{mark} {_(KIND_LABELS[kind])}", callback_data=NoticeCB(kind=kind))
    builder.adjust(1)
    return text, builder.as_markup()
