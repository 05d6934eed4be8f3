"""Officers manage surveys in chat: list, open (with live progress), close, results, export,
and import a definition by sending its TOML file (workbooks, templates, drafts: survey_drafts)."""

from __future__ import annotations

import asyncio
import io

from aiogram import F, Router
from aiogram.types import BufferedInputFile, CallbackQuery
from aiogram.utils.i18n import get_i18n
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder
from aiogram.utils.text_decorations import html_decoration as html

from handlers.callbacks import (
    DraftAction,
    DraftCB,
    MenuAction,
    MenuCB,
    SurveyAdminAction,
    SurveyAdminCB,
)
from handlers.filters import DocumentWithSuffix
from handlers.guards import role_router
from handlers.screen import Screen
from handlers.surveys.admin_views import STATUS_NAMES, improvement_keyboard, survey_card
from handlers.surveys.files import on_definition_file
from members.dto import Identity
from storage.uow import Repositories
from surveys.charts import render_chart
from surveys.export import export_results
from surveys.results import compute_results, render_results_text
from surveys.service import SurveyInfo, SurveyService


async def on_list(_callback: CallbackQuery, surveys: SurveyService, screen: Screen) -> None:
    locale = get_i18n().current_locale
    all_surveys = await surveys.list()
    builder = InlineKeyboardBuilder()
    for survey in all_surveys:
        builder.button(
            text=f"{STATUS_NAMES[survey.status]} {survey.definition.title.get(locale)}",
            callback_data=SurveyAdminCB(action=SurveyAdminAction.CARD, survey_id=survey.id),
        )
    builder.button(text=_("➕ New survey"), callback_data=DraftCB(action=DraftAction.NEW))
    builder.button(text=_("📄 Template"), callback_data=DraftCB(action=DraftAction.TEMPLATE_FILE))
    builder.adjust(*([1] * len(all_surveys)), 2)
    text = _(
        "Surveys. To add or update one, send its Excel workbook (.xlsx) or TOML file here, "
        "or start from a template."
    )
    if not all_surveys:
        text = _(
            "No surveys yet. Start from a ready-made survey or the Excel template, or send a "
            "survey's workbook (.xlsx) or TOML file here."
        )
    await screen.show(text, reply_markup=builder.as_markup())


async def on_card(
    _callback: CallbackQuery,
    callback_data: SurveyAdminCB,
    surveys: SurveyService,
    repos: Repositories,
    screen: Screen,
) -> None:
    survey = await surveys.get(callback_data.survey_id)
    await screen.show(*survey_card(survey, await repos.surveys.participation(survey.id)))


async def on_open(
    _callback: CallbackQuery,
    callback_data: SurveyAdminCB,
    surveys: SurveyService,
    identity: Identity,
    screen: Screen,
) -> None:
    survey = await surveys.get(callback_data.survey_id)
    outcome = await surveys.open(
        survey.slug,
        actor=identity,
        progress_chat_id=identity.telegram_id,
        progress_locale=get_i18n().current_locale,
    )
    screen.notify(
        _("Opened. Inviting {count} member(s); progress follows.").format(count=outcome.invited),
        alert=True,
    )


async def on_close(
    _callback: CallbackQuery,
    callback_data: SurveyAdminCB,
    surveys: SurveyService,
    identity: Identity,
    screen: Screen,
) -> None:
    survey = await surveys.get(callback_data.survey_id)
    await surveys.close(survey.slug, actor=identity)
    screen.notify(_("Closed."), alert=True)


async def _preparing(
    screen: Screen, callback_data: SurveyAdminCB, surveys: SurveyService
) -> SurveyInfo:
    """Acknowledge the press at once (results take a moment) and load the survey."""
    await screen.acknowledge(_("Preparing the results…"))
    return await surveys.get(callback_data.survey_id)


async def on_results(
    _callback: CallbackQuery,
    callback_data: SurveyAdminCB,
    surveys: SurveyService,
    repos: Repositories,
    screen: Screen,
) -> None:
    survey = await _preparing(screen, callback_data, surveys)
    locale = get_i18n().current_locale
    results = await compute_results(repos, survey, small_group=surveys.small_group)
    for part in render_results_text(results, survey, locale, _):
        await screen.show(part)
    for question in results.questions:
        if question.chart_counts:
            # Drawing takes a few hundred ms: off the event loop.
            png = await asyncio.to_thread(
                render_chart,
                question.question,
                question.chart_counts,
                locale,
                gettext=_,
            )
            await screen.photo(BufferedInputFile(png, f"{survey.slug}-{question.question.id}.png"))
    await screen.show(
        _("Open an improvement action from a question:"),
        reply_markup=improvement_keyboard(survey),
    )


async def on_export(
    _callback: CallbackQuery,
    callback_data: SurveyAdminCB,
    surveys: SurveyService,
    repos: Repositories,
    screen: Screen,
) -> None:
    survey = await _preparing(screen, callback_data, surveys)
    buffer = io.BytesIO()
    rows = await export_results(
        repos,
        survey,
        "xlsx",
        buffer,
        timezone=surveys.timezone,
        small_group=surveys.small_group,
    )
    if not rows:
        await screen.show(_("Nothing to export yet: no responses."))
        return
    title = survey.definition.title.get(get_i18n().current_locale)
    await screen.document(
        BufferedInputFile(buffer.getvalue(), f"{survey.slug}.xlsx"),
        caption=_("Results of {title}").format(title=html.quote(title)),
    )


def create_router() -> Router:
    router = role_router("survey_admin")
    router.callback_query.register(on_list, MenuCB.filter(F.action == MenuAction.SURVEY_ADMIN))
    router.callback_query.register(
        on_card, SurveyAdminCB.filter(F.action == SurveyAdminAction.CARD)
    )
    router.callback_query.register(
        on_open, SurveyAdminCB.filter(F.action == SurveyAdminAction.OPEN)
    )
    router.callback_query.register(
        on_close, SurveyAdminCB.filter(F.action == SurveyAdminAction.CLOSE)
    )
    router.callback_query.register(
        on_results, SurveyAdminCB.filter(F.action == SurveyAdminAction.RESULTS)
    )
    router.callback_query.register(
        on_export, SurveyAdminCB.filter(F.action == SurveyAdminAction.EXPORT)
    )
    router.message.register(on_definition_file, DocumentWithSuffix(".toml"))
    return router
