"""Live progress of broadcasts: one message per broadcast, edited as the outbox sends."""

from __future__ import annotations

import asyncio
import logging
from contextlib import suppress

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError, TelegramBadRequest
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from aiogram.utils.text_decorations import html_decoration as html

from common.clock import system_clock
from outbox.model import BroadcastDTO, Progress
from storage.database import Database
from storage.uow import Repositories

logger = logging.getLogger(__name__)


def format_count(value: int) -> str:
    return f"{value:,}"


def eta_text(remaining: int, rate_per_second: float) -> str:
    minutes = round(remaining / rate_per_second / 60)
    if minutes < 1:
        return _("less than a minute")
    return _("{minutes} min").format(minutes=format_count(minutes))


def progress_text(title: str, progress: Progress, rate_per_second: float) -> str:
    header = f"<b>{html.quote(title)}</b>\n"
    if progress.finished:
        return header + _(
            "Finished: sent {sent} / {total} · unreachable {unreachable} · failed {failed}"
        ).format(
            sent=format_count(progress.sent),
            total=format_count(progress.total),
            unreachable=format_count(progress.unreachable),
            failed=format_count(progress.failed),
        )
    return header + _(
        "Sent {sent} / {total} · unreachable {unreachable} · about {eta} left"
    ).format(
        sent=format_count(progress.sent),
        total=format_count(progress.total),
        unreachable=format_count(progress.unreachable),
        eta=eta_text(progress.total - progress.done, rate_per_second),
    )


class BroadcastProgressReporter:
    def __init__(
        self,
        bot: Bot,
        database: Database,
        i18n: I18n,
        *,
        interval: float,
        rate_per_second: float,
    ) -> None:
        self._bot = bot
        self._database = database
        self._i18n = i18n
        self._interval = interval
        self._rate = rate_per_second
        self._shown: dict[int, str] = {}

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self.tick()
            except Exception:  # progress is a courtesy: never let it stop the bot
                logger.exception("broadcast progress update failed")
            with suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=self._interval)

    async def tick(self) -> None:
        """Send or edit each unfinished broadcast's progress message; close finished ones."""
        async with self._database.sessions() as session:
            repos = Repositories(session)
            for broadcast in await repos.outbox.unfinished_broadcasts():
                progress = await repos.outbox.progress(broadcast.id)
                if broadcast.progress_chat_id is not None:
                    await self._show(repos, broadcast, progress)
                if progress.finished:
                    await repos.outbox.finish_broadcast(broadcast.id, system_clock())
                    self._shown.pop(broadcast.id, None)
                await repos.commit()

    async def _show(self, repos: Repositories, broadcast: BroadcastDTO, progress: Progress) -> None:
        assert broadcast.progress_chat_id is not None
        locale = broadcast.progress_locale or self._i18n.default_locale
        with self._i18n.context(), self._i18n.use_locale(locale):
            text = progress_text(broadcast.title, progress, self._rate)
        if self._shown.get(broadcast.id) == text:
            return
        try:
            if broadcast.progress_message_id is None:
                sent = await self._bot.send_message(broadcast.progress_chat_id, text)
                await repos.outbox.set_progress_message(broadcast.id, sent.message_id)
            else:
                await self._bot.edit_message_text(
                    text=text,
                    chat_id=broadcast.progress_chat_id,
                    message_id=broadcast.progress_message_id,
                )
        except TelegramBadRequest as exc:
            if "not modified" not in exc.message:
                logger.warning("progress message not updated: %s", exc.message)
        except TelegramAPIError as exc:
            logger.warning("progress message not updated: %s", type(exc).__name__)
        self._shown[broadcast.id] = text
