"""What the CLI's command modules share: exit codes, a migrated database, output files."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from bot.config import Config

if TYPE_CHECKING:
    from storage.database import Database

EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


async def with_database(config: Config, work: Callable[[Database], Awaitable[int]]) -> int:
    from storage import migrate
    from storage.database import create_database

    database = create_database(config.database.url)
    try:
        await migrate.upgrade(database.engine)
        return await work(database)
    finally:
        await database.dispose()


def write_output(args: argparse.Namespace, content: bytes) -> None:
    """To `--output`, or to stdout when it is not given."""
    if args.output is None:
        sys.stdout.buffer.write(content)
        sys.stdout.flush()
    else:
        args.output.write_bytes(content)
