"""`unionvoice db backup`: a consistent copy of the SQLite file while the bot runs."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

from sqlalchemy.engine import make_url

from storage.database import create_private_file


class BackupError(Exception):
    """The backup cannot be made; the message says why and what to do instead."""


def sqlite_path(url: str) -> Path:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        raise BackupError(
            "the database is PostgreSQL: back it up with pg_dump, e.g. "
            "`pg_dump --format=custom --file unionvoice.dump DBNAME` (see docs/deploy.md)"
        )
    if not parsed.database or parsed.database == ":memory:":
        raise BackupError("an in-memory database cannot be backed up")
    return Path(parsed.database)


def backup_sqlite(url: str, target: Path) -> int:
    """Copy the live database page by page with SQLite's online backup API (WAL included,
    writers are not blocked for long). Returns the size of the copy in bytes."""
    source_path = sqlite_path(url)
    if not source_path.exists():
        raise BackupError(f"{source_path}: no such database file")
    if target.exists():
        raise BackupError(f"{target}: already exists (choose a new file name)")
    if target.resolve() == source_path.resolve():
        raise BackupError("the backup must be another file than the database")
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)  # a leftover of an interrupted backup
    # The copy holds every letter: readable by the bot's user only, whatever the umask.
    create_private_file(partial)
    try:
        with (
            closing(sqlite3.connect(f"file:{source_path}?mode=ro", uri=True)) as source,
            closing(sqlite3.connect(partial)) as copy,
        ):
            source.execute("PRAGMA busy_timeout=5000")
            source.backup(copy, pages=1024)
            (check,) = copy.execute("PRAGMA integrity_check").fetchone()
            if check != "ok":
                raise BackupError(f"the copy failed its integrity check: {check}")
        partial.replace(target)  # only a complete, checked copy gets the name
    except sqlite3.Error as exc:
        raise BackupError(f"backup failed: {exc}") from None
    finally:
        partial.unlink(missing_ok=True)
    return target.stat().st_size
