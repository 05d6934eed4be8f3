"""Officers make surveys without a text editor: /newsurvey from a ready-made survey or a file,
the Excel template, rename, edit in Excel, try a draft (nothing stored), schedule and open."""

from __future__ import annotations

import io
from datetime import datetime
from typing import Any

from aiogram import Bot, Router
from aiogram.filters import Command, Filter, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import BufferedInputFile, CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import get_i18n
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder
from aiogram.utils.text_decorations import html_decoration as html

from bot.callbacks import (
    DraftAction,
    DraftCB,
    ScheduleAction,
    ScheduleCB,
    SurveyAction,
    TrySurveyCB,
)
from bot.filters import DocumentWithSuffix, WithoutText, private_chat
from bot.middlewares import RequireRole
from handlers.common import ask_for_text, register_actions
from handlers.officers import role_names
from handlers.survey_admin import on_definition_file, reply_imported, survey_card
from handlers.surveys import intro_text, render_step
from members.dto import Identity
from members.roles import Role
from storage.uow import Repositories
from surveys import library, schedule
from surveys.answering import Step
from surveys.definition import DefinitionError
from surveys.drafts import SurveyDrafts
from surveys.dryrun import StaleStep, TryRun
from surveys.service import SurveyInfo, SurveyService
from surveys.workbook import WorkbookError, check_size

MAX_PROBLEMS_SHOWN = 20


class DraftStates(StatesGroup):
    file = State()  # waiting for a workbook or TOML file
    rename = State()
    opens = State()  # a typed opening time is welcome
    closes = State()
    scheduling = State()  # buttons only
    trying = State()


class AnyDocument(Filter):
    async def __call__(self, message: Message) -> bool:
        return message.document is not None


def _locale() -> str:
    return get_i18n().current_locale


async def _answer(callback: CallbackQuery) -> Message | None:
    await callback.answer()
    return callback.message if isinstance(callback.message, Message) else None


# -- new survey: template or file -------------------------------------------------------------


def new_survey_keyboard() -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(
        text=_("📚 From a template"), callback_data=DraftCB(action=DraftAction.TEMPLATES)
    )
    builder.button(text=_("📎 From a file"), callback_data=DraftCB(action=DraftAction.FROM_FILE))
    builder.button(
        text=_("📄 Blank Excel template"), callback_data=DraftCB(action=DraftAction.TEMPLATE_FILE)
    )
    builder.adjust(2, 1)
    return builder.as_markup()


def new_survey_text() -> str:
    return _(
        "New survey: start from one of the union's ready-made surveys, or from your own file "
        "(the Excel template filled in, or TOML)."
    )


async def on_new_command(message: Message, state: FSMContext) -> None:
    await state.clear()
    await message.answer(new_survey_text(), reply_markup=new_survey_keyboard())


async def on_new(callback: CallbackQuery, state: FSMContext) -> None:
    message = await _answer(callback)
    if message is not None:
        await state.clear()
        await message.answer(new_survey_text(), reply_markup=new_survey_keyboard())


async def on_templates(callback: CallbackQuery, survey_drafts: SurveyDrafts) -> None:
    message = await _answer(callback)
    if message is None:
        return
    builder = InlineKeyboardBuilder()
    for index, name in enumerate(library.TEMPLATES):
        definition = library.template_definition(name, survey_drafts.timezone)
        builder.button(
            text=definition.title.get(_locale()),
            callback_data=DraftCB(action=DraftAction.PICK, value=index),
        )
    builder.adjust(1)
    await message.answer(
        _("Ready-made union surveys. Each becomes a draft you can rename, edit and try first:"),
        reply_markup=builder.as_markup(),
    )


