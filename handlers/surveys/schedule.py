"""🗓 Scheduling a draft in chat: opening and closing times (buttons, or typed in the union's
time zone), reminders, the audience (roles or departments of the roster, as buttons), and a
one-screen summary before the officer confirms. Buttons carry indices, never names."""

from __future__ import annotations

from typing import Any

from aiogram import F, Router
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from handlers.callbacks import DraftAction, DraftCB, ScheduleAction, ScheduleCB
from handlers.common import ask_for_text
from handlers.filters import WithoutText
from handlers.guards import role_router
from handlers.screen import Screen
from handlers.surveys.admin_views import locale, survey_card
from handlers.surveys.schedule_views import (
    audience_view,
    choices_keyboard,
    closes_view,
    moment_of,
    opens_view,
    reminders_view,
    summary_view,
    when_text,
)
from handlers.surveys.states import DraftStates
from handlers.ui import role_names
from members.dto import Identity
from storage.uow import Repositories
from surveys import schedule
from surveys.drafts import SurveyDrafts
from surveys.service import SurveyInfo, SurveyService


async def _plan(state: FSMContext, survey_id: int) -> dict[str, Any] | None:
    data = await state.get_data()
    plan = data.get("plan")
    if not isinstance(plan, dict) or plan.get("survey_id") != survey_id:
        return None
    return plan


async def on_schedule(
    _callback: CallbackQuery,
    callback_data: DraftCB,
    state: FSMContext,
    surveys: SurveyService,
    survey_drafts: SurveyDrafts,
    screen: Screen,
) -> None:
    survey = await surveys.get(callback_data.survey_id)
    if survey.status != "draft":
        await screen.show(_("Only a draft can be changed here."))
        return
    await state.set_state(DraftStates.opens)
    await state.set_data({"plan": {"survey_id": survey.id, "audience": []}})
    await screen.show(*opens_view(survey, survey_drafts.now(), survey_drafts.timezone))


async def _choices(drafts: SurveyDrafts, action: ScheduleAction) -> tuple[list[str], list[str]]:
    """(audience values, button labels) for roles or departments, in a stable order."""
    departments, roles = await drafts.audience_choices()
    if action is ScheduleAction.ROLE:
        names = role_names()
        return [r.value for r in roles], [names[r] for r in roles]
    return departments, departments


async def _summary(
    screen: Screen, survey: SurveyInfo, plan: dict[str, Any], drafts: SurveyDrafts
) -> None:
    count = await drafts.audience_size(tuple(plan.get("audience") or ["all"]))
    await screen.show(*summary_view(survey, plan, count, drafts.timezone))


async def on_schedule_button(
    callback: CallbackQuery,
    callback_data: ScheduleCB,
    state: FSMContext,
    surveys: SurveyService,
    survey_drafts: SurveyDrafts,
    identity: Identity,
    repos: Repositories,
    screen: Screen,
) -> None:
    data, action = callback_data, callback_data.action
    plan = await _plan(state, data.survey_id)
    if plan is None:
        screen.notify(_("This button is no longer valid."), alert=True)
        return
    survey = await surveys.get(data.survey_id)
    drafts, tz = survey_drafts, survey_drafts.timezone
    if action is ScheduleAction.CONFIRM:
        await _confirm(callback, state, survey, plan, drafts, identity, repos, screen)
        return
    if action is ScheduleAction.ROLE or action is ScheduleAction.DEPARTMENT:
        names, labels = await _choices(drafts, action)
        if not 0 <= data.value < len(names):
            screen.notify(_("This button is no longer valid."), alert=True)
            return
        chosen = set(plan["audience"]) ^ {names[data.value]}
        plan["audience"] = sorted(chosen)
        await state.update_data(plan=plan)
        await screen.edit_buttons(choices_keyboard(survey.id, action, names, chosen, labels))
        return
    if action is ScheduleAction.AUDIENCE_DONE and not plan["audience"]:
        screen.notify(_("Choose at least one."), alert=True)
        return
    now = drafts.now()
    if action is ScheduleAction.CANCEL:
        await state.clear()
        await screen.show(_("Scheduling cancelled; nothing was changed."))
    elif action is ScheduleAction.RESTART:
        await state.set_state(DraftStates.opens)
        await state.set_data({"plan": {"survey_id": survey.id, "audience": []}})
        await screen.show(*opens_view(survey, drafts.now(), tz))
    elif action is ScheduleAction.OPENS:
        presets = {
            0: None,
            1: schedule.tomorrow_morning(now, tz),
            2: schedule.next_monday_morning(now, tz),
        }
        opens = presets.get(data.value)
        plan["opens"] = opens.isoformat() if opens else None
        await state.set_state(DraftStates.closes)
        await state.update_data(plan=plan)
        await screen.show(*closes_view(survey.id, tz))
    elif action is ScheduleAction.CLOSES:
        closes = (
            schedule.closing_after(data.value, moment_of(plan.get("opens")), now, tz)
            if data.value in schedule.CLOSING_DAYS
            else None
        )
        plan["closes"] = closes.isoformat() if closes else None
        await state.set_state(DraftStates.scheduling)
        await state.update_data(plan=plan)
        if closes:
            await screen.show(*reminders_view(survey.id))
        else:
            await screen.show(*audience_view(survey.id))
    elif action is ScheduleAction.REMINDERS:
        plan["reminders"] = bool(data.value)
        await state.update_data(plan=plan)
        await screen.show(*audience_view(survey.id))
    elif action is ScheduleAction.AUDIENCE:
        if data.value == 0:
            plan["audience"] = ["all"]
            await state.update_data(plan=plan)
            await _summary(screen, survey, plan, drafts)
            return
        kind = ScheduleAction.ROLE if data.value == 1 else ScheduleAction.DEPARTMENT
        plan["audience"] = []
        await state.update_data(plan=plan)
        names, labels = await _choices(drafts, kind)
        if not names:
            await screen.show(_("The roster has none yet."))
            await screen.show(*audience_view(survey.id))
            return
        await screen.show(
            _("Tick who should be invited, then tap “Done”."),
            reply_markup=choices_keyboard(survey.id, kind, names, set(), labels),
        )
    else:  # AUDIENCE_DONE
        await _summary(screen, survey, plan, drafts)


