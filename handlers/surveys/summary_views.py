"""A survey's introduction and the summary before submitting."""

from __future__ import annotations

from typing import Any

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder
from aiogram.utils.text_decorations import html_decoration as html

from common.text import shorten
from handlers.callbacks import SurveyAction, SurveyCB
from handlers.surveys.views import (
    anonymity_note,
    current_locale,
    question_keyboard,
    question_text,
    stored_text,
)
from surveys.answering import Step
from surveys.definition import Question
from surveys.service import (
    SurveyInfo,
)


def summary_text(survey: SurveyInfo, answers: list[tuple[Question, Any]]) -> str:
    locale = current_locale()
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
    locale = current_locale()
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
