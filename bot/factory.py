"""Composition root: builds the Bot and the Dispatcher with every router and middleware."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.fsm.storage.base import BaseEventIsolation, BaseStorage
from aiogram.utils.i18n import I18n

from bot.config import Config
from bot.flood import FloodControl
from bot.isolation import SharedUserIsolation, UserEventIsolation
from bot.middlewares import DatabaseMiddleware, ServicesMiddleware
from bot.services import Services
from bot.telegram_transport import TelegramTransport
from common.clock import Clock, system_clock
from handlers.digest import notices as digest_notices
from handlers.i18n import LocaleMiddleware, create_i18n
from handlers.improvements import notices as improvement_notices
from handlers.mailbox import notices as mailbox_notices
from handlers.members import notices as member_notices
from handlers.privacy import notices as privacy_notices
from handlers.proposals import notices as proposal_notices
from handlers.renderers import Renderers
from handlers.routers import create_routers
from handlers.surveys import notices as survey_notices
from handlers.todo import notices as todo_notices
from outbox.budget import DatabaseSendBudget, RedisSendBudget, SendBudget
from outbox.worker import OutboxWorker
from storage.database import Database
from storage.fsm import SQLStorage

if TYPE_CHECKING:
    from redis.asyncio import Redis


def create_bot(config: Config, session: AiohttpSession | None = None) -> Bot:
    if session is None and config.telegram.api_base:
        session = AiohttpSession(api=TelegramAPIServer.from_base(config.telegram.api_base))
    return Bot(
        token=config.require_token(),
        session=session,
        default=DefaultBotProperties(parse_mode=ParseMode.HTML, link_preview_is_disabled=True),
    )


def create_dispatcher(
    config: Config,
    database: Database,
    *,
    clock: Clock = system_clock,
    i18n: I18n | None = None,
    redis: Redis | None = None,
    services: Services | None = None,
) -> Dispatcher:
    """`services`: the process's composition root (built here when not given)."""
    i18n = i18n or create_i18n(config.union.default_locale)
    services = services or Services(config, clock=clock, redis=redis)
    services.secret_key()  # read (or create) the key file at start, not at the first letter
    outbox_wakeup = asyncio.Event()
    if redis is not None:
        from aiogram.fsm.storage.redis import RedisStorage

        # Shared by every instance: state, and one update of a user at a time across them.
        storage: BaseStorage = RedisStorage(redis)
        isolation: BaseEventIsolation = SharedUserIsolation(redis)
    else:
        # One process owns a SQLite file, so FSM reads can be cached in memory.
        storage = SQLStorage(
            database.sessions,
            cache_size=10_000 if database.is_sqlite else 0,
            channel=database.channel,
        )
        isolation = UserEventIsolation()
    dispatcher = Dispatcher(
        storage=storage,
        events_isolation=isolation,
        database=database,
        i18n=i18n,
        outbox_wakeup=outbox_wakeup,
        # The error router leaves updates to Telegram's retry during an outage (webhook only).
        webhook_mode=config.telegram.mode == "webhook",
        services=services,
        # Anonymous drafts and receipt sessions: memory (this process's, or Redis shared by
        # the instances), never the database.
        anonymous_sessions=services.anonymous_sessions(),
    )
    # Order matters: the database middleware identifies the sender, which picks the locale.
    dispatcher.update.outer_middleware(
        DatabaseMiddleware(database, services, outbox_wakeup=outbox_wakeup)
    )
    # Inner: only for the handler that matched, with the services it names (cheap updates
    # build none they do not use). Registered on the dispatcher, so every router has it.
    inject = ServicesMiddleware()
    for name, observer in dispatcher.observers.items():
        if name != "update":
            observer.middleware(inject)
    LocaleMiddleware(i18n).setup(dispatcher)
    dispatcher.include_routers(*create_routers())
    return dispatcher


def create_renderers() -> Renderers:
    """Every template the outbox can send, rendered by the feature that owns it."""
    renderers = Renderers()
    renderers.register(member_notices.RENDERERS)
    renderers.register(survey_notices.RENDERERS)
    renderers.register(proposal_notices.RENDERERS)
    renderers.register(mailbox_notices.RENDERERS)
    renderers.register(privacy_notices.RENDERERS)
    renderers.register(digest_notices.RENDERERS)
    renderers.register(improvement_notices.RENDERERS)
    renderers.register(todo_notices.RENDERERS)
    return renderers


def create_outbox_worker(
    config: Config,
    database: Database,
    bot: Bot,
    i18n: I18n,
    dispatcher: Dispatcher,
    redis: Redis | None = None,
) -> OutboxWorker:
    """SQLite: the only sender. PostgreSQL: one of possibly several, sharing the pace."""
    shared = not database.is_sqlite
    settings = config.outbox.sender_settings(shared=shared)
    budget: SendBudget | None = None
    if redis is not None:
        budget = RedisSendBudget(redis, config.outbox.rate_per_second)
    elif shared:
        budget = DatabaseSendBudget(database, config.outbox.rate_per_second)
    transport = TelegramTransport(bot, i18n, create_renderers())
    worker = OutboxWorker(
        database, transport, settings, wakeup=dispatcher["outbox_wakeup"], budget=budget
    )
    # Replies in chat share the outbox's pace and its flood waits (bot/flood.py).
    bot.session.middleware(FloodControl(worker.pacer, budget))
    return worker
