"""Engine and session factory; SQLite gets WAL, a busy timeout and foreign keys."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from storage.hot import Channel

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
                busy = result.fetchone()[0]
            if not busy:
                return True
            await asyncio.sleep(0.05)
        logger.warning("write-ahead log still in use: not truncated (SQLite will checkpoint later)")
        return False


def create_database(url: str, *, echo: bool = False) -> Database:
    options: dict[str, Any] = {}
    if url.startswith("sqlite"):
        # The channel (storage/hot.py) runs on the event loop or the connection's thread, one
        # call at a time; SQLAlchemy's pool hands a connection to one user at a time anyway.
        options["connect_args"] = {"check_same_thread": False}
    engine = create_async_engine(url, echo=echo, **options)
    if engine.dialect.name == "sqlite":
        event.listen(engine.sync_engine, "connect", _set_sqlite_pragmas)
    database = engine.url.database or ""
    in_memory = database in ("", ":memory:") or "mode=memory" in str(engine.url.query)
    channel = Channel(engine) if engine.dialect.name == "sqlite" and not in_memory else None
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    return Database(engine=engine, sessions=sessions, channel=channel)
