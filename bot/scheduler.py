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
from common.clock import Clock, system_clock
from digest.service import DigestService, Translator
from digest.settings import settings_from as digest_settings
from improvements.service import ImprovementService
from improvements.service import settings_from as improvement_settings
from mailboxes.memory import AnonymousStore
from mailboxes.service import MailboxService
from mailboxes.settings import MailboxContext
from privacy.retention import RetentionPolicy, run_retention
from proposals.service import ProposalService, settings_from
from storage.database import Database
from storage.uow import unit_of_work
from surveys.service import SurveyService
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


async def sweep_mailbox(
    database: Database, context: MailboxContext, *, release_senders: bool = False
) -> dict[str, int]:
    async with unit_of_work(database.sessions) as repos:
        counts = await MailboxService(repos, context).sweep(release_senders=release_senders)
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
    config: Config,
    database: Database,
    on_enqueued: Callable[[], None] | None = None,
    anonymous_sessions: AnonymousStore | None = None,
) -> AsyncIOScheduler:
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

    mailbox = create_mailbox_context(config)
    sweep("surveys", lambda: sweep_surveys(config, database), seconds=SWEEP_SECONDS)
    sweep("proposals", lambda: sweep_proposals(config, database), minutes=PROPOSAL_SWEEP_MINUTES)
    sweep("mailbox", lambda: sweep_mailbox(database, mailbox), minutes=MAILBOX_SWEEP_MINUTES)
    if anonymous_sessions is not None:
        sweep(
            "anonymous-sessions",
            lambda: sweep_anonymous_sessions(anonymous_sessions),
            minutes=ANONYMOUS_SWEEP_MINUTES,
        )

    async def release_senders() -> None:
        counts = await sweep_mailbox(database, mailbox, release_senders=True)
        if any(counts.values()) and on_enqueued is not None:
            on_enqueued()

    # Fixed times (not "n hours after the news"), so a release names no moment of a reply.
    scheduler.add_job(
        _guarded("mailbox-senders", release_senders),
        "cron",
        hour=f"*/{mailbox.settings.sender_release_hours}",
        minute=0,
        id="mailbox-senders",
        name="mailbox-senders",
        coalesce=True,
        max_instances=1,
        misfire_grace_time=None,
    )
    sweep("actions", lambda: sweep_actions(config, database), minutes=PROPOSAL_SWEEP_MINUTES)
    sweep("notices", lambda: sweep_notices(database), seconds=NOTICE_SWEEP_SECONDS)
    scheduler.add_job(
        _guarded("retention", lambda: purge_expired(config, database)),
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
