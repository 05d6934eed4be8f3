"""Officer actions: registration approvals and role changes. Guarded on every event."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from handlers.callbacks import ApprovalCB, MenuAction, MenuCB, RoleCB
from handlers.common import ask_for_text
from handlers.filters import WithoutText
from handlers.guards import role_router
from handlers.members.states import RoleEditing
from handlers.members.views import (
    approval_keyboard,
    approval_text,
    departments_view,
    member_card,
    roles_keyboard,
)
from handlers.screen import Screen
from members.dto import Identity
from members.picker import MemberPicker
from members.service import MembershipService


async def on_approvals(
    _callback: CallbackQuery,
    identity: Identity,
    membership: MembershipService,
    screen: Screen,
) -> None:
    pending = await membership.pending_requests(identity)
    if not pending:
        await screen.show(_("There are no registration requests waiting."))
        return
    for item in pending[:20]:
        request = item.request
        await screen.show(
            approval_text(request.id, request.employee_id, request.name, item.roster),
            reply_markup=approval_keyboard(
                request.id, can_approve=item.roster is None or not item.roster.linked
            ),
        )


async def on_decision(
    _callback: CallbackQuery,
    callback_data: ApprovalCB,
    identity: Identity,
    membership: MembershipService,
    screen: Screen,
) -> None:
    decision = await membership.decide(identity, callback_data.request_id, callback_data.approve)
    request = decision.request
    verdict = _("approved") if decision.approved else _("rejected")
    screen.notify(_("Request #{id} {verdict}.").format(id=request.id, verdict=verdict))
    await screen.edit(
        approval_text(request.id, request.employee_id, request.name, decision.roster)
        + "\n\n"
        + _("Decision: {verdict}.").format(verdict=verdict)
    )


async def on_roles_menu(
    _callback: CallbackQuery,
    state: FSMContext,
    identity: Identity,
    member_picker: MemberPicker,
    screen: Screen,
) -> None:
    await state.set_state(RoleEditing.employee_id)  # a typed employee id still works
    await screen.show(*departments_view(await member_picker.departments(identity)))


async def on_roles_employee_id(
    message: Message, state: FSMContext, identity: Identity, membership: MembershipService
) -> None:
    member = await membership.find_member(identity, message.text or "")
    await state.set_state(None)
    await message.answer(
        member_card(member),
        reply_markup=roles_keyboard(member, membership.manageable_roles(identity)),
    )


async def on_role_toggle(
    _callback: CallbackQuery,
    callback_data: RoleCB,
    identity: Identity,
    membership: MembershipService,
    screen: Screen,
) -> None:
    member = await membership.toggle_role(identity, callback_data.member_id, callback_data.role)
    screen.notify(_("Roles updated."))
    await screen.edit(
        member_card(member),
        reply_markup=roles_keyboard(member, membership.manageable_roles(identity)),
    )


def create_router() -> Router:
    router = role_router("officers")
    router.callback_query.register(on_approvals, MenuCB.filter(F.action == MenuAction.APPROVALS))
    router.callback_query.register(on_decision, ApprovalCB.filter())
    router.callback_query.register(on_roles_menu, MenuCB.filter(F.action == MenuAction.ROLES))
    router.callback_query.register(on_role_toggle, RoleCB.filter())
    router.message.register(ask_for_text, RoleEditing.employee_id, WithoutText())
    router.message.register(on_roles_employee_id, RoleEditing.employee_id)
    return router
