"""Scheduled work. Jobs are registered in code on an in-memory APScheduler; each job is
idempotent and catches up by itself (a survey sweep after downtime opens, closes and reminds
what is due), so a missed run is never lost and a repeated run sends nothing twice."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.config import Config
from common.clock import Clock, system_clock
from digest.service import DigestService, Translator
from digest.settings import settings_from as digest_settings
from improvements.service import ImprovementService
from improvements.service import settings_from as improvement_settings
from proposals.service import ProposalService, settings_from
from storage.database import Database
from storage.uow import unit_of_work
from surveys.service import SurveyService

logger = logging.getLogger(__name__)
SWEEP_SECONDS = 60
PROPOSAL_SWEEP_MINUTES = 30  # due dates are days: half-hourly is plenty
DIGEST_CHECK_MINUTES = 5  # catch-up: is the due digest sent to everyone?


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


async def send_digests(
    config: Config, database: Database, translate: Translator, clock: Clock = system_clock
) -> dict[str, int]:
    """The latest due digest to whoever has not had it: at the scheduled time, at start-up
    (a digest missed while the bot was down) and every few minutes. Exactly once per member
    and period, whatever runs it and how often."""
    async with unit_of_work(database.sessions) as repos:
        return await DigestService(repos, digest_settings(config), clock=clock).catch_up(translate)


async def sweep_actions(config: Config, database: Database) -> dict[str, int]:
    async with unit_of_work(database.sessions) as repos:
        counts = await ImprovementService(repos, improvement_settings(config)).sweep()
    if any(counts.values()):
        logger.info("improvement action sweep: %s", counts)
    return counts


def translator(config: Config) -> Translator:
    """gettext per recipient language, outside any update (jobs render digests when queued)."""
    from bot.i18n import create_i18n

    i18n = create_i18n(config.union.default_locale)
    return lambda locale: (
        lambda message: i18n.gettext(message, locale=locale or i18n.default_locale)
    )


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

    async def actions() -> None:
        if any((await sweep_actions(config, database)).values()) and on_enqueued is not None:
            on_enqueued()

    scheduler.add_job(
        _guarded("actions", actions),
        "interval",
        minutes=PROPOSAL_SWEEP_MINUTES,
        id="actions",
        next_run_time=datetime.now(UTC),
        coalesce=True,
        max_instances=1,
        misfire_grace_time=None,
    )
    if config.digest.enabled:
        _add_digest_jobs(scheduler, config, database, on_enqueued)
    return scheduler


def _add_digest_jobs(
    scheduler: AsyncIOScheduler,
    config: Config,
    database: Database,
    on_enqueued: Callable[[], None] | None,
) -> None:
    settings = digest_settings(config)
    translate: list[Translator] = []  # built at the first run, not at start-up

    async def digests() -> None:
        if not translate:
            translate.append(translator(config))
        counts = await send_digests(config, database, translate[0])
        if on_enqueued is not None and (counts["queued"] or counts["resent"]):
            on_enqueued()

    # On time at the configured weekday and hour; the interval job is the catch-up (first
    # run at start-up). Both are idempotent: the delivery rows decide who still needs it.
    scheduler.add_job(
        _guarded("digest", digests),
        "cron",
        day_of_week=settings.weekday - 1,
        hour=settings.at.hour,
        minute=settings.at.minute,
        timezone=settings.tz,
        id="digest",
        coalesce=True,
        max_instances=1,
        misfire_grace_time=None,
    )
    scheduler.add_job(
        _guarded("digest-catch-up", digests),
        "interval",
        minutes=DIGEST_CHECK_MINUTES,
        id="digest-catch-up",
        next_run_time=datetime.now(UTC),
        coalesce=True,
        max_instances=1,
        misfire_grace_time=None,
    )
