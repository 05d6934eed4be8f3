"""Outbox notices about registration and roles, rendered for the recipient."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiogram.utils.i18n import gettext as _
from aiogram.utils.text_decorations import html_decoration as html

from handlers.members.views import approval_keyboard, approval_text
from handlers.renderers import Rendered
from handlers.ui import main_menu_for_roles
from members import notifications
from members.roles import Role
from members.service import roster_from_params


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
