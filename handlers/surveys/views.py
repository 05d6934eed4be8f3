"""One question on screen: text and buttons, built once per process per question state."""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import get_i18n
from aiogram.utils.i18n import gettext as _
from aiogram.utils.text_decorations import html_decoration as html

from handlers.callbacks import SurveyAction, SurveyCB
from surveys.answering import Step
from surveys.definition import Question, QuestionType, SurveyDefinition
from surveys.service import (
    OTHER_OPTION,
    SurveyInfo,
)


def current_locale() -> str:
    return get_i18n().current_locale


def anonymity_note(anonymous: bool) -> str:
    if anonymous:
        return _(
            "🔒 Anonymous: your answers are stored without your name and cannot be linked to you."
        )
    return _("👤 Named: union officers can see your answers with your name.")


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
    locale = current_locale()
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
        current_locale(),
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
    locale = current_locale()

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
