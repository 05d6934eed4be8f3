"""Outbox notices of surveys: invitations and reminders."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder
from aiogram.utils.text_decorations import html_decoration as html

from handlers.callbacks import SurveyAction, SurveyCB
from handlers.renderers import Rendered
from handlers.surveys.views import anonymity_note, current_locale
from surveys.definition import Text
from surveys.notifications import SURVEY_INVITATION, SURVEY_REMINDER


def render_invitation(params: Mapping[str, Any], *, reminder: bool = False) -> Rendered:
    locale = current_locale()
    title = Text(params["title"]).get(locale)
    lines = [
        _("⏰ Reminder: you have not finished this survey yet.")
        if reminder
        else _("📋 You are invited to a union survey."),
        f"<b>{html.quote(title)}</b>",
        anonymity_note(bool(params["anonymous"])),
    ]
    if params.get("closes"):
        lines.append(_("Open until {time}.").format(time=params["closes"]))
    builder = InlineKeyboardBuilder()
    builder.button(
        text=_("▶️ Start"),
        callback_data=SurveyCB(action=SurveyAction.INTRO, survey_id=int(params["survey_id"])),
    )
    return "\n".join(lines), builder.as_markup()


RENDERERS = {
    SURVEY_INVITATION: render_invitation,
    SURVEY_REMINDER: lambda params: render_invitation(params, reminder=True),
}
