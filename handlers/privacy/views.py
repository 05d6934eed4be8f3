"""What /mydata shows: pure functions from the member's data to text and keyboard."""

from __future__ import annotations

from typing import Any

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder
from aiogram.utils.text_decorations import html_decoration as html

from handlers.callbacks import DataAction, DataCB


def overview(data: dict[str, Any]) -> str:
    profile = data["profile"] or {}
    surveys = data["surveys"]
    named_answers = sum(1 for s in surveys if not s["anonymous"] and s["answers"])
    letters = data["letters"]
    lines = [
        _("<b>What the bot holds about you</b>"),
        "",
        _("<b>Profile:</b> {name}, employee id {employee_id}, {department}").format(
            name=html.quote(str(profile.get("name"))),
            employee_id=html.quote(str(profile.get("employee_id"))),
            department=html.quote(str(profile.get("department"))),
        ),
        _("Roles: {roles}; language: {language}; Telegram id: {telegram_id}").format(
            roles=", ".join(profile.get("roles") or []) or "—",
            language=profile.get("language") or "—",
            telegram_id=profile.get("telegram_id"),
        ),
        _("Consent: version {version}, given {when}").format(
            version=profile.get("consent_version"), when=(profile.get("consented_at") or "—")[:16]
        ),
        _("<b>Surveys:</b> invited to {invited}, your named answers in {named}").format(
            invited=len(surveys), named=named_answers
        ),
        _("<b>Proposals:</b> {own} filed, {cosigned} co-signed").format(
            own=len(data["proposals"]), cosigned=len(data["cosigned_proposals"])
        ),
        _("<b>Letters:</b> {named} named, {confidential} confidential").format(
            named=sum(1 for letter in letters if letter["mode"] == "named"),
            confidential=sum(1 for letter in letters if letter["mode"] == "confidential"),
        ),
        _("<b>Notices sent to you:</b> {count} (kept 30 days)").format(
            count=len(data["notifications"])
        ),
        "",
        _(
            "Not listed: your anonymous survey answers and anonymous letters. Nothing in the "
            "database links them to you, so the bot cannot find them either."
        ),
    ]
    return "\n".join(lines)


def mydata_keyboard() -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(text=_("⬇️ Download JSON"), callback_data=DataCB(action=DataAction.JSON))
    builder.button(text=_("⬇️ Download XLSX"), callback_data=DataCB(action=DataAction.XLSX))
    builder.button(text=_("🗑 Delete my data"), callback_data=DataCB(action=DataAction.ERASE))
    builder.adjust(2, 1)
    return builder.as_markup()
