"""👀 Try it: an officer answers their own draft in chat exactly as a member would, branching
included, up to the members' summary screen. The answers live in the officer's conversation
state only and are cleared at the end: nothing reaches the survey tables."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.text_decorations import html_decoration as html

from handlers.callbacks import DraftAction, DraftCB, SurveyAction, TrySurveyCB
from handlers.common import ask_for_text
from handlers.filters import WithoutText
from handlers.guards import role_router
from handlers.screen import Screen
from handlers.surveys.admin_views import survey_card, try_banner, try_keyboard
from handlers.surveys.states import DraftStates
from handlers.surveys.summary_views import intro_text, render_step
from storage.uow import Repositories
from surveys.answering import Step
from surveys.dryrun import StaleStep, TryRun
from surveys.service import SurveyInfo, SurveyService


async def on_try(
    _callback: CallbackQuery,
    callback_data: DraftCB,
    state: FSMContext,
    surveys: SurveyService,
    screen: Screen,
) -> None:
    survey = await surveys.get(callback_data.survey_id)
    await state.set_state(DraftStates.trying)
    await state.set_data({"survey_id": survey.id, "try": {}})
    await screen.show(
        try_banner() + "\n\n" + intro_text(survey, "new"),
        reply_markup=try_keyboard(survey),
    )


async def _trying(state: FSMContext, surveys: SurveyService, survey_id: int) -> TryRun | None:
    data = await state.get_data()
    if await state.get_state() != DraftStates.trying.state or data.get("survey_id") != survey_id:
        return None
    survey = await surveys.get(survey_id)
    return TryRun(survey.definition, data.get("try"))


async def _show_try(
    screen: Screen,
    state: FSMContext,
    survey: SurveyInfo,
    run: TryRun,
    step: Step,
    *,
    edit: bool,
) -> None:
    await state.update_data({"try": run.to_json()})
    text, markup = render_step(survey, step, list(step.answers), TrySurveyCB)
    text = f"<i>{html.quote(try_banner())}</i>\n\n{text}"
    if edit:
        await screen.edit(text, reply_markup=markup)
    else:
        await screen.show(text, reply_markup=markup)


async def on_try_button(
    _callback: CallbackQuery,
    callback_data: TrySurveyCB,
    state: FSMContext,
    surveys: SurveyService,
    repos: Repositories,
    screen: Screen,
) -> None:
    data, action = callback_data, callback_data.action
    run = await _trying(state, surveys, data.survey_id)
    if run is None:
        screen.notify(_("This button is no longer valid."), alert=True)
        return
    survey = await surveys.get(data.survey_id)
    if action is SurveyAction.SUBMIT:
        if not run.step().is_summary:
            screen.notify(_("This button is no longer valid."), alert=True)
            return
        await state.clear()
        await screen.edit_buttons(None)
        card, markup = survey_card(survey, await repos.surveys.participation(survey.id))
        await screen.show(
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
        screen.notify(_(stale.message_id), alert=True)
        await _show_try(screen, state, survey, run, stale.step, edit=False)
        return
    await _show_try(screen, state, survey, run, step, edit=action is not SurveyAction.START)


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


async def on_try_text(
    message: Message, state: FSMContext, surveys: SurveyService, screen: Screen
) -> None:
    survey_id = (await state.get_data()).get("survey_id")
    run = await _trying(state, surveys, survey_id) if isinstance(survey_id, int) else None
    if run is None or not isinstance(survey_id, int):  # the second test only narrows the type
        await state.clear()
        return
    survey = await surveys.get(survey_id)
    step = run.type_in(message.text or "")
    await _show_try(screen, state, survey, run, step, edit=False)


def create_router() -> Router:
    router = role_router("survey_try")
    router.callback_query.register(on_try, DraftCB.filter(F.action == DraftAction.TRY))
    router.callback_query.register(on_try_button, TrySurveyCB.filter())
    router.message.register(ask_for_text, StateFilter(DraftStates.trying), WithoutText())
    router.message.register(on_try_text, StateFilter(DraftStates.trying))
    return router