async def on_pick(
    callback: CallbackQuery,
    callback_data: DraftCB,
    survey_drafts: SurveyDrafts,
    identity: Identity,
    repos: Repositories,
) -> None:
    if not 0 <= callback_data.value < len(library.TEMPLATES):
        await callback.answer(_("This button is no longer valid."), show_alert=True)
        return
    survey = await survey_drafts.from_template(
        library.TEMPLATES[callback_data.value], actor=identity
    )
    message = await _answer(callback)
    if message is not None:
        title = html.quote(survey.definition.title.get(_locale()))
        card, markup = await survey_card(survey, repos)
        await message.answer(
            _("Draft “{title}” created from the template.").format(title=title) + "\n\n" + card,
            reply_markup=markup,
        )


async def on_from_file(callback: CallbackQuery, state: FSMContext) -> None:
    message = await _answer(callback)
    if message is not None:
        await state.set_state(DraftStates.file)
        await message.answer(
            _(
                "Send the survey file here: the Excel template filled in (.xlsx, from Excel "
                "or WPS), or a TOML file. 📄 Template gives you the workbook to fill in."
            )
        )


async def on_template_file(callback: CallbackQuery, survey_drafts: SurveyDrafts) -> None:
    message = await _answer(callback)
    if message is not None:
        await message.answer_document(
            BufferedInputFile(survey_drafts.template_workbook(), "survey-template.xlsx"),
            caption=_(
                "The survey template: settings on the first sheet, one question per row on "
                "the second, instructions on the third. Edit the example, then send the file "
                "back here."
            ),
        )


async def show_problems(message: Message, problems: list[str]) -> None:
    shown = "\n".join(html.quote(p) for p in problems[:MAX_PROBLEMS_SHOWN])
    more = len(problems) - MAX_PROBLEMS_SHOWN
    if more > 0:
        shown += "\n" + html.quote(_("… and {count} more.").format(count=more))
    await message.answer(_("Nothing was stored. Problems found:") + f"\n<pre>{shown}</pre>")


async def on_file(
    message: Message,
    bot: Bot,
    state: FSMContext,
    surveys: SurveyService,
    survey_drafts: SurveyDrafts,
    repos: Repositories,
) -> None:
    """A workbook (or, when one was asked for, any file: a wrong one is named as such)."""
    document = message.document
    assert document is not None
    name = document.file_name or "survey.xlsx"
    if name.lower().endswith(".toml"):
        await state.clear()
        await on_definition_file(message, bot, surveys, repos)
        return
    try:
        check_size(document.file_size or 0)  # before downloading anything
        buffer = io.BytesIO()
        await bot.download(document, destination=buffer)
        survey, created = await survey_drafts.import_workbook(buffer.getvalue(), name)
    except WorkbookError as exc:
        await show_problems(message, exc.render(_))
        return
    except DefinitionError as exc:  # the update would orphan answers already given
        await show_problems(message, exc.problems)
        return
    await state.clear()
    await reply_imported(message, survey, created, repos)


async def on_not_a_file(message: Message) -> None:
    await message.answer(_("Please send the survey file (.xlsx or .toml) as a document."))


# -- a draft: rename, Excel --------------------------------------------------------------------


async def on_rename(
    callback: CallbackQuery, callback_data: DraftCB, state: FSMContext, surveys: SurveyService
) -> None:
    survey = await surveys.get(callback_data.survey_id)
    message = await _answer(callback)
    if message is not None:
        await state.set_state(DraftStates.rename)
        await state.update_data(survey_id=survey.id)
        await message.answer(
            _("Send the new title of “{title}”.").format(
                title=html.quote(survey.definition.title.get(_locale()))
            )
        )


async def on_rename_text(
    message: Message,
    state: FSMContext,
    survey_drafts: SurveyDrafts,
    identity: Identity,
    repos: Repositories,
) -> None:
    survey_id = (await state.get_data()).get("survey_id")
    await state.clear()
    if not isinstance(survey_id, int):
        return
    survey = await survey_drafts.rename(survey_id, message.text or "", actor=identity)
    card, markup = await survey_card(survey, repos)
    await message.answer(_("Renamed.") + "\n\n" + card, reply_markup=markup)


