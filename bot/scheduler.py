"""Scheduled work. Jobs are registered in code on an in-memory APScheduler; each job is
idempotent and catches up by itself (a survey sweep after downtime opens, closes and reminds
what is due), so a missed run is never lost and a repeated run sends nothing twice."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.config import Config
from bot.services import Services
from digest.service import Translator
from mailboxes.memory import AnonymousStore
from privacy.retention import run_retention
from storage.database import Database
from storage.uow import unit_of_work
from todo.service import send_held_notices

logger = logging.getLogger(__name__)
SWEEP_SECONDS = 60
PROPOSAL_SWEEP_MINUTES = 30  # due dates are days: half-hourly is plenty
# Anonymous letters are announced to recipients in these batches, so the moment of a notice
# is not the moment the sender wrote.
MAILBOX_SWEEP_MINUTES = 10
# Abandoned anonymous drafts leave memory within this long after their hour is up.
ANONYMOUS_SWEEP_MINUTES = 10
DIGEST_CHECK_MINUTES = 5  # catch-up: is the due digest sent to everyone?
# Work notices made within this window reach a person as one message ("3 proposals are
# waiting for review"); short enough that a proposal reaching review is told promptly.
NOTICE_SWEEP_SECONDS = 60


async def sweep_surveys(services: Services, database: Database) -> dict[str, int]:
    async with unit_of_work(database.sessions) as repos:
        counts = await services.surveys(repos).sweep()
    if any(counts.values()):
        logger.info("survey sweep: %s", counts)
    return counts


async def sweep_proposals(services: Services, database: Database) -> dict[str, int]:
    async with unit_of_work(database.sessions) as repos:
        counts = await services.proposals(repos).sweep()
    if any(counts.values()):
        logger.info("proposal sweep: %s", counts)
    return counts


async def sweep_mailbox(
    services: Services, database: Database, *, release_senders: bool = False
) -> dict[str, int]:
    async with unit_of_work(database.sessions) as repos:
        counts = await services.mailbox(repos).sweep(release_senders=release_senders)
    if any(counts.values()):
        logger.info("mailbox sweep: %s", counts)
    return counts


async def sweep_notices(database: Database) -> dict[str, int]:
    """Held work notices go out, merged per recipient and kind (docs/outbox.md)."""
    async with unit_of_work(database.sessions) as repos:
        counts = await send_held_notices(repos, datetime.now(UTC))
    if any(counts.values()):
        logger.info("notice sweep: %s", counts)
    return counts


async def sweep_anonymous_sessions(sessions: AnonymousStore) -> dict[str, int]:
    """Forget abandoned anonymous drafts and receipt sessions (they expire after an hour
    without activity, but in memory only a lookup by their owner dropped them; Redis expires
    them by itself, so there this does nothing)."""
    expired = await sessions.sweep()
    if expired:
        logger.info("anonymous sessions expired: %d", expired)  # a count, never who
    return {}  # nothing queued: the outbox need not wake


async def purge_expired(
    services: Services, database: Database, *, dry_run: bool = False
) -> dict[str, int]:
    async with unit_of_work(database.sessions) as repos:
        counts = await run_retention(
            repos, services.retention_policy, datetime.now(UTC), dry_run=dry_run
        )
    if not dry_run:
        await database.checkpoint()  # deleted rows must not linger in SQLite's WAL file
        logger.info("retention purge: %s", counts)  # counts only, never content
    return counts


async def send_digests(
    services: Services, database: Database, translate: Translator
) -> dict[str, int]:
    """The latest due digest to whoever has not had it: at the scheduled time, at start-up
    (a digest missed while the bot was down) and every few minutes. Exactly once per member
    and period, whatever runs it and how often."""
    async with unit_of_work(database.sessions) as repos:
        return await services.digest(repos).catch_up(translate)


async def sweep_actions(services: Services, database: Database) -> dict[str, int]:
    async with unit_of_work(database.sessions) as repos:
        counts = await services.improvements(repos).sweep()
    if any(counts.values()):
        logger.info("improvement action sweep: %s", counts)
    return counts


def translator(config: Config) -> Translator:
    """gettext per recipient language, outside any update (jobs render digests when queued)."""
    from handlers.i18n import create_i18n

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
    services: Services,
    database: Database,
    on_enqueued: Callable[[], None] | None = None,
    anonymous_sessions: AnonymousStore | None = None,
) -> AsyncIOScheduler:
    config = services.config
    scheduler = AsyncIOScheduler(timezone=config.union.tz)

    def sweep(name: str, job: Callable[[], Awaitable[dict[str, int]]], **every: int) -> None:
        """A repeating, idempotent job, first run at start-up (catch-up); wakes the outbox
        sender when it queued something. Named (the log says which job ran); runs missed
        while the bot was busy or down collapse into one (coalesce) and run however late
        (no misfire grace limit): each run does everything that is due."""

        async def run() -> None:
            if any((await job()).values()) and on_enqueued is not None:
                on_enqueued()

        scheduler.add_job(
            _guarded(name, run),
            "interval",
            **every,
            id=name,
            name=name,
            next_run_time=datetime.now(UTC),
            coalesce=True,
            max_instances=1,
            misfire_grace_time=None,
        )

    sweep("surveys", lambda: sweep_surveys(services, database), seconds=SWEEP_SECONDS)
    sweep("proposals", lambda: sweep_proposals(services, database), minutes=PROPOSAL_SWEEP_MINUTES)
    sweep("mailbox", lambda: sweep_mailbox(services, database), minutes=MAILBOX_SWEEP_MINUTES)
    if anonymous_sessions is not None:
        sweep(
            "anonymous-sessions",
            lambda: sweep_anonymous_sessions(anonymous_sessions),
            minutes=ANONYMOUS_SWEEP_MINUTES,
        )

    async def release_senders() -> None:
        counts = await sweep_mailbox(services, database, release_senders=True)
        if any(counts.values()) and on_enqueued is not None:
            on_enqueued()

    # Fixed times (not "n hours after the news"), so a release names no moment of a reply.
    scheduler.add_job(
        _guarded("mailbox-senders", release_senders),
        "cron",
        hour=f"*/{services.mailbox_settings.sender_release_hours}",
        minute=0,
        id="mailbox-senders",
        name="mailbox-senders",
        coalesce=True,
        max_instances=1,
        misfire_grace_time=None,
    )
    sweep("actions", lambda: sweep_actions(services, database), minutes=PROPOSAL_SWEEP_MINUTES)
    sweep("notices", lambda: sweep_notices(database), seconds=NOTICE_SWEEP_SECONDS)
    scheduler.add_job(
        _guarded("retention", lambda: purge_expired(services, database)),
        "cron",
        hour=config.retention.hour,
        minute=30,
        id="retention",
        name="retention",
        coalesce=True,
        max_instances=1,
        misfire_grace_time=6 * 3600,  # a bot restarted in the morning still purges that day
    )
    if config.digest.enabled:
        _add_digest_jobs(scheduler, services, database, on_enqueued)
    return scheduler


def _add_digest_jobs(
    scheduler: AsyncIOScheduler,
    services: Services,
    database: Database,
    on_enqueued: Callable[[], None] | None,
) -> None:
    settings = services.digest_settings
    translate: list[Translator] = []  # built at the first run, not at start-up

    async def digests() -> None:
        if not translate:
            translate.append(translator(services.config))
        counts = await send_digests(services, database, translate[0])
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
        name="digest",
        coalesce=True,
        max_instances=1,
        misfire_grace_time=None,
    )
    scheduler.add_job(
        _guarded("digest-catch-up", digests),
        "interval",
        minutes=DIGEST_CHECK_MINUTES,
        id="digest-catch-up",
        name="digest-catch-up",
        next_run_time=datetime.now(UTC),
        coalesce=True,
        max_instances=1,
        misfire_grace_time=None,
    )
