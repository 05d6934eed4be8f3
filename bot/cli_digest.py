"""CLI commands of the weekly digest and the improvement actions. Only `digest send` imports
aiogram (its gettext); preview and export answer quickly."""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, BinaryIO

from bot.cli_support import EXIT_OK, EXIT_USAGE, run_export, with_database
from bot.config import Config

if TYPE_CHECKING:
    from digest.period import Period
    from storage.database import Database
    from storage.uow import Repositories


def _digest_period(config: Config, text: str | None) -> Period:
    from bot.services import Services
    from digest.period import Period, latest_due

    settings = Services(config).digest_settings
    if text:
        return Period.parse(text)
    from common.clock import system_clock

    return latest_due(system_clock(), settings.weekday, settings.at, settings.tz)


async def cmd_digest_send(config: Config, args: argparse.Namespace) -> int:
    from digest.period import Period, PeriodError

    try:
        period = Period.parse(args.period)
    except PeriodError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    from bot.scheduler import translator  # gettext of the bot's catalogs (imports aiogram)

    translate = translator(config)

    async def work(database: Database) -> int:
        from bot.services import Services
        from storage.uow import unit_of_work

        async with unit_of_work(database.sessions) as repos:
            counts = (
                await Services(config).digest(repos).deliver(period, translate, resend=args.resend)
            )
        print(
            f"digest {period}: {counts['queued']} queued, {counts['resent']} re-sent, "
            f"{counts['already']} already had it (the running bot sends them)"
        )
        return EXIT_OK

    return await with_database(config, work)


async def cmd_digest_preview(config: Config, args: argparse.Namespace) -> int:
    import html
    import re

    from digest.period import PeriodError
    from digest.sections.base import Audience

    try:
        period = _digest_period(config, args.period)
    except PeriodError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    audience = Audience.parse(args.audience)
    if audience.kind not in ("officers", "box", "department"):
        print(f"error: unknown audience {args.audience!r}", file=sys.stderr)
        return EXIT_USAGE

    async def work(database: Database) -> int:
        from bot.services import Services
        from digest.render import render_messages
        from digest.service import english
        from storage.uow import unit_of_work

        async with unit_of_work(database.sessions) as repos:
            service = Services(config).digest(repos)
            stored = await repos.digests.stored(str(period), audience.name)
            if stored is not None:
                data = json.loads(stored[1])
                note = "as stored (sent)"
            else:
                data = await service.compute(period, audience)
                note = "computed now, not stored"
        for part in render_messages(data, english(None), None):
            print(html.unescape(re.sub(r"</?[bi]>", "", part)))
            print()
        print(f"({period}, {audience.name}: {note})", file=sys.stderr)
        return EXIT_OK

    return await with_database(config, work)


async def cmd_actions_export(config: Config, args: argparse.Namespace) -> int:
    from improvements.export import export_actions

    async def export(repos: Repositories, out: BinaryIO) -> int:
        return await export_actions(repos, args.format, out, config.union.timezone)

    return await run_export(config, args, export, "action")
