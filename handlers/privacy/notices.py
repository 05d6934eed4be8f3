"""Outbox notices of the data rights feature."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder
from aiogram.utils.text_decorations import html_decoration as html

from handlers.callbacks import DataAction, DataCB
from handlers.renderers import Rendered
from privacy.service import ERASURE_REQUESTED


def render_erasure_requested(params: Mapping[str, Any]) -> Rendered:
    builder = InlineKeyboardBuilder()
    builder.button(text=_("Review"), callback_data=DataCB(action=DataAction.PENDING))
    text = _("🗑 {name} ({employee_id}) asks for their data to be erased.").format(
        name=html.quote(str(params["name"])), employee_id=html.quote(str(params["employee_id"]))
    )
    return text, builder.as_markup()


RENDERERS = {ERASURE_REQUESTED: render_erasure_requested}
