"""Officers' survey screens: the card, status names, new-survey choices, the try banner."""

from __future__ import annotations

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import get_i18n
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder
from aiogram.utils.text_decorations import html_decoration as html

from handlers.callbacks import (
    DraftAction,
    DraftCB,
    ImprovementAction,
    ImprovementCB,
    SurveyAction,
    SurveyAdminAction,
    SurveyAdminCB,
    TrySurveyCB,
)
from surveys.service import SurveyInfo

STATUS_NAMES = {"draft": "📝", "open": "🟢", "closed": "⚪️"}


def status_name(status: str) -> str:
    return {"draft": _("draft"), "open": _("open"), "closed": _("closed")}[status]


def survey_card(
    survey: SurveyInfo, participation: tuple[int, int]
) -> tuple[str, InlineKeyboardMarkup]:
    """The survey as officers see it; `participation`: (invited, finished)."""
    locale = get_i18n().current_locale
    invited, finished = participation
    definition = survey.definition
    lines = [
        f"<b>{html.quote(definition.title.get(locale))}</b> ({html.quote(survey.slug)})",
        _("Status: {status}").format(status=status_name(survey.status)),
        _("Anonymous") if survey.anonymous else _("Named"),
        _("Questions: {count}").format(count=len(definition.questions)),
        _("Answered: {finished} of {invited} invited").format(finished=finished, invited=invited),
    ]
    builder = InlineKeyboardBuilder()

    def button(text: str, action: SurveyAdminAction) -> None:
        builder.button(text=text, callback_data=SurveyAdminCB(action=action, survey_id=survey.id))

    if survey.status == "draft":
        for text, action in (
            (_("👀 Try it"), DraftAction.TRY),
            (_("🗓 Schedule"), DraftAction.SCHEDULE),
            (_("✏️ Rename"), DraftAction.RENAME),
            (_("📄 Edit in Excel"), DraftAction.EXCEL),
        ):
            builder.button(text=text, callback_data=DraftCB(action=action, survey_id=survey.id))
    if survey.status != "open":
        button(_("🟢 Open and invite"), SurveyAdminAction.OPEN)
    else:
        button(_("⚪️ Close"), SurveyAdminAction.CLOSE)
    button(_("📊 Results"), SurveyAdminAction.RESULTS)
    button(_("📥 Export XLSX"), SurveyAdminAction.EXPORT)
    builder.adjust(2)
    return "\n".join(lines), builder.as_markup()


def improvement_keyboard(survey: SurveyInfo) -> InlineKeyboardMarkup:
    """One button per question: an improvement action linked to it (its score before/after
    becomes the action's evidence)."""
    builder = InlineKeyboardBuilder()
    for position, question in enumerate(survey.definition.questions, start=1):
        builder.button(
            text=f"🛠 {position}. {question.text.get(get_i18n().current_locale)[:30]}",
            callback_data=ImprovementCB(
                action=ImprovementAction.NEW, kind="q", ref_id=survey.id, ref_key=str(position)
            ),
        )
    builder.adjust(1)
    return builder.as_markup()


def locale() -> str:
    return get_i18n().current_locale


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


def try_banner() -> str:
    return _("👀 Trying the draft: what members will see. Nothing is stored.")


def try_keyboard(survey: SurveyInfo) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(
        text=_("▶️ Start"),
        callback_data=TrySurveyCB(action=SurveyAction.START, survey_id=survey.id),
    )
    return builder.as_markup()
