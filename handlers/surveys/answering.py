"""Answering surveys in chat: one question per message, buttons or typed answers."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from handlers.callbacks import MenuAction, MenuCB, SurveyAction, SurveyCB
from handlers.common import ask_for_text
from handlers.filters import WithoutText
from handlers.screen import Screen
from handlers.surveys.states import ANSWERING, Answering, answering_state
from handlers.surveys.summary_views import intro_keyboard, intro_text, render_step
from handlers.surveys.views import current_locale
from members.dto import Identity
from surveys.answering import Step
from surveys.service import (
    StaleQuestion,
    SurveyInfo,
    SurveyService,
    SurveyUnavailable,
)


async def _show(
    screen: Screen,
    survey: SurveyInfo,
    step: Step,
    state: FSMContext,
    raw_state: str | None,
    *,
    edit: bool,
) -> None:
    text, markup = render_step(survey, step, list(step.answers))
    if raw_state != answering_state(survey.id):
        await state.set_state(answering_state(survey.id))
    if edit:
        await screen.edit(text, reply_markup=markup)
    else:
        await screen.show(text, reply_markup=markup)


async def _show_current(
    screen: Screen, stale: StaleQuestion, state: FSMContext, raw_state: str | None
) -> None:
    """A button of another question was pressed: say so and show the current question."""
    screen.notify(_(stale.message_id), alert=True)
    await _show(screen, stale.survey, stale.step, state, raw_state, edit=False)


async def on_survey_list(
    _callback: CallbackQuery,
    identity: Identity,
    surveys: SurveyService,
    screen: Screen,
) -> None:
    available = await surveys.available(identity)
    if not available:
        await screen.show(_("There are no open surveys for you right now."))
        return
    locale = current_locale()
    marks = {"new": "🆕", "started": "✍️", "done": "✅"}
    builder = InlineKeyboardBuilder()
    for survey, state in available:
        builder.button(
            text=f"{marks[state]} {survey.definition.title.get(locale)}",
            callback_data=SurveyCB(action=SurveyAction.INTRO, survey_id=survey.id),
        )
    builder.adjust(1)
    await screen.show(_("Open surveys:"), reply_markup=builder.as_markup())


async def on_intro(
    screen: Screen,
    callback_data: SurveyCB,
    identity: Identity,
    surveys: SurveyService,
) -> None:
    survey, state = await surveys.status_for(identity, callback_data.survey_id)
    await screen.show(intro_text(survey, state), reply_markup=intro_keyboard(survey, state))


async def on_start(
    screen: Screen,
    callback_data: SurveyCB,
    identity: Identity,
    surveys: SurveyService,
    state: FSMContext,
    raw_state: str | None = None,
) -> None:
    survey, step = await surveys.begin(identity, callback_data.survey_id)
    await _show(screen, survey, step, state, raw_state, edit=False)


async def on_button(
    screen: Screen,
    callback_data: SurveyCB,
    identity: Identity,
    surveys: SurveyService,
    state: FSMContext,
    raw_state: str | None = None,
) -> None:
    data, action = callback_data, callback_data.action
    try:
        if action is SurveyAction.CHOOSE:
            step = await surveys.choose(identity, data.survey_id, data.position, data.value)
        elif action is SurveyAction.TOGGLE:
            step = await surveys.toggle(identity, data.survey_id, data.position, data.value)
        elif action is SurveyAction.DONE:
            step = await surveys.confirm(identity, data.survey_id, data.position)
        elif action is SurveyAction.RATE:
            step = await surveys.rate(identity, data.survey_id, data.position, data.value)
        elif action is SurveyAction.SKIP:
            step = await surveys.skip(identity, data.survey_id, data.position)
        elif action is SurveyAction.BACK:
            step = await surveys.back(identity, data.survey_id)
        else:
            step = await surveys.edit(identity, data.survey_id, data.position)
    except StaleQuestion as stale:
        await _show_current(screen, stale, state, raw_state)
        return
    survey = await surveys.get(data.survey_id)  # loaded once per update, then cached
    await _show(screen, survey, step, state, raw_state, edit=True)


async def on_submit(
    screen: Screen,
    callback_data: SurveyCB,
    identity: Identity,
    surveys: SurveyService,
    state: FSMContext,
    raw_state: str | None = None,
) -> None:
    try:
        survey = await surveys.submit(identity, callback_data.survey_id)
    except StaleQuestion as stale:
        await _show_current(screen, stale, state, raw_state)
        return
    await state.clear()  # nothing about this survey stays in the conversation state
    await screen.edit_buttons(None)
    thanks = _("Thank you! Your answers have been submitted.")
    if survey.anonymous:
        thanks += "\n" + _("They were stored anonymously.")
    await screen.show(thanks)


async def on_typed(
    message: Message,
    identity: Identity,
    surveys: SurveyService,
    state: FSMContext,
    screen: Screen,
    raw_state: str | None = None,
) -> None:
    assert raw_state is not None  # the Answering filter matched
    survey_id = int(raw_state.removeprefix(ANSWERING))
    try:
        step = await surveys.type_in(identity, survey_id, message.text or "")
    except SurveyUnavailable:
        await state.set_state(None)  # closed or gone: stop routing this person's text to it
        raise
    survey = await surveys.get(survey_id)
    await _show(screen, survey, step, state, raw_state, edit=False)


async def on_survey_button(
    _callback: CallbackQuery,
    callback_data: SurveyCB,
    identity: Identity,
    surveys: SurveyService,
    state: FSMContext,
    screen: Screen,
    raw_state: str | None = None,
) -> None:
    action = callback_data.action
    if action is SurveyAction.INTRO:
        await on_intro(screen, callback_data, identity, surveys)
    elif action is SurveyAction.START:
        await on_start(screen, callback_data, identity, surveys, state, raw_state)
    elif action is SurveyAction.SUBMIT:
        await on_submit(screen, callback_data, identity, surveys, state, raw_state)
    else:
        await on_button(screen, callback_data, identity, surveys, state, raw_state)


def create_router() -> Router:
    """Typed answers (and the "please type" hint) while a survey is open."""
    router = Router(name="surveys")
    router.message.register(ask_for_text, Answering(), WithoutText())
    router.message.register(on_typed, Answering())
    return router


def create_button_router() -> Router:
    """Survey buttons. Their callback prefixes are the surveys' alone, so the factory places
    this router right after consent: a tap skips the routers of other features."""
    router = Router(name="survey_buttons")
    router.callback_query.register(on_survey_list, MenuCB.filter(F.action == MenuAction.SURVEYS))
    # One filter for every survey button: the callback data is parsed once, not once per
    # handler tried (each parse builds a pydantic model on the answer path).
    router.callback_query.register(on_survey_button, SurveyCB.filter())
    return router
