"""Scheduled work. Jobs are registered in code on an in-memory APScheduler; each job is
idempotent and catches up by itself (a survey sweep after downtime opens, closes and reminds
what is due), so a missed run is never lost and a repeated run sends nothing twice."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.config import Config
from bot.mailbox_setup import create_mailbox_context
from mailboxes.service import MailboxService
from mailboxes.settings import MailboxContext
from privacy.retention import RetentionPolicy, run_retention
from proposals.service import ProposalService, settings_from
from storage.database import Database
from storage.uow import unit_of_work
from surveys.service import SurveyService

logger = logging.getLogger(__name__)
SWEEP_SECONDS = 60
PROPOSAL_SWEEP_MINUTES = 30  # due dates are days: half-hourly is plenty
# Anonymous letters are announced to recipients in these batches, so the moment of a notice
# is not the moment the sender wrote.
MAILBOX_SWEEP_MINUTES = 10


async def sweep_surveys(config: Config, database: Database) -> dict[str, int]:
    async with unit_of_work(database.sessions) as repos:
        counts = await SurveyService(
            repos, timezone=config.union.timezone, small_group=config.surveys.small_group
        ).sweep()
    if any(counts.values()):
        logger.info("survey sweep: %s", counts)
    return counts


async def sweep_proposals(config: Config, database: Database) -> dict[str, int]:
    async with unit_of_work(database.sessions) as repos:
        counts = await ProposalService(repos, settings_from(config)).sweep()
    if any(counts.values()):
        logger.info("proposal sweep: %s", counts)
    return counts


async def sweep_mailbox(database: Database, context: MailboxContext) -> dict[str, int]:
    async with unit_of_work(database.sessions) as repos:
        counts = await MailboxService(repos, context).sweep()
    if any(counts.values()):
        logger.info("mailbox sweep: %s", counts)
    return counts


def retention_policy(config: Config) -> RetentionPolicy:
    section = config.retention
    return RetentionPolicy(
        handled_letters_days=section.handled_letters_days,
        outbox_days=section.outbox_days,
        processed_updates_days=section.processed_updates_days,
        survey_text_days=section.survey_text_days,
        conversations_days=section.conversations_days,
    )


async def purge_expired(
    config: Config, database: Database, *, dry_run: bool = False
) -> dict[str, int]:
    async with unit_of_work(database.sessions) as repos:
        counts = await run_retention(
            repos, retention_policy(config), datetime.now(UTC), dry_run=dry_run
        )
    if not dry_run:
        await database.checkpoint()  # deleted rows must not linger in SQLite's WAL file
        logger.info("retention purge: %s", counts)  # counts only, never content
    return counts


def _guarded(name: str, job: Callable[[], Awaitable[object]]) -> Callable[[], Awaitable[None]]:
    async def run() -> None:
        try:
            await job()
        except Exception:  # a failing job must not take the scheduler down; it runs again
            logger.exception("scheduled job %s failed", name)

    return run


def create_scheduler(
    config: Config, database: Database, on_enqueued: Callable[[], None] | None = None
) -> AsyncIOScheduler:
    scheduler = AsyncIOScheduler(timezone=config.union.tz)

    async def surveys() -> None:
        counts = await sweep_surveys(config, database)
        if on_enqueued is not None and (counts["opened"] or counts["reminded"]):
            on_enqueued()

    scheduler.add_job(
        _guarded("surveys", surveys),
        "interval",
        seconds=SWEEP_SECONDS,
        id="surveys",
        next_run_time=datetime.now(UTC),  # first run at start-up: catch up at once
        coalesce=True,
        max_instances=1,
        misfire_grace_time=None,
    )

    async def proposals() -> None:
        counts = await sweep_proposals(config, database)
        if on_enqueued is not None and any(counts.values()):
            on_enqueued()

    scheduler.add_job(
        _guarded("proposals", proposals),
        "interval",
        minutes=PROPOSAL_SWEEP_MINUTES,
        id="proposals",
        next_run_time=datetime.now(UTC),
        coalesce=True,
        max_instances=1,
        misfire_grace_time=None,
    )

    mailbox_context = create_mailbox_context(config)

    async def mailbox() -> None:
        counts = await sweep_mailbox(database, mailbox_context)
        if on_enqueued is not None and any(counts.values()):
            on_enqueued()

    scheduler.add_job(
        _guarded("mailbox", mailbox),
        "interval",
        minutes=MAILBOX_SWEEP_MINUTES,
        id="mailbox",
        next_run_time=datetime.now(UTC),
        coalesce=True,
        max_instances=1,
        misfire_grace_time=None,
    )

    scheduler.add_job(
        _guarded("retention", lambda: purge_expired(config, database)),
        "cron",
        hour=config.retention.hour,
        minute=30,
        id="retention",
        coalesce=True,
        max_instances=1,
        misfire_grace_time=6 * 3600,  # a bot restarted in the morning still purges that day
    )
    return scheduler
