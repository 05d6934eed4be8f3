"""Survey files sent in chat (TOML definitions; Excel via drafts): shared by the survey
routers, no router here."""

from __future__ import annotations

import io

from aiogram import Bot
from aiogram.types import Message
from aiogram.utils.i18n import get_i18n
from aiogram.utils.i18n import gettext as _
from aiogram.utils.text_decorations import html_decoration as html

from handlers.screen import Screen
from handlers.surveys.admin_views import survey_card
from storage.uow import Repositories
from surveys.definition import DefinitionError, localized
from surveys.service import SurveyInfo, SurveyService

MAX_DEFINITION_BYTES = 256 * 1024


async def on_definition_file(
    message: Message,
    bot: Bot,
    surveys: SurveyService,
    repos: Repositories,
    screen: Screen,
) -> None:
    document = message.document
    assert document is not None
    if (document.file_size or 0) > MAX_DEFINITION_BYTES:
        await message.answer(_("This file is too large for a survey definition."))
        return
    buffer = io.BytesIO()
    await bot.download(document, destination=buffer)
    try:
        source = buffer.getvalue().decode("utf-8-sig")
    except UnicodeDecodeError:
        await message.answer(_("The file must be UTF-8 text."))
        return
    try:
        survey, created = await surveys.import_definition(source, document.file_name or "x.toml")
    except DefinitionError as exc:
        problems = "\n".join(html.quote(localized(p, _)) for p in exc.problems[:20])
        await message.answer(_("Nothing was stored. Problems found:") + f"\n<pre>{problems}</pre>")
        return
    await reply_imported(screen, survey, created, repos)


async def reply_imported(
    screen: Screen, survey: SurveyInfo, created: bool, repos: Repositories
) -> None:
    text = _("Survey “{title}” imported.") if created else _("Survey “{title}” updated.")
    card, markup = survey_card(survey, await repos.surveys.participation(survey.id))
    await screen.show(
        text.format(title=html.quote(survey.definition.title.get(get_i18n().current_locale)))
        + "\n\n"
        + card,
        reply_markup=markup,
    )


MAX_PROBLEMS_SHOWN = 20


async def show_problems(screen: Screen, problems: list[str]) -> None:
    shown = "\n".join(html.quote(p) for p in problems[:MAX_PROBLEMS_SHOWN])
    more = len(problems) - MAX_PROBLEMS_SHOWN
    if more > 0:
        shown += "\n" + html.quote(_("… and {count} more.").format(count=more))
    await screen.show(_("Nothing was stored. Problems found:") + f"\n<pre>{shown}</pre>")
