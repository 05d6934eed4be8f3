"""What the CLI's command modules share: exit codes, a migrated database, output files."""

from __future__ import annotations

import argparse
import io
import sys
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, BinaryIO

from bot.config import Config

if TYPE_CHECKING:
    from storage.database import Database
    from storage.uow import Repositories

EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


async def with_database(config: Config, work: Callable[[Database], Awaitable[int]]) -> int:
    from storage import migrate
    from storage.database import create_database

    database = create_database(config.database.url)
    try:
        await migrate.upgrade_if_due(database.engine)  # Alembic only when a migration is due
        return await work(database)
    finally:
        await database.dispose()


async def run_export(
    config: Config,
    args: argparse.Namespace,
    export: Callable[[Repositories, BinaryIO], Awaitable[int]],
    noun: str,
) -> int:
    """An export command: the file to `--output` (or stdout), "N noun(s) exported" to stderr."""

    async def work(database: Database) -> int:
        from storage.uow import unit_of_work

        buffer = io.BytesIO()
        async with unit_of_work(database.sessions) as repos:
            rows = await export(repos, buffer)
        write_output(args, buffer.getvalue())
        print(f"{rows} {noun}(s) exported", file=sys.stderr)
        return EXIT_OK

    return await with_database(config, work)


def write_output(args: argparse.Namespace, content: bytes) -> None:
    """To `--output`, or to stdout when it is not given."""
    if args.output is None:
        sys.stdout.buffer.write(content)
        sys.stdout.flush()
    else:
        args.output.write_bytes(content)
