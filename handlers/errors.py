"""The one error handler: domain refusals become a clear message; bugs are logged and the
user is told something went wrong, in their language. Polling never dies."""

from __future__ import annotations

import logging
import sqlite3

from aiogram import Bot, Router
from aiogram.exceptions import (
    ClientDecodeError,
    TelegramAPIError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.types import ErrorEvent, Update
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from aiogram.utils.text_decorations import html_decoration as html
from redis.exceptions import ConnectionError as RedisConnectionError
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from common.errors import DomainError
from handlers.i18n import reduce_locale
from members.dto import Identity

logger = logging.getLogger(__name__)


def _chat_id(update: Update) -> int | None:
    if update.message is not None:
        return update.message.chat.id
    if update.callback_query is not None and update.callback_query.message is not None:
        return update.callback_query.message.chat.id
    return None


def _locale(update: Update, identity: Identity | None, i18n: I18n) -> str:
    if identity is not None and identity.member is not None and identity.member.locale:
        return identity.member.locale
    user = update.event.from_user if hasattr(update.event, "from_user") else None
    return reduce_locale(user.language_code if user else None) or i18n.default_locale


async def _tell(bot: Bot, update: Update, text: str) -> None:
    try:
        if update.callback_query is not None:
            await bot.answer_callback_query(update.callback_query.id, text, show_alert=True)
            return
        chat_id = _chat_id(update)
        if chat_id is not None:
            await bot.send_message(chat_id, text)
    # The user may have blocked the bot meanwhile, or Telegram is away (an error page that is
    # not Telegram's JSON, a network error): either way there is nobody to tell.
    except (TelegramAPIError, ClientDecodeError, TelegramNetworkError) as exc:
        logger.warning("could not tell the user about an error: %s", type(exc).__name__)


# PostgreSQL's "try again" states: lock_timeout, serialization failure, deadlock, statement
# timeout. SQLite says SQLITE_BUSY / SQLITE_LOCKED (and their sub-codes).
_PG_BUSY = frozenset({"55P03", "40001", "40P01", "57014"})


def _busy(exception: BaseException) -> bool:
    """The database gave up waiting for a lock: nothing of this update was stored."""
    # The answer path's channel (storage/hot.py) raises sqlite3's own error, not SQLAlchemy's.
    if isinstance(exception, DBAPIError):
        original: object = exception.orig
    elif isinstance(exception, sqlite3.OperationalError):
        original = exception
    else:
        return False
    name = str(getattr(original, "sqlite_errorname", "") or "")
    return name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")) or (
        getattr(original, "sqlstate", None) in _PG_BUSY
    )


def _database_gave_up(exception: Exception) -> bool:
    """Locked past the timeout or unreachable: the update's transaction was rolled back."""
    return _busy(exception) or (
        isinstance(exception, DBAPIError)
        and (exception.connection_invalidated or isinstance(exception, OperationalError))
    )


def is_outage(exception: BaseException) -> bool:
    """The database or Redis is unreachable or too busy: the update itself is fine, retry it
    later."""
    if isinstance(exception, DBAPIError) and exception.connection_invalidated:
        return True
    if _busy(exception):
        return True
    return isinstance(
        exception,
        (OperationalError, InterfaceError, RedisConnectionError, ConnectionError, TimeoutError),
    )


# Telegram's side failed: 5xx, an error page that is not its JSON, no connection, a flood wait
# (bot/middlewares.py still records the step as processed).
TELEGRAM_AWAY = (TelegramServerError, ClientDecodeError, TelegramNetworkError, TelegramRetryAfter)


async def on_error(
    event: ErrorEvent,
    bot: Bot,
    i18n: I18n,
    identity: Identity | None = None,
    webhook_mode: bool = False,
) -> None:
    update, exception = event.update, event.exception
    if webhook_mode and is_outage(exception):
        # No 200: Telegram delivers the update again (to this or another instance) once the
        # outage is over, instead of the user being told to try again.
        logger.warning(
            "update %s: %s; left to Telegram's retry", update.update_id, type(exception).__name__
        )
        raise exception
    if isinstance(exception, TELEGRAM_AWAY):
        # Telegram itself refused the answer (after bot/flood.py's retries): not a bug here,
        # and telling the person would fail the same way.
        logger.warning(
            "update %s: Telegram unavailable (%s); the answer was not delivered",
            update.update_id,
            type(exception).__name__,
        )
        return
    with i18n.context(), i18n.use_locale(_locale(update, identity, i18n)):
        if isinstance(exception, DomainError):
            params = {
                key: _(value) if key in exception.translate else value
                for key, value in exception.params.items()
            }
            if update.callback_query is None:  # a message is HTML (an alert is plain text)
                params = {
                    key: html.quote(value) if isinstance(value, str) else value
                    for key, value in params.items()
                }
            await _tell(bot, update, _(exception.message_id).format(**params))
            return
        # Context without content: update id and type only, never message text (it may be an
        # anonymous letter) and never the token (aiogram's exceptions do not carry it). A
        # database error's message (which may quote values) is withheld by bot.logs.
        logger.error(
            "handler failed on update %s (%s)",
            update.update_id,
            update.event_type,
            exc_info=(type(exception), exception, exception.__traceback__),
        )
        if _database_gave_up(exception):
            # The transaction was rolled back: say so, so nobody believes a letter was sent.
            await _tell(
                bot,
                update,
                _("⏳ The bot is busy right now: this step was not saved. Please try again."),
            )
            return
        await _tell(bot, update, _("Sorry, something went wrong. Please try again later."))


def create_router() -> Router:
    router = Router(name="errors")
    router.errors.register(on_error)
    return router
