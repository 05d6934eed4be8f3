"""/digest [2026-W48]: the stored digest of a period (default: the latest due), shown again to
whoever receives it — officers, the principal and secretary, departments' handlers."""

from __future__ import annotations

import asyncio

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import BufferedInputFile, Message
from aiogram.utils.i18n import get_i18n
from aiogram.utils.i18n import gettext as _

from common.errors import N_, DomainError, PermissionDenied
from digest.period import PeriodError
from digest.render import render_chart, render_messages, render_workbook
from digest.service import DigestService, period_or_due
from handlers.digest.views import theme_keyboard
from members.dto import Identity


async def on_digest(
    message: Message,
    command: CommandObject,
    identity: Identity,
    digest: DigestService,
) -> None:
    assert identity.member is not None
    audience = await digest.audience_of(identity.member.id)
    if audience is None:
        raise PermissionDenied()
    try:
        period = period_or_due((command.args or "").strip() or None, digest)
    except PeriodError:
        raise DomainError(N_("Send the week as 2026-W48, or nothing for the latest.")) from None
    await message.answer(_("Preparing the digest…"))
    stored = await digest.build(period, audience)
    locale = get_i18n().current_locale
    parts = render_messages(stored.data, _, locale)
    for index, part in enumerate(parts):
        markup = None
        if index == len(parts) - 1 and audience.kind == "officers":
            themes = stored.data["sections"].get("themes", {}).get("themes", [])[:5]
            markup = theme_keyboard(stored.id, [[i, t["keyword"]] for i, t in enumerate(themes)])
        await message.answer(part, reply_markup=markup)
    chart = await asyncio.to_thread(render_chart, stored.data, _)
    await message.answer_photo(BufferedInputFile(chart, f"digest-{stored.period}.png"))
    workbook = await asyncio.to_thread(render_workbook, stored.data)
    await message.answer_document(
        BufferedInputFile(workbook, f"digest-{stored.period}.xlsx"),
        caption=_("The details, as a workbook."),
    )


def create_router() -> Router:
    router = Router(name="digest")
    router.message.register(on_digest, Command("digest"))
    return router