async def on_excel(
    callback: CallbackQuery,
    callback_data: DraftCB,
    surveys: SurveyService,
    survey_drafts: SurveyDrafts,
) -> None:
    survey = await surveys.get(callback_data.survey_id)
    message = await _answer(callback)
    if message is not None:
        content = await survey_drafts.export_definition(survey.slug, "xlsx")
        await message.answer_document(
            BufferedInputFile(content, f"{survey.slug}.xlsx"),
            caption=_(
                "Edit it in Excel or WPS and send it back here: the draft is updated "
                "(keep the id on the first sheet)."
            ),
        )


# -- try it ----------------------------------------------------------------------------------
# The officer's answers live in their conversation state only, never in the survey tables.


def _try_banner() -> str:
    return _("👀 Trying the draft: what members will see. Nothing is stored.")


async def on_try(
    callback: CallbackQuery, callback_data: DraftCB, state: FSMContext, surveys: SurveyService
) -> None:
    survey = await surveys.get(callback_data.survey_id)
    message = await _answer(callback)
    if message is None:
        return
    await state.set_state(DraftStates.trying)
    await state.set_data({"survey_id": survey.id, "try": {}})
    await message.answer(
        _try_banner() + "\n\n" + intro_text(survey, "new"),
        reply_markup=_try_keyboard(survey),
    )


def _try_keyboard(survey: SurveyInfo) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(
        text=_("▶️ Start"),
        callback_data=TrySurveyCB(action=SurveyAction.START, survey_id=survey.id),
    )
    return builder.as_markup()


async def _trying(state: FSMContext, surveys: SurveyService, survey_id: int) -> TryRun | None:
    data = await state.get_data()
    if await state.get_state() != DraftStates.trying.state or data.get("survey_id") != survey_id:
        return None
    survey = await surveys.get(survey_id)
    return TryRun(survey.definition, data.get("try"))


async def _show_try(
    message: Message,
    state: FSMContext,
    survey: SurveyInfo,
    run: TryRun,
    step: Step,
    *,
    edit: bool,
) -> None:
    await state.update_data({"try": run.to_json()})
    text, markup = render_step(survey, step, list(step.answers), TrySurveyCB)
    text = f"<i>{html.quote(_try_banner())}</i>\n\n{text}"
    if edit:
        await message.edit_text(text, reply_markup=markup)
    else:
        await message.answer(text, reply_markup=markup)


async def on_try_button(
    callback: CallbackQuery,
    callback_data: TrySurveyCB,
    state: FSMContext,
    surveys: SurveyService,
    repos: Repositories,
) -> None:
    data, action = callback_data, callback_data.action
    run = await _trying(state, surveys, data.survey_id)
    if run is None:
        await callback.answer(_("This button is no longer valid."), show_alert=True)
        return
    survey = await surveys.get(data.survey_id)
    if action is SurveyAction.SUBMIT:
        if not run.step().is_summary:
            await callback.answer(_("This button is no longer valid."), show_alert=True)
            return
        await state.clear()
        message = await _answer(callback)
        if message is not None:
            await message.edit_reply_markup(reply_markup=None)
            card, markup = await survey_card(survey, repos)
            await message.answer(
                _(
                    "That was the end of the try: members see “Thank you! Your answers have "
                    "been submitted.” Nothing was stored."
                )
                + "\n\n"
                + card,
                reply_markup=markup,
            )
        return
    try:
        step = _apply(run, data)
    except StaleStep as stale:
        await callback.answer(_(stale.message_id), show_alert=True)
        if isinstance(callback.message, Message):
            await _show_try(callback.message, state, survey, run, stale.step, edit=False)
        return
    message = await _answer(callback)
    if message is not None:
        await _show_try(message, state, survey, run, step, edit=action is not SurveyAction.START)


