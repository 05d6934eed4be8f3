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
from bot.i18n import LocaleMiddleware, create_i18n
from bot.isolation import UserEventIsolation
from bot.mailbox_setup import create_anonymous_sessions, create_mailbox_context
from bot.middlewares import DatabaseMiddleware
from bot.renderers import Renderers
from bot.telegram_transport import TelegramTransport
from common.clock import Clock, system_clock
from handlers import (
    consent,
    digest,
    errors,
    fallback,
    groups,
    improvements,
    mailbox,
    mailbox_inbox,
    mailbox_notices,
    member_picker,
    menu,
    mydata,
    officers,
    proposal_browse,
    proposal_notices,
    proposal_work,
    proposals,
    reachability,
    settings,
    start,
    survey_admin,
    survey_drafts,
    survey_schedule,
    survey_try,
    surveys,
    todo,
)
from mailboxes.settings import MailboxContext
from outbox.budget import DatabaseSendBudget, RedisSendBudget, SendBudget
from outbox.worker import OutboxWorker, SenderSettings
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
    bot: Bot,
    *,
    clock: Clock = system_clock,
    i18n: I18n | None = None,
    mailbox_context: MailboxContext | None = None,
    redis: Redis | None = None,
) -> Dispatcher:
    i18n = i18n or create_i18n(config.union.default_locale)
    mailbox_context = mailbox_context or create_mailbox_context(config, redis)
    outbox_wakeup = asyncio.Event()
    if redis is not None:
        from aiogram.fsm.storage.redis import RedisEventIsolation, RedisStorage

        # Shared by every instance: state, and one update of a user at a time across them.
        storage: BaseStorage = RedisStorage(redis)
        isolation: BaseEventIsolation = RedisEventIsolation(redis)
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
        config=config,
        database=database,
        i18n=i18n,
        outbox_wakeup=outbox_wakeup,
        # Anonymous drafts and receipt sessions: memory (this process's, or Redis shared by
        # the instances), never the database.
        anonymous_sessions=create_anonymous_sessions(config, redis),
    )
    # Order matters: the database middleware identifies the sender, which picks the locale.
    dispatcher.update.outer_middleware(
        DatabaseMiddleware(
            database, config, clock=clock, mailbox=mailbox_context, outbox_wakeup=outbox_wakeup
        )
    )
    LocaleMiddleware(i18n).setup(dispatcher)
    dispatcher.include_routers(
        errors.create_router(),
        reachability.create_router(),
        groups.create_router(),
        consent.create_router(),  # before everything a registered member can do
        surveys.create_button_router(),  # the answer path: nothing else takes these buttons
        start.create_router(),
        officers.create_router(),
        member_picker.create_router(),
        menu.create_router(),
        mydata.create_router(),
        surveys.create_router(),
        survey_drafts.create_router(),  # before survey_admin: a file asked for may be TOML
        survey_try.create_router(),
        survey_schedule.create_router(),
        survey_admin.create_router(),
        proposals.create_router(),
        proposal_browse.create_router(),
        proposal_work.create_router(),
        mailbox_inbox.create_router(),
        mailbox.create_router(),
        digest.create_router(),
        improvements.create_router(),
        todo.create_router(),
        settings.create_router(),
        fallback.create_router(),  # last: catches what nobody else took
    )
    return dispatcher


def create_renderers() -> Renderers:
    """Every template the outbox can send, rendered by the feature that owns it."""
    renderers = Renderers()
    renderers.register(officers.RENDERERS)
    renderers.register(surveys.RENDERERS)
    renderers.register(proposal_notices.RENDERERS)
    renderers.register(mailbox_notices.RENDERERS)
    renderers.register(mydata.RENDERERS)
    renderers.register(digest.RENDERERS)
    renderers.register(improvements.RENDERERS)
    renderers.register(todo.RENDERERS)
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
    settings = SenderSettings(
        rate_per_second=config.outbox.rate_per_second,
        max_in_flight=config.outbox.max_in_flight,
        max_attempts=config.outbox.max_attempts,
        claim_lease=config.outbox.claim_lease if shared else None,
    )
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
