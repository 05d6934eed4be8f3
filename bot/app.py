"""Running the bot: migrations, bot commands per language, then long polling or a webhook."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Callable, Coroutine
from contextlib import suppress
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aiogram import Bot, Dispatcher
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramNetworkError,
    TelegramUnauthorizedError,
)
from aiogram.types import BotCommand, BotCommandScopeAllPrivateChats, User
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.exc import DBAPIError

from bot.config import Config, ConfigError
from bot.factory import create_bot, create_dispatcher, create_outbox_worker
from bot.leader import LeaderLock, Leadership, PostgresAdvisoryLock, RedisLeaseLock, SoleInstance
from bot.logs import configure_logging
from bot.progress import BroadcastProgressReporter
from bot.scheduler import create_scheduler
from bot.services import Services
from common.settings import SUPPORTED_LOCALES
from handlers.i18n import create_i18n
from storage import migrate
from storage.database import Database, create_database, readable_by_others, sqlite_file

if TYPE_CHECKING:
    from redis.asyncio import Redis

logger = logging.getLogger(__name__)

# Seconds that updates already being handled get to finish when polling stops.
DRAIN_TIMEOUT = 10.0
STARTUP_DATABASE_WAIT = 60.0  # seconds a starting instance waits for its database server


def bot_commands() -> list[BotCommand]:
    return [
        BotCommand(command="menu", description=_("Main menu")),
        BotCommand(command="start", description=_("Register or restart")),
        BotCommand(command="mailbox", description=_("Write to the principal or the secretary")),
        BotCommand(command="receipt", description=_("Read an anonymous letter's replies")),
        BotCommand(command="mydata", description=_("What the bot holds about me")),
        BotCommand(command="lang", description=_("Language / 语言")),
        BotCommand(command="help", description=_("Help")),
    ]


def readable_files(config: Config) -> list[Path]:
    """The mailbox key file and the SQLite database (with its -wal/-shm), where group or
    other users may read them: either opens every confidential sender and every letter."""
    candidates = []
    if config.mailbox.secret_key is None:
        candidates.append(Path(config.mailbox.key_file))
    database = sqlite_file(config.database.url)
    if database is not None:
        candidates += [database, Path(f"{database}-wal"), Path(f"{database}-shm")]
    return [path for path in candidates if readable_by_others(path)]


def warn_about_readable_files(config: Config) -> None:
    exposed = readable_files(config)
    if exposed:
        names = " ".join(str(path) for path in exposed)
        logger.warning(
            "readable by other users of this machine: %s — run `chmod 600 %s` "
            "(and UMask=0077 in the service, see docs/deploy.md)",
            names,
            names,
        )


async def set_commands(bot: Bot, i18n: I18n, default_locale: str) -> None:
    """The command menu in each language, plus the default for every other language."""
    scope = BotCommandScopeAllPrivateChats()
    with i18n.context():
        for locale in (*SUPPORTED_LOCALES, None):
            with i18n.use_locale(locale or default_locale):
                await bot.set_my_commands(bot_commands(), scope=scope, language_code=locale)


async def run_bot(
    config: Config,
    *,
    stop: asyncio.Event | None = None,
    handle_signals: bool = True,
    drain_timeout: float = DRAIN_TIMEOUT,
    on_listening: Callable[[int], None] | None = None,
) -> None:
    """Migrate, then take updates until SIGINT/SIGTERM (or until `stop` is set): by long
    polling, or in webhook mode by serving `[telegram] webhook_url`'s path.

    On the way out, updates already being handled get `drain_timeout` seconds to finish (so a
    reply is not cut off mid-request); then the bot session is closed and the engine disposed.
    `on_listening` gets the webhook's bound port (tests listen on port 0).
    """
    configure_logging(config)
    database = create_database(config.database.url, echo=config.database.echo)
    redis = create_redis(config)
    bot: Bot | None = None
    try:
        await upgrade_when_reachable(database)
        bot = create_bot(config)
        i18n = create_i18n(config.union.default_locale)
        services = Services(config, redis=redis)  # the composition root, once per process
        dispatcher = create_dispatcher(config, database, i18n=i18n, redis=redis, services=services)
        warn_about_readable_files(config)  # the key file exists by now
        me = await _check_telegram(bot, config)
        await set_commands(bot, i18n, config.union.default_locale)
        background = _start_background(config, database, bot, i18n, dispatcher, redis)
        try:
            if config.telegram.mode == "webhook":
                logger.info("starting webhook mode as @%s", me.username)
                await _serve_webhook(
                    config, database, bot, dispatcher, redis, background, stop,
                    handle_signals, drain_timeout, on_listening,
                )  # fmt: skip
            else:
                logger.info("starting long polling as @%s", me.username)
                await bot.delete_webhook(drop_pending_updates=False)
                try:
                    await _poll_until_stopped(dispatcher, bot, config, stop, handle_signals)
                finally:
                    await _drain(dispatcher, drain_timeout)
        finally:
            await background.stop()
    finally:
        if bot is not None:
            await bot.session.close()
        if redis is not None:
            await redis.aclose()
        await database.dispose()


run_polling = run_bot  # the name tests and older callers know


async def upgrade_when_reachable(
    database: Database, wait: float = STARTUP_DATABASE_WAIT, first_delay: float = 1.0
) -> None:
    """Migrates, waiting up to `wait` seconds for a database server that refuses connections:
    an instance restarted during a PostgreSQL restart exited with a traceback before (found by
    the soak, bench/soak). A SQLite file is never waited for."""
    loop = asyncio.get_running_loop()
    deadline, delay = loop.time() + wait, first_delay
    while True:
        try:
            await migrate.upgrade(database.engine)
            return
        except (OSError, DBAPIError) as error:
            if database.is_sqlite or loop.time() + delay > deadline:
                raise
            logger.warning(
                "database unreachable at start-up (%s); trying again in %.1f s",
                type(error).__name__,
                delay,
            )
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5.0)


def create_redis(config: Config) -> Redis | None:
    if config.fsm.redis_url is None:
        return None
    from redis.asyncio import Redis

    return Redis.from_url(config.fsm.redis_url)


async def _serve_webhook(
    config: Config,
    database: Database,
    bot: Bot,
    dispatcher: Dispatcher,
    redis: Redis | None,
    background: _Background,
    stop: asyncio.Event | None,
    handle_signals: bool,
    drain_timeout: float,
    on_listening: Callable[[int], None] | None,
) -> None:
    from bot.webhook import create_webhook_app, database_health, serve

    telegram = config.telegram
    assert telegram.webhook_url is not None and telegram.webhook_secret is not None
    secret = telegram.webhook_secret.get_secret_value()

    async def redis_health() -> dict[str, Any]:
        assert redis is not None
        await redis.ping()
        return {"redis": "ok"}

    app = create_webhook_app(
        dispatcher,
        bot,
        path=telegram.webhook_path,
        secret=secret,
        health=database_health(database, redis_health if redis is not None else None),
        status=lambda: {"leader": background.is_leader},
    )
    stop = stop or asyncio.Event()
    if handle_signals:
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
    # Every instance sets the same webhook: harmless, and none depends on another to start.
    try:
        await bot.set_webhook(
            telegram.webhook_url,
            secret_token=secret,
            allowed_updates=dispatcher.resolve_used_update_types(),
            max_connections=telegram.webhook_max_connections,
            drop_pending_updates=False,
        )
    except TelegramBadRequest as exc:  # e.g. not https, or a port Telegram does not post to
        raise ConfigError(f"[telegram] webhook_url: refused by Telegram: {exc.message}") from None
    await serve(
        app,
        telegram.webhook_listen,
        telegram.webhook_port,
        stop,
        shutdown_timeout=drain_timeout,
        on_ready=on_listening,
    )


async def _check_telegram(bot: Bot, config: Config) -> User:
    """The first request: turn the usual set-up mistakes into one clear line."""
    where = config.telegram.api_base or "api.telegram.org"
    try:
        return await bot.get_me()
    except TelegramUnauthorizedError:
        raise ConfigError("[telegram] token: rejected by Telegram (check BOT_TOKEN)") from None
    except TelegramNetworkError as exc:
        raise ConfigError(
            f"cannot reach the Bot API at {where}: {exc.message}. Check the network, or set "
            "[telegram] api_base to a local Bot API server."
        ) from None


class _Background:
    """Long-running companions of the update loop: the outbox sender on every instance; the
    scheduler and broadcast progress on the leader only."""

    def __init__(
        self,
        *coroutines: Callable[[asyncio.Event], Coroutine[Any, Any, None]],
        leadership: Leadership,
    ) -> None:
        self._stop = asyncio.Event()
        self._leadership = leadership
        self._tasks = [
            asyncio.create_task(run(self._stop)) for run in (*coroutines, leadership.run)
        ]

    @property
    def is_leader(self) -> bool:
        return self._leadership.is_leader

    async def stop(self) -> None:
        self._stop.set()
        results = await asyncio.gather(*self._tasks, return_exceptions=True)
        for result in results:
            if isinstance(result, BaseException) and not isinstance(result, asyncio.CancelledError):
                logger.error("background task failed", exc_info=result)


def create_leader_lock(database: Database, redis: Redis | None) -> LeaderLock:
    if redis is not None:
        return RedisLeaseLock(redis)
    if database.is_sqlite:
        return SoleInstance()
    return PostgresAdvisoryLock(database.engine)


def _start_background(
    config: Config,
    database: Database,
    bot: Bot,
    i18n: I18n,
    dispatcher: Dispatcher,
    redis: Redis | None = None,
) -> _Background:
    worker = create_outbox_worker(config, database, bot, i18n, dispatcher, redis)
    progress = BroadcastProgressReporter(
        bot,
        database,
        i18n,
        interval=config.outbox.progress_interval,
        rate_per_second=config.outbox.rate_per_second,
    )
    wakeup = dispatcher["outbox_wakeup"]

    async def lead(step_down: asyncio.Event) -> None:
        # Every job create_scheduler registers (sweeps, digests, ...) runs here only.
        scheduler = create_scheduler(
            dispatcher["services"],
            database,
            on_enqueued=wakeup.set,
            anonymous_sessions=dispatcher["anonymous_sessions"],
        )
        scheduler.start()
        try:
            await progress.run(step_down)
        finally:
            scheduler.shutdown(wait=False)

    leadership = Leadership(create_leader_lock(database, redis), lead)
    return _Background(worker.run, leadership=leadership)


async def _poll_until_stopped(
    dispatcher: Dispatcher,
    bot: Bot,
    config: Config,
    stop: asyncio.Event | None,
    handle_signals: bool,
) -> None:
    polling = dispatcher.start_polling(
        bot,
        polling_timeout=config.telegram.polling_timeout,
        allowed_updates=dispatcher.resolve_used_update_types(),
        handle_signals=handle_signals,
        close_bot_session=False,  # run_polling closes it, after the handlers have finished
    )
    if stop is None:
        await polling
        return
    polling_task = asyncio.create_task(polling)
    # Created second: by the time it can finish, start_polling holds its lock, so
    # stop_polling() below cannot fail with "Polling is not started".
    stop_task = asyncio.create_task(stop.wait())
    try:
        await asyncio.wait({polling_task, stop_task}, return_when=asyncio.FIRST_COMPLETED)
        if not polling_task.done():
            await dispatcher.stop_polling()
        await polling_task  # propagates a crash of the polling loop
    finally:
        for task in (stop_task, polling_task):
            if not task.done():
                task.cancel()
                with suppress(asyncio.CancelledError):
                    await task


async def _drain(dispatcher: Dispatcher, timeout: float) -> None:
    """Wait for in-flight update handlers; aiogram's stop_polling does not (3.31)."""
    # Private, but the only handle on them; aiogram is pinned to 3.31.x in pyproject.toml.
    tasks = set(getattr(dispatcher, "_handle_update_tasks", ()))
    if not tasks:
        return
    logger.info("waiting for %d update(s) still being handled", len(tasks))
    _, pending = await asyncio.wait(tasks, timeout=timeout)
    for task in pending:
        task.cancel()
    if pending:
        logger.warning("gave up on %d update(s) after %.0f s", len(pending), timeout)
        await asyncio.wait(pending)