def _apply(run: TryRun, data: TrySurveyCB) -> Step:
    action = data.action
    if action is SurveyAction.START:
        return run.step()
    if action is SurveyAction.CHOOSE:
        return run.choose(data.position, data.value)
    if action is SurveyAction.TOGGLE:
        return run.toggle(data.position, data.value)
    if action is SurveyAction.DONE:
        return run.confirm(data.position)
    if action is SurveyAction.RATE:
        return run.rate(data.position, data.value)
    if action is SurveyAction.SKIP:
        return run.skip(data.position)
    if action is SurveyAction.BACK:
        return run.back()
    return run.edit(data.position)


async def on_try_text(message: Message, state: FSMContext, surveys: SurveyService) -> None:
    survey_id = (await state.get_data()).get("survey_id")
    run = await _trying(state, surveys, survey_id) if isinstance(survey_id, int) else None
    if run is None:
        await state.clear()
        return
    survey = await surveys.get(survey_id)  # type: ignore[arg-type]
    step = run.type_in(message.text or "")
    await _show_try(message, state, survey, run, step, edit=False)


# -- scheduling ------------------------------------------------------------------------------


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


def _when(moment: datetime, drafts: SurveyDrafts) -> str:
    local = moment.astimezone(drafts.timezone)
    return f"{_weekday(local)} {local:%Y-%m-%d %H:%M}"


def _cancel_row(builder: InlineKeyboardBuilder, survey_id: int) -> None:
    builder.button(
        text=_("✖️ Cancel"),
        callback_data=ScheduleCB(action=ScheduleAction.CANCEL, survey_id=survey_id),
    )


async def _plan(state: FSMContext, survey_id: int) -> dict[str, Any] | None:
    data = await state.get_data()
    plan = data.get("plan")
    if not isinstance(plan, dict) or plan.get("survey_id") != survey_id:
        return None
    return plan


async def on_schedule(
    callback: CallbackQuery,
    callback_data: DraftCB,
    state: FSMContext,
    surveys: SurveyService,
    survey_drafts: SurveyDrafts,
) -> None:
    survey = await surveys.get(callback_data.survey_id)
    message = await _answer(callback)
    if message is None:
        return
    if survey.status != "draft":
        await message.answer(_("Only a draft can be changed here."))
        return
    await state.set_state(DraftStates.opens)
    await state.set_data({"plan": {"survey_id": survey.id, "audience": []}})
    await _ask_opens(message, survey, survey_drafts)


async def _ask_opens(message: Message, survey: SurveyInfo, drafts: SurveyDrafts) -> None:
    now = drafts.now()
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
    example = schedule.next_monday_morning(now, drafts.timezone)
    await message.answer(
        _("🗓 When should “{title}” open?\nOr type a time ({zone}), for example {example}.").format(
            title=html.quote(survey.definition.title.get(_locale())),
            zone=drafts.timezone.key,
            example=f"{example:%Y-%m-%d %H:%M}",
        ),
        reply_markup=builder.as_markup(),
    )


async def _ask_closes(message: Message, survey_id: int, drafts: SurveyDrafts) -> None:
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
    await message.answer(
        _(
            "When should it close? (at 18:00 after the days chosen)\n"
            "Or type a time ({zone}), for example 12-14 18:00."
        ).format(zone=drafts.timezone.key),
        reply_markup=builder.as_markup(),
    )


async def _ask_reminders(message: Message, survey_id: int) -> None:
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
    await message.answer(_("Remind those who have not finished?"), reply_markup=builder.as_markup())


async def _ask_audience(message: Message, survey_id: int) -> None:
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
    await message.answer(_("Who should be invited?"), reply_markup=builder.as_markup())


