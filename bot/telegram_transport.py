"""The outbox's Telegram side: render in the recipient's language, send, classify the answer."""

from __future__ import annotations

import asyncio
import logging

from aiogram import Bot
from aiogram.exceptions import (
    ClientDecodeError,
    TelegramAPIError,
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.types import BufferedInputFile, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n

from bot.flood import outbox_send
from handlers.renderers import Rendered, Renderers
from outbox.model import ClaimedMessage, Kind, Outcome, SendResult

logger = logging.getLogger(__name__)
REQUEST_TIMEOUT = 30  # seconds; a hung request counts as a temporary failure
CAPTION_LIMIT = 1024
# 400s that mean "this person cannot be reached", not "this message is wrong".
UNREACHABLE_400 = ("chat not found", "user is deactivated", "peer_id_invalid", "user not found")


class TelegramTransport:
    def __init__(self, bot: Bot, i18n: I18n, renderers: Renderers) -> None:
        self._bot = bot
        self._i18n = i18n
        self._renderers = renderers
        # A broadcast's file is uploaded once: later sends reuse Telegram's file_id, even
        # those claimed before the first upload was recorded in the database.
        self._file_ids: dict[int, str] = {}
        self._uploads: dict[int, asyncio.Lock] = {}

    def render(self, message: ClaimedMessage) -> Rendered:
        with (
            self._i18n.context(),
            self._i18n.use_locale(message.locale or self._i18n.default_locale),
        ):
            return self._renderers.render(message.template, message.params)

    async def send(self, message: ClaimedMessage) -> SendResult:
        text, markup = self.render(message)
        try:
            with outbox_send():
                sent = await self._send(message, text, markup)
        except TelegramRetryAfter as exc:
            return SendResult(
                Outcome.RETRY_AFTER, retry_after=float(exc.retry_after), error=exc.message
            )
        except TelegramForbiddenError as exc:
            return SendResult(Outcome.UNREACHABLE, error=exc.message)
        except TelegramBadRequest as exc:
            unreachable = any(reason in exc.message.lower() for reason in UNREACHABLE_400)
            return SendResult(
                Outcome.UNREACHABLE if unreachable else Outcome.PERMANENT, error=exc.message
            )
        # ClientDecodeError: an error page that is not Telegram's JSON (a proxy's HTML 502).
        except (TelegramServerError, TelegramNetworkError, ClientDecodeError, TimeoutError) as exc:
            return SendResult(Outcome.TEMPORARY, error=f"{type(exc).__name__}: {exc}"[:300])
        except TelegramAPIError as exc:  # 401/404/409 …: possibly transient on our side
            return SendResult(Outcome.TEMPORARY, error=f"{type(exc).__name__}: {exc.message}")
        except asyncio.CancelledError:
            raise
        return SendResult(
            Outcome.SENT, telegram_message_id=sent.message_id, telegram_file_id=_file_id(sent)
        )

    async def _send(
        self, message: ClaimedMessage, text: str, markup: InlineKeyboardMarkup | None
    ) -> Message:
        if message.kind is Kind.TEXT:
            return await self._bot.send_message(
                message.chat_id, text, reply_markup=markup, request_timeout=REQUEST_TIMEOUT
            )
        media, media_id = message.media, message.media_id
        assert media is not None and media_id is not None, f"message {message.id} lost its media"
        known = media.telegram_file_id or self._file_ids.get(media_id)
        if known:
            return await self._send_media(message, known, text, markup)
        async with self._uploads.setdefault(media_id, asyncio.Lock()):
            known = self._file_ids.get(media_id)  # uploaded while we waited
            upload = known or BufferedInputFile(media.content, media.filename)
            sent = await self._send_media(message, upload, text, markup)
            file_id = _file_id(sent)
            if file_id:
                self._file_ids[media_id] = file_id
            return sent

    async def _send_media(
        self,
        message: ClaimedMessage,
        media: str | BufferedInputFile,
        text: str,
        markup: InlineKeyboardMarkup | None,
    ) -> Message:
        caption = text[:CAPTION_LIMIT] or None
        if message.kind is Kind.PHOTO:
            return await self._bot.send_photo(
                message.chat_id,
                media,
                caption=caption,
                reply_markup=markup,
                request_timeout=REQUEST_TIMEOUT,
            )
        return await self._bot.send_document(
            message.chat_id,
            media,
            caption=caption,
            reply_markup=markup,
            request_timeout=REQUEST_TIMEOUT,
        )


def _file_id(message: Message) -> str | None:
    if message.photo:
        return message.photo[-1].file_id
    if message.document:
        return message.document.file_id
    return None
