"""Engine and session factory; SQLite gets WAL, a busy timeout and foreign keys."""

from __future__ import annotations

import asyncio
import logging
import os
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from storage.hot import Channel

if TYPE_CHECKING:
    from storage.uow import Repositories

logger = logging.getLogger(__name__)

SQLITE_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    # NORMAL loses nothing on a process crash, only possibly the last commits on power loss.
    "PRAGMA synchronous=NORMAL",
    "PRAGMA busy_timeout=5000",
    "PRAGMA foreign_keys=ON",
    # Deleted rows (e.g. an anonymous survey draft after submission) are overwritten with
    # zeros instead of lingering in free pages of the file.
    "PRAGMA secure_delete=ON",
)


def _set_sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    for pragma in SQLITE_PRAGMAS:
        cursor.execute(pragma)
    cursor.close()


@dataclass(frozen=True, slots=True)
class Database:
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    # SQLite file: the answer path's connection of this same engine (see storage/hot.py).
    channel: Channel | None = field(default=None)

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    def unit_of_work(self) -> AbstractAsyncContextManager[Repositories]:
        """A fresh unit of work (common/ports.py UnitOfWorkFactory): rolled back unless
        committed."""
        # Imported here: every repository and feature model would otherwise load with the
        # engine, and `db upgrade` needs neither.
        from storage.uow import unit_of_work

        return unit_of_work(self.sessions)

    async def dispose(self) -> None:
        if self.channel is not None:
            await self.channel.close()
        await self.engine.dispose()

    async def checkpoint(self, attempts: int = 20) -> bool:
        """SQLite: move the write-ahead log into the file and truncate it, so erased rows
        (zeroed in the file by secure_delete) do not linger in the log. A reader still on an
        older snapshot makes SQLite answer "busy": try again briefly. True when done (always
        on PostgreSQL, which has no such file)."""
        if not self.is_sqlite:
            return True
        for _ in range(attempts):
            async with self.engine.connect() as connection:
                result = await connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
                busy = result.scalar_one()
            if not busy:
                return True
            await asyncio.sleep(0.05)
        logger.warning("write-ahead log still in use: not truncated (SQLite will checkpoint later)")
        return False


def sqlite_file(url: str) -> Path | None:
    """The database file of a SQLite URL; None for PostgreSQL and in-memory databases."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    if parsed.query.get("uri") or parsed.database.startswith("file:"):
        return None  # an SQLite URI names its own options (mode=memory, …): leave it alone
    return Path(parsed.database)


def create_private_file(path: Path) -> None:
    """Create `path` empty with mode 0600 unless it exists (umask-proof: no other user can
    read what is written into it). An empty file is a valid new SQLite database, and SQLite
    gives the -wal and -shm files the database file's mode, so they are private too."""
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        pass
    except OSError:  # no such folder, no permission: SQLite reports it on connect
        pass


def readable_by_others(path: Path) -> bool:
    """The file exists and its group or other users may read it."""
    try:
        return bool(path.stat().st_mode & 0o044)
    except OSError:
        return False


def create_database(url: str, *, echo: bool = False) -> Database:
    path = sqlite_file(url)
    if path is not None:
        create_private_file(path)
    options: dict[str, Any] = {}
    if url.startswith("sqlite"):
        # The channel (storage/hot.py) runs on the event loop or the connection's thread, one
        # call at a time; SQLAlchemy's pool hands a connection to one user at a time anyway.
        options["connect_args"] = {"check_same_thread": False}
    # hide_parameters: a failing statement's error text would otherwise quote its values (a
    # letter, a receipt hash, `fsm:<telegram id>`) into whatever logs or prints it.
    engine = create_async_engine(url, echo=echo, hide_parameters=True, **options)
    if engine.dialect.name == "sqlite":
        event.listen(engine.sync_engine, "connect", _set_sqlite_pragmas)
    database = engine.url.database or ""
    in_memory = database in ("", ":memory:") or "mode=memory" in str(engine.url.query)
    channel = Channel(engine) if engine.dialect.name == "sqlite" and not in_memory else None
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    return Database(engine=engine, sessions=sessions, channel=channel)
