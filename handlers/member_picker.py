"""Pick a member by buttons (department → person) wherever an officer would type an employee
id; the typed id stays as a fallback and is checked by the service."""

from __future__ import annotations

from aiogram import Router
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder
from aiogram.utils.text_decorations import html_decoration as html

from bot.callbacks import MemberPickCB
from handlers.guards import role_router
from handlers.screen import Screen
from members.dto import Identity
from members.picker import DepartmentPage, MemberPicker
from members.service import MembershipService


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


async def on_pick(
    _callback: CallbackQuery,
    callback_data: MemberPickCB,
    identity: Identity,
    member_picker: MemberPicker,
    membership: MembershipService,
    screen: Screen,
) -> None:
    picker = member_picker
    if callback_data.member_id:
        # The roles screen belongs to officers.py, which imports this module.
        from handlers.officers import member_card, roles_keyboard

        member = await membership.get_member(identity, callback_data.member_id)
        await screen.show(
            member_card(member),
            reply_markup=roles_keyboard(member, membership.manageable_roles(identity)),
        )
        return
    if callback_data.department < 0:
        text, markup = departments_view(await picker.departments(identity))
    else:
        text, markup = members_view(
            await picker.members_of(identity, callback_data.department, callback_data.page)
        )
    await screen.show(text, reply_markup=markup)


def create_router() -> Router:
    router = role_router("member_picker")
    router.callback_query.register(on_pick, MemberPickCB.filter())
    return router
