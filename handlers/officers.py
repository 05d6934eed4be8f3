"""Officer actions: registration approvals and role changes. Guarded on every event."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiogram import F, Router
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder
from aiogram.utils.text_decorations import html_decoration as html

from bot.callbacks import ApprovalCB, MenuAction, MenuCB, RoleCB
from bot.filters import WithoutText
from bot.renderers import Rendered
from handlers.common import ask_for_text
from handlers.guards import role_router
from handlers.member_picker import departments_view
from handlers.menu import main_menu_for_roles
from handlers.screen import Screen
from members import notifications
from members.dto import Identity, MemberDTO, RosterEntry
from members.picker import MemberPicker
from members.roles import Role
from members.service import MembershipService, is_privileged, roster_from_params


class RoleEditing(StatesGroup):
    employee_id = State()


def role_names() -> dict[Role, str]:
    return {
        Role.MEMBER: _("member"),
        Role.REPRESENTATIVE: _("representative"),
        Role.OFFICER: _("officer"),
        Role.HANDLER: _("handler"),
        Role.PRINCIPAL: _("principal"),
        Role.SECRETARY: _("secretary"),
        Role.CHAIR: _("union chair"),
        Role.ADMIN: _("admin"),
    }


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


def render_registration_request(params: Mapping[str, Any]) -> Rendered:
    request_id = int(params["request_id"])
    roster = roster_from_params(params.get("roster"))
    return (
        approval_text(request_id, str(params["employee_id"]), str(params["name"]), roster),
        approval_keyboard(request_id, can_approve=roster is None or not roster.linked),
    )


def render_registration_approved(params: Mapping[str, Any]) -> Rendered:
    roles = frozenset(Role(r) for r in params["roles"])
    text = _("Your registration was approved. Welcome!") + "\n\n"
    text += _("Hello, {name}! What would you like to do?").format(name=html.quote(params["name"]))
    return text, main_menu_for_roles(roles)


def render_registration_rejected(_params: Mapping[str, Any]) -> Rendered:
    return (
        _(
            "Your registration request was not approved. If you think this is a mistake, "
            "please contact the union office."
        ),
        None,
    )


def render_registration_attempt(params: Mapping[str, Any]) -> Rendered:
    return (
        _(
            "⚠️ Someone just tried to register in this bot with your employee id "
            "{employee_id}. Your account stays linked and nothing changed. If this was not you, "
            "please tell the union office."
        ).format(employee_id=html.quote(str(params["employee_id"]))),
        None,
    )


def render_recipient_added(params: Mapping[str, Any]) -> Rendered:
    return (
        _(
            "🔔 <b>{name}</b> ({department}) now also receives the letters of {box}. If you did "
            "not expect this, please tell the union office."
        ).format(
            name=html.quote(str(params["name"])),
            department=html.quote(str(params["department"]) or "—"),
            box=html.quote(str(params["box"])),
        ),
        None,
    )


RENDERERS = {
    notifications.REGISTRATION_ATTEMPT: render_registration_attempt,
    notifications.RECIPIENT_ADDED: render_recipient_added,
    notifications.REGISTRATION_REQUEST: render_registration_request,
    notifications.REGISTRATION_APPROVED: render_registration_approved,
    notifications.REGISTRATION_REJECTED: render_registration_rejected,
}


def create_router() -> Router:
    router = role_router("officers")
    router.callback_query.register(on_approvals, MenuCB.filter(F.action == MenuAction.APPROVALS))
    router.callback_query.register(on_decision, ApprovalCB.filter())
    router.callback_query.register(on_roles_menu, MenuCB.filter(F.action == MenuAction.ROLES))
    router.callback_query.register(on_role_toggle, RoleCB.filter())
    router.message.register(ask_for_text, RoleEditing.employee_id, WithoutText())
    router.message.register(on_roles_employee_id, RoleEditing.employee_id)
    return router
