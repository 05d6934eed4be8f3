"""View helpers shared by several features' screens: pure functions, no handlers here."""

from __future__ import annotations

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder
from aiogram.utils.text_decorations import html_decoration as html

from handlers.callbacks import MenuAction, MenuCB
from members.dto import Identity
from members.roles import Role, effective_roles


def main_menu(identity: Identity) -> InlineKeyboardMarkup:
    return main_menu_for_roles(identity.roles)


def main_menu_for_roles(roles: frozenset[Role]) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    entries = [
        (MenuAction.SURVEYS, _("📋 Surveys")),
        (MenuAction.PROPOSALS, _("💡 Proposals")),
        (MenuAction.MAILBOX, _("✉️ Mailbox")),
        (MenuAction.MINE, _("🗂 My data")),
        (MenuAction.LANGUAGE, _("🌐 Language")),
        (MenuAction.HELP, _("❓ Help")),
    ]
    held = effective_roles(roles)
    if Role.PRINCIPAL in held or Role.SECRETARY in held:
        entries.append((MenuAction.INBOX, _("📥 Mailbox inbox")))
    if held & {Role.OFFICER, Role.HANDLER, Role.PRINCIPAL, Role.SECRETARY}:
        # the people who act on things: what waits for them, and which notices they get
        entries += [(MenuAction.TODO, _("🗒 To do")), (MenuAction.SETTINGS, _("⚙️ Notices"))]
    if Role.OFFICER in held or Role.HANDLER in held:
        entries.append((MenuAction.PROPOSAL_QUEUE, _("🗳 Proposals to handle")))
    if Role.OFFICER in held:
        entries += [
            (MenuAction.APPROVALS, _("🛂 Registration requests")),
            (MenuAction.ROLES, _("👥 Roles")),
            (MenuAction.SURVEY_ADMIN, _("📊 Manage surveys")),
        ]
    for action, text in entries:
        builder.button(text=text, callback_data=MenuCB(action=action))
    builder.adjust(2)
    return builder.as_markup()


def menu_text(identity: Identity) -> str:
    name = identity.member.name if identity.member else ""
    return _("Hello, {name}! What would you like to do?").format(name=html.quote(name))


def menu_view(identity: Identity) -> tuple[str, InlineKeyboardMarkup]:
    return menu_text(identity), main_menu(identity)


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
