"""The scheduling screens: opening and closing times, reminders, audience, summary."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder
from aiogram.utils.text_decorations import html_decoration as html

from handlers.callbacks import ScheduleAction, ScheduleCB
from handlers.surveys.admin_views import locale
from handlers.ui import role_names
from members.roles import Role
from surveys import schedule
from surveys.service import SurveyInfo


def _weekday(moment: datetime) -> str:
    names = (
        _("Monday"),
        _("Tuesday"),
        _("Wednesday"),
        _("Thursday"),
        _("Friday"),
        _("Saturday"),
        _("Sunday"),
    )
    return names[moment.weekday()]


def when_text(moment: datetime, tz: ZoneInfo) -> str:
    local = moment.astimezone(tz)
    return f"{_weekday(local)} {local:%Y-%m-%d %H:%M}"


def _cancel_row(builder: InlineKeyboardBuilder, survey_id: int) -> None:
    builder.button(
        text=_("✖️ Cancel"),
        callback_data=ScheduleCB(action=ScheduleAction.CANCEL, survey_id=survey_id),
    )


def opens_view(survey: SurveyInfo, now: datetime, tz: ZoneInfo) -> tuple[str, InlineKeyboardMarkup]:
    builder = InlineKeyboardBuilder()
    for value, text in (
        (0, _("▶️ Now")),
        (1, _("Tomorrow 08:00")),
        (2, _("Next Monday 08:00")),
    ):
        builder.button(
            text=text,
            callback_data=ScheduleCB(action=ScheduleAction.OPENS, survey_id=survey.id, value=value),
        )
    _cancel_row(builder, survey.id)
    builder.adjust(1, 2, 1)
    example = schedule.next_monday_morning(now, tz)
    return _(
        "🗓 When should “{title}” open?\nOr type a time ({zone}), for example {example}."
    ).format(
        title=html.quote(survey.definition.title.get(locale())),
        zone=tz.key,
        example=f"{example:%Y-%m-%d %H:%M}",
    ), builder.as_markup()


def closes_view(survey_id: int, tz: ZoneInfo) -> tuple[str, InlineKeyboardMarkup]:
    builder = InlineKeyboardBuilder()
    for days, text in zip(
        schedule.CLOSING_DAYS, (_("In 3 days"), _("In a week"), _("In two weeks")), strict=True
    ):
        builder.button(
            text=text,
            callback_data=ScheduleCB(action=ScheduleAction.CLOSES, survey_id=survey_id, value=days),
        )
    builder.button(
        text=_("No closing time"),
        callback_data=ScheduleCB(action=ScheduleAction.CLOSES, survey_id=survey_id, value=0),
    )
    _cancel_row(builder, survey_id)
    builder.adjust(3, 1, 1)
    return _(
        "When should it close? (at 18:00 after the days chosen)\n"
        "Or type a time ({zone}), for example 12-14 18:00."
    ).format(zone=tz.key), builder.as_markup()


def reminders_view(survey_id: int) -> tuple[str, InlineKeyboardMarkup]:
    builder = InlineKeyboardBuilder()
    builder.button(
        text=_("⏰ 1 day and 3 hours before closing"),
        callback_data=ScheduleCB(action=ScheduleAction.REMINDERS, survey_id=survey_id, value=1),
    )
    builder.button(
        text=_("🔕 No reminders"),
        callback_data=ScheduleCB(action=ScheduleAction.REMINDERS, survey_id=survey_id, value=0),
    )
    _cancel_row(builder, survey_id)
    builder.adjust(1)
    return _("Remind those who have not finished?"), builder.as_markup()


def audience_view(survey_id: int) -> tuple[str, InlineKeyboardMarkup]:
    builder = InlineKeyboardBuilder()
    for value, text in ((0, _("👥 Everyone")), (1, _("By role")), (2, _("By department"))):
        builder.button(
            text=text,
            callback_data=ScheduleCB(
                action=ScheduleAction.AUDIENCE, survey_id=survey_id, value=value
            ),
        )
    _cancel_row(builder, survey_id)
    builder.adjust(1, 2, 1)
    return _("Who should be invited?"), builder.as_markup()


def choices_keyboard(
    survey_id: int, action: ScheduleAction, names: list[str], chosen: set[str], labels: list[str]
) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for index, (name, label) in enumerate(zip(names, labels, strict=True)):
        mark = "☑️" if name in chosen else "⬜️"
        builder.button(
            text=f"{mark} {label}",
            callback_data=ScheduleCB(action=action, survey_id=survey_id, value=index),
        )
    builder.button(
        text=_("✅ Done"),
        callback_data=ScheduleCB(action=ScheduleAction.AUDIENCE_DONE, survey_id=survey_id),
    )
    builder.adjust(*([2] * ((len(names) + 1) // 2)), 1)
    return builder.as_markup()


def summary_view(
    survey: SurveyInfo, plan: dict[str, Any], count: int, tz: ZoneInfo
) -> tuple[str, InlineKeyboardMarkup]:
    """The plan on one screen before the officer confirms; `count`: members invited."""
    opens = moment_of(plan.get("opens"))
    closes = moment_of(plan.get("closes"))
    audience = tuple(plan.get("audience") or ["all"])
    names = role_names()
    who = (
        _("everyone")
        if "all" in audience
        else "、".join(names[Role(a)] if a in set(Role) else a for a in audience)
    )
    when = _("now") if opens is None else when_text(opens, tz)
    reminders = (
        _("reminders 1 day and 3 hours before closing")
        if plan.get("reminders") and closes
        else _("no reminders")
    )
    lines = [
        f"<b>{html.quote(survey.definition.title.get(locale()))}</b>",
        _("Opens {when} to {count} members; {reminders}.").format(
            when=when, count=count, reminders=reminders
        ),
        _("Closes: {when}").format(when=when_text(closes, tz)) if closes else _("No closing time"),
        _("Audience: {who}").format(who=html.quote(who)),
    ]
    builder = InlineKeyboardBuilder()
    confirm = _("✅ Open now") if opens is None else _("✅ Confirm")
    for text, action in (
        (confirm, ScheduleAction.CONFIRM),
        (_("↩️ Start over"), ScheduleAction.RESTART),
        (_("✖️ Cancel"), ScheduleAction.CANCEL),
    ):
        builder.button(text=text, callback_data=ScheduleCB(action=action, survey_id=survey.id))
    builder.adjust(1, 2)
    return "\n".join(lines), builder.as_markup()


def moment_of(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) else None