def _choices_keyboard(
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


async def _choices(drafts: SurveyDrafts, action: ScheduleAction) -> tuple[list[str], list[str]]:
    """(audience values, button labels) for roles or departments, in a stable order."""
    departments, roles = await drafts.audience_choices()
    if action is ScheduleAction.ROLE:
        names = role_names()
        return [r.value for r in roles], [names[r] for r in roles]
    return departments, departments


async def _summary(
    message: Message, survey: SurveyInfo, plan: dict[str, Any], drafts: SurveyDrafts
) -> None:
    opens = _moment(plan.get("opens"))
    closes = _moment(plan.get("closes"))
    audience = tuple(plan.get("audience") or ["all"])
    count = await drafts.audience_size(audience)
    names = role_names()
    who = (
        _("everyone")
        if "all" in audience
        else "、".join(names[Role(a)] if a in set(Role) else a for a in audience)
    )
    when = _("now") if opens is None else _when(opens, drafts)
    reminders = (
        _("reminders 1 day and 3 hours before closing")
        if plan.get("reminders") and closes
        else _("no reminders")
    )
    lines = [
        f"<b>{html.quote(survey.definition.title.get(_locale()))}</b>",
        _("Opens {when} to {count} members; {reminders}.").format(
            when=when, count=count, reminders=reminders
        ),
        _("Closes: {when}").format(when=_when(closes, drafts)) if closes else _("No closing time"),
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
    await message.answer("\n".join(lines), reply_markup=builder.as_markup())


def _moment(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) else None


async def on_schedule_button(
    callback: CallbackQuery,
    callback_data: ScheduleCB,
    state: FSMContext,
    surveys: SurveyService,
    survey_drafts: SurveyDrafts,
    identity: Identity,
    repos: Repositories,
) -> None:
    data, action = callback_data, callback_data.action
    plan = await _plan(state, data.survey_id)
    if plan is None:
        await callback.answer(_("This button is no longer valid."), show_alert=True)
        return
    survey = await surveys.get(data.survey_id)
    drafts, tz = survey_drafts, survey_drafts.timezone
    if action is ScheduleAction.CONFIRM:
        await _confirm(callback, state, survey, plan, drafts, identity, repos)
        return
    if action is ScheduleAction.ROLE or action is ScheduleAction.DEPARTMENT:
        names, labels = await _choices(drafts, action)
        if not 0 <= data.value < len(names):
            await callback.answer(_("This button is no longer valid."), show_alert=True)
            return
        chosen = set(plan["audience"]) ^ {names[data.value]}
        plan["audience"] = sorted(chosen)
        await state.update_data(plan=plan)
        await callback.answer()
        if isinstance(callback.message, Message):
            await callback.message.edit_reply_markup(
                reply_markup=_choices_keyboard(survey.id, action, names, chosen, labels)
            )
        return
    if action is ScheduleAction.AUDIENCE_DONE and not plan["audience"]:
        await callback.answer(_("Choose at least one."), show_alert=True)
        return
    message = await _answer(callback)
    if message is None:
        return
    now = drafts.now()
    if action is ScheduleAction.CANCEL:
        await state.clear()
        await message.answer(_("Scheduling cancelled; nothing was changed."))
    elif action is ScheduleAction.RESTART:
        await state.set_state(DraftStates.opens)
        await state.set_data({"plan": {"survey_id": survey.id, "audience": []}})
        await _ask_opens(message, survey, drafts)
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
        await _ask_closes(message, survey.id, drafts)
    elif action is ScheduleAction.CLOSES:
        closes = (
            schedule.closing_after(data.value, _moment(plan.get("opens")), now, tz)
            if data.value in schedule.CLOSING_DAYS
            else None
        )
        plan["closes"] = closes.isoformat() if closes else None
        await state.set_state(DraftStates.scheduling)
        await state.update_data(plan=plan)
        if closes:
            await _ask_reminders(message, survey.id)
        else:
            await _ask_audience(message, survey.id)
    elif action is ScheduleAction.REMINDERS:
        plan["reminders"] = bool(data.value)
        await state.update_data(plan=plan)
        await _ask_audience(message, survey.id)
    elif action is ScheduleAction.AUDIENCE:
        if data.value == 0:
            plan["audience"] = ["all"]
            await state.update_data(plan=plan)
            await _summary(message, survey, plan, drafts)
            return
        kind = ScheduleAction.ROLE if data.value == 1 else ScheduleAction.DEPARTMENT
        plan["audience"] = []
        await state.update_data(plan=plan)
        names, labels = await _choices(drafts, kind)
        if not names:
            await message.answer(_("The roster has none yet."))
            await _ask_audience(message, survey.id)
            return
        await message.answer(
            _("Tick who should be invited, then tap “Done”."),
            reply_markup=_choices_keyboard(survey.id, kind, names, set(), labels),
        )
    else:  # AUDIENCE_DONE
        await _summary(message, survey, plan, drafts)


async def on_typed_time(
    message: Message, state: FSMContext, surveys: SurveyService, survey_drafts: SurveyDrafts
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
        await message.answer(_("Opens {when}.").format(when=_when(moment, drafts)))
        await _ask_closes(message, plan["survey_id"], drafts)
        return
    opens = _moment(plan.get("opens"))
    if moment <= (opens or drafts.now()):
        await message.answer(_("The survey must close after it opens."))
        return
    plan["closes"] = moment.isoformat()
    await state.set_state(DraftStates.scheduling)
    await state.update_data(plan=plan)
    await message.answer(_("Closes {when}.").format(when=_when(moment, drafts)))
    await _ask_reminders(message, plan["survey_id"])


async def _confirm(
    callback: CallbackQuery,
    state: FSMContext,
    survey: SurveyInfo,
    plan: dict[str, Any],
    drafts: SurveyDrafts,
    identity: Identity,
    repos: Repositories,
) -> None:
    result = await drafts.schedule(
        survey.id,
        schedule.Schedule(
            opens_at=_moment(plan.get("opens")),
            closes_at=_moment(plan.get("closes")),
            reminders=bool(plan.get("reminders")),
            audience=tuple(plan.get("audience") or ["all"]),
        ),
        actor=identity,
        progress_chat_id=identity.telegram_id,
        progress_locale=_locale(),
    )
    await state.clear()
    message = await _answer(callback)
    if message is None:
        return
    if result.opened is not None:
        text = _("Opened. Inviting {count} member(s); progress follows.").format(
            count=result.opened.invited
        )
    else:
        opens = result.survey.definition.opens_at
        assert opens is not None
        text = _("Scheduled: it opens {when} and the invitations go out then.").format(
            when=_when(opens, drafts)
        )
    card, markup = await survey_card(result.survey, repos)
    await message.answer(text + "\n\n" + card, reply_markup=markup)


def create_router() -> Router:
    router = Router(name="survey_drafts")
    for observer in (router.message, router.callback_query):
        observer.filter(private_chat())
        observer.middleware(RequireRole(Role.OFFICER))
    router.message.register(on_new_command, Command("newsurvey"))
    register_actions(
        router,
        DraftCB,
        {
            DraftAction.NEW: on_new,
            DraftAction.TEMPLATES: on_templates,
            DraftAction.PICK: on_pick,
            DraftAction.FROM_FILE: on_from_file,
            DraftAction.TEMPLATE_FILE: on_template_file,
            DraftAction.RENAME: on_rename,
            DraftAction.EXCEL: on_excel,
            DraftAction.TRY: on_try,
            DraftAction.SCHEDULE: on_schedule,
        },
    )
    router.callback_query.register(on_try_button, TrySurveyCB.filter())
    router.callback_query.register(on_schedule_button, ScheduleCB.filter())
    router.message.register(on_file, StateFilter(DraftStates.file), AnyDocument())
    router.message.register(on_not_a_file, StateFilter(DraftStates.file))
    router.message.register(on_file, StateFilter(None), DocumentWithSuffix(".xlsx"))
    for waiting in (DraftStates.rename, DraftStates.trying, DraftStates.opens, DraftStates.closes):
        router.message.register(ask_for_text, StateFilter(waiting), WithoutText())
    router.message.register(on_rename_text, StateFilter(DraftStates.rename))
    router.message.register(on_try_text, StateFilter(DraftStates.trying))
    router.message.register(on_typed_time, StateFilter(DraftStates.opens, DraftStates.closes))
    return router
