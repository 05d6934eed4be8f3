"""Running the bot: migrations, bot commands per language, long polling."""

from __future__ import annotations

import logging

from aiogram import Bot
from aiogram.types import BotCommand, BotCommandScopeAllPrivateChats
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from bot.config import SUPPORTED_LOCALES, Config
from bot.factory import create_bot, create_dispatcher
from bot.i18n import create_i18n
from bot.logs import configure_logging
from storage import migrate
from storage.database import create_database

logger = logging.getLogger(__name__)


def bot_commands() -> list[BotCommand]:
    return [
        BotCommand(command="menu", description=_("Main menu")),
        BotCommand(command="start", description=_("Register or restart")),
        BotCommand(command="lang", description=_("Language / 语言")),
        BotCommand(command="help", description=_("Help")),
    ]


async def set_commands(bot: Bot, i18n: I18n, default_locale: str) -> None:
    """The command menu in each language, plus the default for every other language."""
    scope = BotCommandScopeAllPrivateChats()
    with i18n.context():
        for locale in (*SUPPORTED_LOCALES, None):
            with i18n.use_locale(locale or default_locale):
                await bot.set_my_commands(bot_commands(), scope=scope, language_code=locale)


async def run_polling(config: Config) -> None:
    configure_logging(config)
    database = create_database(config.database.url, echo=config.database.echo)
    await migrate.upgrade(database.engine)
    bot = create_bot(config)
    i18n = create_i18n(config.union.default_locale)
    dispatcher = create_dispatcher(config, database, bot, i18n=i18n)
    try:
        me = await bot.get_me()
        logger.info("starting long polling as @%s", me.username)
        await set_commands(bot, i18n, config.union.default_locale)
        await bot.delete_webhook(drop_pending_updates=False)
        await dispatcher.start_polling(
            bot,
            polling_timeout=config.telegram.polling_timeout,
            allowed_updates=dispatcher.resolve_used_update_types(),
        )
    finally:
        await bot.session.close()
        await database.dispose()
