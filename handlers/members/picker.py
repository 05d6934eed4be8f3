"""Pick a member by buttons (department → person) wherever an officer would type an employee
id; the typed id stays as a fallback and is checked by the service."""

from __future__ import annotations

from aiogram import Router
from aiogram.types import CallbackQuery

from handlers.callbacks import MemberPickCB
from handlers.guards import role_router
from handlers.members.views import departments_view, member_card, members_view, roles_keyboard
from handlers.screen import Screen
from members.dto import Identity
from members.picker import MemberPicker
from members.service import MembershipService


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
