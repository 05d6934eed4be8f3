"""The digest's buttons: officers open an improvement action from a theme."""

from __future__ import annotations

from typing import Any

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from handlers.callbacks import ImprovementAction, ImprovementCB


def theme_keyboard(digest_id: int, themes: list[list[Any]]) -> InlineKeyboardMarkup | None:
    """Officers open an improvement action straight from a theme."""
    if not themes:
        return None
    builder = InlineKeyboardBuilder()
    for index, keyword in themes:
        builder.button(
            text=_("🛠 Act on “{keyword}”").format(keyword=keyword),
            callback_data=ImprovementCB(
                action=ImprovementAction.NEW, kind="t", ref_id=digest_id, ref_key=str(index)
            ),
        )
    builder.adjust(2)
    return builder.as_markup()
