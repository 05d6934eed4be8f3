"""CLI commands over the union's records: exports, erasing a member, the retention purge.
None of them imports aiogram."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, BinaryIO

from bot.cli_support import EXIT_ERROR, EXIT_OK, EXIT_USAGE, run_export, with_database
from bot.config import Config

if TYPE_CHECKING:
    from storage.database import Database
    from storage.uow import Repositories


async def cmd_proposals_export(config: Config, args: argparse.Namespace) -> int:
    from proposals.export import export_proposals

    async def export(repos: Repositories, out: BinaryIO) -> int:
        return await export_proposals(repos, args.format, out, config.union.timezone)

    return await run_export(config, args, export, "proposal")


async def cmd_mailbox_export(config: Config, args: argparse.Namespace) -> int:
    if config.mailbox.box(args.box) is None:
        keys = ", ".join(box.key for box in config.mailbox.boxes)
        print(f"unknown box {args.box!r} (boxes: {keys})", file=sys.stderr)
        return EXIT_USAGE

    from mailboxes.export import export_box

    async def export(repos: Repositories, out: BinaryIO) -> int:
        return await export_box(repos, args.box, args.format, out, config.union.timezone)

    return await run_export(config, args, export, "letter")


async def cmd_members_forget(config: Config, args: argparse.Namespace) -> int:
    async def work(database: Database) -> int:
        from bot.services import Services
        from storage.uow import unit_of_work

        async with unit_of_work(database.sessions) as repos:
            counts = (
                await Services(config).data_rights(repos).erase_by_employee_id(args.employee_id)
            )
        if counts is None:
            print(f"no member with employee id {args.employee_id!r}", file=sys.stderr)
            return EXIT_ERROR
        await database.checkpoint()
        for kind, count in counts.items():
            print(f"{kind}: {count}")
        return EXIT_OK

    return await with_database(config, work)


async def cmd_retention_run(config: Config, args: argparse.Namespace) -> int:
    async def work(database: Database) -> int:
        from bot.scheduler import purge_expired
        from bot.services import Services

        counts = await purge_expired(Services(config), database, dry_run=args.dry_run)
        verb = "would be purged" if args.dry_run else "purged"
        for kind, count in counts.items():
            print(f"{kind}: {count} {verb}")
        return EXIT_OK

    return await with_database(config, work)