async def on_typed_time(
    message: Message,
    state: FSMContext,
    survey_drafts: SurveyDrafts,
    screen: Screen,
) -> None:
    plan = (await state.get_data()).get("plan")
    if not isinstance(plan, dict):
        await state.clear()
        return
    drafts = survey_drafts
    opening = await state.get_state() == DraftStates.opens.state
    default = schedule.MORNING if opening else schedule.EVENING
    moment = schedule.parse_time(message.text or "", drafts.now(), drafts.timezone, default=default)
    if opening:
        plan["opens"] = moment.isoformat()
        await state.set_state(DraftStates.closes)
        await state.update_data(plan=plan)
        await message.answer(_("Opens {when}.").format(when=when_text(moment, drafts.timezone)))
        await screen.show(*closes_view(plan["survey_id"], drafts.timezone))
        return
    opens = moment_of(plan.get("opens"))
    if moment <= (opens or drafts.now()):
        await message.answer(_("The survey must close after it opens."))
        return
    plan["closes"] = moment.isoformat()
    await state.set_state(DraftStates.scheduling)
    await state.update_data(plan=plan)
    await message.answer(_("Closes {when}.").format(when=when_text(moment, drafts.timezone)))
    await screen.show(*reminders_view(plan["survey_id"]))


async def _confirm(
    _callback: CallbackQuery,
    state: FSMContext,
    survey: SurveyInfo,
    plan: dict[str, Any],
    drafts: SurveyDrafts,
    identity: Identity,
    repos: Repositories,
    screen: Screen,
) -> None:
    result = await drafts.schedule(
        survey.id,
        schedule.Schedule(
            opens_at=moment_of(plan.get("opens")),
            closes_at=moment_of(plan.get("closes")),
            reminders=bool(plan.get("reminders")),
            audience=tuple(plan.get("audience") or ["all"]),
        ),
        actor=identity,
        progress_chat_id=identity.telegram_id,
        progress_locale=locale(),
    )
    await state.clear()
    if result.opened is not None:
        text = _("Opened. Inviting {count} member(s); progress follows.").format(
            count=result.opened.invited
        )
    else:
        opens = result.survey.definition.opens_at
        assert opens is not None
        text = _("Scheduled: it opens {when} and the invitations go out then.").format(
            when=when_text(opens, drafts.timezone)
        )
    card, markup = survey_card(result.survey, await repos.surveys.participation(result.survey.id))
    await screen.show(text + "\n\n" + card, reply_markup=markup)


def create_router() -> Router:
    router = role_router("survey_schedule")
    router.callback_query.register(on_schedule, DraftCB.filter(F.action == DraftAction.SCHEDULE))
    router.callback_query.register(on_schedule_button, ScheduleCB.filter())
    waiting = StateFilter(DraftStates.opens, DraftStates.closes)
    router.message.register(ask_for_text, waiting, WithoutText())
    router.message.register(on_typed_time, waiting)
    return router
