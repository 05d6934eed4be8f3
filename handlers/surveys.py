"""Answering surveys in chat: one question per message, buttons or typed answers."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

from aiogram import F, Router
from aiogram.filters import Filter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import get_i18n
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder
from aiogram.utils.text_decorations import html_decoration as html

from bot.callbacks import MenuAction, MenuCB, SurveyAction, SurveyCB
from bot.filters import WithoutText
from bot.renderers import Rendered
from common.text import shorten
from handlers.common import ask_for_text
from handlers.screen import Screen
from members.dto import Identity
from surveys.answering import Step
from surveys.definition import Question, QuestionType, SurveyDefinition, Text
from surveys.notifications import SURVEY_INVITATION, SURVEY_REMINDER
from surveys.service import (
    OTHER_OPTION,
    StaleQuestion,
    SurveyInfo,
    SurveyService,
    SurveyUnavailable,
)

# While answering, the FSM state is "survey:<id>": typed text goes to that survey, and the
# state is written only when it changes (not on every answer).
ANSWERING = "survey:"


def answering_state(survey_id: int) -> str:
    return f"{ANSWERING}{survey_id}"


class Answering(Filter):
    # aiogram passes the event first, then the data the signature names.
    async def __call__(self, message: Message, raw_state: str | None = None) -> bool:  # noqa: ARG002
        return raw_state is not None and raw_state.startswith(ANSWERING)


def _locale() -> str:
    return get_i18n().current_locale


def anonymity_note(anonymous: bool) -> str:
    if anonymous:
        return _(
            "🔒 Anonymous: your answers are stored without your name and cannot be linked to you."
        )
    return _("👤 Named: union officers can see your answers with your name.")


# -- rendering ------------------------------------------------------------------------------


def stored_text(question: Question, stored: Any, locale: str) -> str:
    if stored is None:
        return _("(skipped)")
    if question.type is QuestionType.SINGLE:
        if "choice" in stored:
            return _option_text(question, stored["choice"], locale)
        return _("Other: {text}").format(text=stored["other"])
    if question.type is QuestionType.MULTI:
        parts = [_option_text(question, key, locale) for key in stored.get("choices", [])]
        if stored.get("other"):
            parts.append(_("Other: {text}").format(text=stored["other"]))
        return "；".join(parts)
    if isinstance(stored, float) and stored.is_integer():
        return str(int(stored))
    return str(stored)


def _option_text(question: Question, key: str, locale: str) -> str:
    for option in question.options:
        if option.key == key:
            return option.text.get(locale)
    return key


def _hint(question: Question, step: Step, locale: str) -> str:
    if step.awaiting_other:
        return _("Please type your “other” answer.")
    if question.type is QuestionType.MULTI:
        limit = question.max_choices or len(question.options)
        return _("Choose up to {limit}, then tap “Done”.").format(limit=limit)
    if question.type in (QuestionType.SCALE, QuestionType.NPS):
        labels = question.labels
        if labels:
            low = labels["min"].get(locale) if "min" in labels else ""
            high = labels["max"].get(locale) if "max" in labels else ""
            return f"{_plain(question.min)} = {low} · {_plain(question.max)} = {high}"
        if question.type is QuestionType.NPS:
            return _("0 = not at all likely · 10 = extremely likely")
        return ""
    if question.type is QuestionType.TEXT:
        return _("Type your answer (at most {limit} characters).").format(limit=question.max_length)
    if question.type is QuestionType.NUMBER:
        if question.min is not None and question.max is not None:
            return _("Type a number from {min} to {max}.").format(
                min=_plain(question.min), max=_plain(question.max)
            )
        return _("Type a number.")
    return ""


def _plain(value: float | None) -> str:
    if value is None:
        return ""
    return str(int(value)) if float(value).is_integer() else str(value)


def question_text(survey: SurveyInfo, step: Step) -> str:
    question = step.question
    assert question is not None
    locale = _locale()
    lines = [
        f"<b>{html.quote(survey.definition.title.get(locale))}</b> · {step.position}/{step.total}",
        "",
        html.quote(question.text.get(locale)),
    ]
    if not question.required:
        lines.append(_("(optional)"))
    hint = _hint(question, step, locale)
    if hint:
        lines += ["", f"<i>{html.quote(hint)}</i>"]
    if step.stored is not None and question.type in (QuestionType.TEXT, QuestionType.NUMBER):
        lines.append(
            _("Current answer: {answer}").format(
                answer=html.quote(stored_text(question, step.stored, locale))
            )
        )
    return "\n".join(lines)


# Keyboards are the same for every member at the same question (and the same choices so far):
# built once per process, not validated by pydantic again for each answer.
_KEYBOARDS: OrderedDict[tuple[Any, ...], tuple[SurveyDefinition, InlineKeyboardMarkup]] = (
    OrderedDict()
)
KEYBOARD_CACHE_SIZE = 1024


def question_keyboard(
    survey: SurveyInfo, step: Step, factory: type[SurveyCB] = SurveyCB
) -> InlineKeyboardMarkup:
    """`factory`: another prefix for the same buttons (an officer trying a draft)."""
    assert step.question is not None
    key = (
        factory,
        survey.id,
        step.question.id,
        step.position,
        _locale(),
        tuple(step.pending),
        step.awaiting_other,
        step.total,
    )
    hit = _KEYBOARDS.get(key)
    if hit is not None and hit[0] is survey.definition:  # the very definition it was built for
        return hit[1]
    markup = _question_keyboard(survey, step, factory)
    _KEYBOARDS[key] = (survey.definition, markup)
    if len(_KEYBOARDS) > KEYBOARD_CACHE_SIZE:
        _KEYBOARDS.popitem(last=False)
    return markup


def _question_keyboard(
    survey: SurveyInfo, step: Step, factory: type[SurveyCB]
) -> InlineKeyboardMarkup:
    question = step.question
    assert question is not None
    locale = _locale()

    def cb(action: SurveyAction, value: int = 0) -> str:
        return factory(
            action=action, survey_id=survey.id, position=step.position, value=value
        ).pack()

    rows: list[list[InlineKeyboardButton]] = []
    if question.type is QuestionType.SINGLE:
        for index, option in enumerate(question.options):
            rows.append(
                [
                    InlineKeyboardButton(
                        text=option.text.get(locale), callback_data=cb(SurveyAction.CHOOSE, index)
                    )
                ]
            )
        if question.other:
            rows.append(
                [
                    InlineKeyboardButton(
                        text=_("Other…"), callback_data=cb(SurveyAction.CHOOSE, OTHER_OPTION)
                    )
                ]
            )
    elif question.type is QuestionType.MULTI:
        for index, option in enumerate(question.options):
            mark = "☑️" if option.key in step.pending else "⬜️"
            rows.append(
                [
                    InlineKeyboardButton(
                        text=f"{mark} {option.text.get(locale)}",
                        callback_data=cb(SurveyAction.TOGGLE, index),
                    )
                ]
            )
        if question.other:
            mark = "☑️" if step.awaiting_other else "⬜️"
            rows.append(
                [
                    InlineKeyboardButton(
                        text=f"{mark} " + _("Other…"),
                        callback_data=cb(SurveyAction.TOGGLE, OTHER_OPTION),
                    )
                ]
            )
        rows.append([InlineKeyboardButton(text=_("✅ Done"), callback_data=cb(SurveyAction.DONE))])
    elif question.type in (QuestionType.SCALE, QuestionType.NPS):
        assert question.min is not None and question.max is not None
        values = list(range(int(question.min), int(question.max) + 1))
        # NPS: 0–5 and 6–10 in two rows; short scales in one row.
        size = 6 if len(values) > 7 else len(values)
        for start in range(0, len(values), size):
            rows.append(
                [
                    InlineKeyboardButton(text=str(v), callback_data=cb(SurveyAction.RATE, v))
                    for v in values[start : start + size]
                ]
            )
    navigation = []
    if step.position > 1:
        navigation.append(
            InlineKeyboardButton(text=_("⬅️ Back"), callback_data=cb(SurveyAction.BACK))
        )
    if not question.required:
        navigation.append(
            InlineKeyboardButton(text=_("Skip ➡️"), callback_data=cb(SurveyAction.SKIP))
        )
    if navigation:
        rows.append(navigation)
    # Not InlineKeyboardBuilder: its as_markup() deep-copies every button (≈ 0.5 ms here).
    return InlineKeyboardMarkup(inline_keyboard=rows)


def summary_text(survey: SurveyInfo, answers: list[tuple[Question, Any]]) -> str:
    locale = _locale()
    lines = [
        f"<b>{html.quote(survey.definition.title.get(locale))}</b>",
        _("Please check your answers:"),
        "",
    ]
    for question, stored in answers:
        number = survey.definition.index_of(question.id) + 1
        lines.append(f"{number}. {html.quote(question.text.get(locale))}")
        lines.append(f"   → {html.quote(stored_text(question, stored, locale))}")
    lines += ["", anonymity_note(survey.anonymous)]
    return shorten("\n".join(lines))


def summary_keyboard(
    survey: SurveyInfo, answers: list[tuple[Question, Any]], factory: type[SurveyCB] = SurveyCB
) -> InlineKeyboardMarkup:
    edits = [
        InlineKeyboardButton(
            text=_("✏️ {number}").format(number=number),
            callback_data=factory(
                action=SurveyAction.EDIT, survey_id=survey.id, position=number
            ).pack(),
        )
        for number in (survey.definition.index_of(q.id) + 1 for q, _stored in answers)
    ]
    rows = [edits[i : i + 5] for i in range(0, len(edits), 5)]
    submit = factory(action=SurveyAction.SUBMIT, survey_id=survey.id).pack()
    rows.append([InlineKeyboardButton(text=_("📨 Submit"), callback_data=submit)])
    return InlineKeyboardMarkup(inline_keyboard=rows)  # no builder: no deep copies


def render_step(
    survey: SurveyInfo,
    step: Step,
    draft_answers: list[tuple[Question, Any]],
    factory: type[SurveyCB] = SurveyCB,
) -> tuple[str, InlineKeyboardMarkup]:
    if step.is_summary:
        return (
            summary_text(survey, draft_answers),
            summary_keyboard(survey, draft_answers, factory),
        )
    return question_text(survey, step), question_keyboard(survey, step, factory)


def intro_text(survey: SurveyInfo, state: str) -> str:
    locale = _locale()
    definition = survey.definition
    lines = [f"<b>{html.quote(definition.title.get(locale))}</b>"]
    if definition.description:
        lines.append(html.quote(definition.description.get(locale)))
    lines += [
        "",
        anonymity_note(survey.anonymous),
        _("{count} questions.").format(count=len(definition.questions)),
    ]
    if state == "done":
        lines.append(_("You have already answered this survey. Thank you!"))
    return "\n".join(lines)


def intro_keyboard(
    survey: SurveyInfo, state: str, factory: type[SurveyCB] = SurveyCB
) -> InlineKeyboardMarkup | None:
    if state == "done":
        return None
    text = _("▶️ Continue") if state == "started" else _("▶️ Start")
    builder = InlineKeyboardBuilder()
    builder.button(text=text, callback_data=factory(action=SurveyAction.START, survey_id=survey.id))
    return builder.as_markup()


def render_invitation(params: Mapping[str, Any], *, reminder: bool = False) -> Rendered:
    locale = _locale()
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


# -- handlers -------------------------------------------------------------------------------


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
    locale = _locale()
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
