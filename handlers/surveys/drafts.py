"""Officers make surveys without a text editor: /newsurvey from a ready-made survey or a file,
the Excel template, rename, edit in Excel. Trying a draft: survey_try; scheduling: survey_schedule.
"""

from __future__ import annotations

import io

from aiogram import Bot, Router
from aiogram.filters import Command, Filter, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import BufferedInputFile, CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder
from aiogram.utils.text_decorations import html_decoration as html

from handlers.callbacks import DraftAction, DraftCB
from handlers.common import ask_for_text, register_actions
from handlers.filters import DocumentWithSuffix, WithoutText
from handlers.guards import role_router
from handlers.screen import Screen
from handlers.surveys.admin_views import locale, new_survey_keyboard, new_survey_text, survey_card
from handlers.surveys.files import on_definition_file, reply_imported, show_problems
from handlers.surveys.states import DraftStates
from members.dto import Identity
from storage.uow import Repositories
from surveys import library
from surveys.definition import DefinitionError
from surveys.drafts import SurveyDrafts
from surveys.service import SurveyService
from surveys.workbook import WorkbookError, check_size


class AnyDocument(Filter):
    async def __call__(self, message: Message) -> bool:
        return message.document is not None


async def on_new_command(message: Message, state: FSMContext) -> None:
    await state.clear()
    await message.answer(new_survey_text(), reply_markup=new_survey_keyboard())


async def on_new(_callback: CallbackQuery, state: FSMContext, screen: Screen) -> None:
    await state.clear()
    await screen.show(new_survey_text(), reply_markup=new_survey_keyboard())


async def on_templates(
    _callback: CallbackQuery, survey_drafts: SurveyDrafts, screen: Screen
) -> None:
    builder = InlineKeyboardBuilder()
    for index, name in enumerate(library.TEMPLATES):
        definition = library.template_definition(name, survey_drafts.timezone)
        builder.button(
            text=definition.title.get(locale()),
            callback_data=DraftCB(action=DraftAction.PICK, value=index),
        )
    builder.adjust(1)
    await screen.show(
        _("Ready-made union surveys. Each becomes a draft you can rename, edit and try first:"),
        reply_markup=builder.as_markup(),
    )


async def on_pick(
    _callback: CallbackQuery,
    callback_data: DraftCB,
    survey_drafts: SurveyDrafts,
    identity: Identity,
    repos: Repositories,
    screen: Screen,
) -> None:
    if not 0 <= callback_data.value < len(library.TEMPLATES):
        screen.notify(_("This button is no longer valid."), alert=True)
        return
    survey = await survey_drafts.from_template(
        library.TEMPLATES[callback_data.value], actor=identity
    )
    title = html.quote(survey.definition.title.get(locale()))
    card, markup = survey_card(survey, await repos.surveys.participation(survey.id))
    await screen.show(
        _("Draft “{title}” created from the template.").format(title=title) + "\n\n" + card,
        reply_markup=markup,
    )


async def on_from_file(_callback: CallbackQuery, state: FSMContext, screen: Screen) -> None:
    await state.set_state(DraftStates.file)
    await screen.show(
        _(
            "Send the survey file here: the Excel template filled in (.xlsx, from Excel "
            "or WPS), or a TOML file. 📄 Template gives you the workbook to fill in."
        )
    )


async def on_template_file(
    _callback: CallbackQuery, survey_drafts: SurveyDrafts, screen: Screen
) -> None:
    await screen.document(
        BufferedInputFile(survey_drafts.template_workbook(), "survey-template.xlsx"),
        caption=_(
            "The survey template: settings on the first sheet, one question per row on "
            "the second, instructions on the third. Edit the example, then send the file "
            "back here."
        ),
    )


async def on_file(
    message: Message,
    bot: Bot,
    state: FSMContext,
    surveys: SurveyService,
    survey_drafts: SurveyDrafts,
    repos: Repositories,
    screen: Screen,
) -> None:
    """A workbook (or, when one was asked for, any file: a wrong one is named as such)."""
    document = message.document
    assert document is not None
    name = document.file_name or "survey.xlsx"
    if name.lower().endswith(".toml"):
        await state.clear()
        await on_definition_file(message, bot, surveys, repos, screen)
        return
    try:
        check_size(document.file_size or 0)  # before downloading anything
        buffer = io.BytesIO()
        await bot.download(document, destination=buffer)
        survey, created = await survey_drafts.import_workbook(buffer.getvalue(), name)
    except WorkbookError as exc:
        await show_problems(screen, exc.render(_))
        return
    except DefinitionError as exc:  # the update would orphan answers already given
        await show_problems(screen, exc.problems)
        return
    await state.clear()
    await reply_imported(screen, survey, created, repos)


async def on_not_a_file(message: Message) -> None:
    await message.answer(_("Please send the survey file (.xlsx or .toml) as a document."))


async def on_rename(
    _callback: CallbackQuery,
    callback_data: DraftCB,
    state: FSMContext,
    surveys: SurveyService,
    screen: Screen,
) -> None:
    survey = await surveys.get(callback_data.survey_id)
    await state.set_state(DraftStates.rename)
    await state.update_data(survey_id=survey.id)
    await screen.show(
        _("Send the new title of “{title}”.").format(
            title=html.quote(survey.definition.title.get(locale()))
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
    card, markup = survey_card(survey, await repos.surveys.participation(survey.id))
    await message.answer(_("Renamed.") + "\n\n" + card, reply_markup=markup)


async def on_excel(
    _callback: CallbackQuery,
    callback_data: DraftCB,
    surveys: SurveyService,
    survey_drafts: SurveyDrafts,
    screen: Screen,
) -> None:
    survey = await surveys.get(callback_data.survey_id)
    content = await survey_drafts.export_definition(survey.slug, "xlsx")
    await screen.document(
        BufferedInputFile(content, f"{survey.slug}.xlsx"),
        caption=_(
            "Edit it in Excel or WPS and send it back here: the draft is updated "
            "(keep the id on the first sheet)."
        ),
    )


def create_router() -> Router:
    router = role_router("survey_drafts")
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
        },
    )
    router.message.register(on_file, StateFilter(DraftStates.file), AnyDocument())
    router.message.register(on_not_a_file, StateFilter(DraftStates.file))
    router.message.register(on_file, StateFilter(None), DocumentWithSuffix(".xlsx"))
    router.message.register(ask_for_text, StateFilter(DraftStates.rename), WithoutText())
    router.message.register(on_rename_text, StateFilter(DraftStates.rename))
    return router
