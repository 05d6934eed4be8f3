"""The answer path's storage: statements compiled once, a unit of work in one thread hop.

Measured here: one SQLAlchemy Core `execute` through aiosqlite costs ≈ 150 µs and several hops
to the driver's thread; the same SQL on the raw `sqlite3` cursor ≈ 6 µs. So, on a SQLite file,
the few statements that run on every button press are compiled once and run on ONE connection
of the database's own engine (the "channel"), a whole read or a whole commit as one function
on that connection's aiosqlite thread: one hop each. Everywhere else (PostgreSQL, in-memory
SQLite, a session that already holds a transaction) the same statements run through the
session, in its transaction.

Buffered writes (`Lane.pending`) are applied at commit, with the processed-update marker, in
one transaction; they are not visible to reads of the same unit of work before that.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import aiosqlite
from sqlalchemy.dialects import sqlite as sqlite_dialect
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession
from sqlalchemy.sql import ClauseElement, Executable
from sqlalchemy.sql.compiler import SQLCompiler

from common.errors import WriteConflict

logger = logging.getLogger(__name__)
T = TypeVar("T")
Params = Mapping[str, Any]
_SQLITE = sqlite_dialect.dialect()
CACHE_LIMIT = 20_000  # cached rows (identities, survey definitions) before starting over


class Statement:
    """A Core statement built once per dialect (`build(dialect_name)`), with bind parameters
    named by `bindparam`. On the channel it runs as compiled SQL on the sqlite3 cursor, with
    SQLAlchemy's own bind and result processing (UTC datetimes, booleans) — public API only."""

    def __init__(self, build: Callable[[str], Executable]) -> None:
        self._build = build
        self._core: dict[str, Executable] = {}
        self._sqlite: tuple[str, list[tuple[str, Any]], list[Any], dict[str, Any]] | None = None

    def core(self, dialect: str) -> Executable:
        found = self._core.get(dialect)
        if found is None:
            found = self._core[dialect] = self._build(dialect)
        return found

    def _compiled(self) -> tuple[str, list[tuple[str, Any]], list[Any], dict[str, Any]]:
        if self._sqlite is None:
            statement = self.core("sqlite")
            assert isinstance(statement, ClauseElement)  # every built statement is one
            compiled = statement.compile(dialect=_SQLITE)
            assert isinstance(compiled, SQLCompiler)  # a statement compiles with SQLCompiler
            binds = [compiled.binds[name] for name in compiled.positiontup or ()]
            arguments = [
                (bind.key, bind.type.dialect_impl(_SQLITE).bind_processor(_SQLITE))
                for bind in binds
            ]
            # Literals written into the statement (`.values(done=False)`) keep their value.
            fixed = {bind.key: bind.value for bind in binds if not bind.required}
            columns = getattr(statement, "selected_columns", None) or []
            results = [
                column.type.dialect_impl(_SQLITE).result_processor(_SQLITE, None)
                for column in columns
            ]
            self._sqlite = (compiled.string, arguments, results, fixed)
        return self._sqlite

    def _arguments(self, params: Params) -> list[Any]:
        _, arguments, _, fixed = self._compiled()
        values = {**fixed, **params} if fixed else params
        return [process(values[key]) if process else values[key] for key, process in arguments]

    # -- on the channel (sqlite3, inside the thread) --------------------------------------------
    def rows(self, connection: sqlite3.Connection, params: Params) -> list[tuple[Any, ...]]:
        sql, _, results, _ = self._compiled()
        raw = connection.execute(sql, self._arguments(params)).fetchall()
        if not any(results):
            return raw
        return [tuple(p(v) if p else v for p, v in zip(results, row, strict=True)) for row in raw]

    def change(self, connection: sqlite3.Connection, params: Params | Sequence[Params]) -> int:
        sql = self._compiled()[0]
        if isinstance(params, Mapping):
            return connection.execute(sql, self._arguments(params)).rowcount
        return connection.executemany(sql, [self._arguments(p) for p in params]).rowcount

    # -- through a session (its transaction) ------------------------------------------------------
    async def rows_via(self, session: AsyncSession, params: Params) -> list[tuple[Any, ...]]:
        result = await session.execute(self.core(session.get_bind().dialect.name), dict(params))
        return [tuple(row) for row in result]

    async def change_via(self, session: AsyncSession, params: Params | Sequence[Params]) -> int:
        # On the session's connection, in its transaction (Core: no ORM bulk semantics).
        connection = await session.connection()
        statement = self.core(session.get_bind().dialect.name)
        if isinstance(params, Mapping):
            result = await connection.execute(statement, dict(params))
        else:
            result = await connection.execute(statement, [dict(p) for p in params])
        return int(result.rowcount)


@dataclass(frozen=True, slots=True)
class Query:
    statement: Statement
    params: Params
    # Rows cached per process on the channel under this key until any other connection or
    # process commits (PRAGMA data_version). Only for tables the channel never writes.
    cache_key: tuple[Any, ...] | None = None


@dataclass(frozen=True, slots=True)
class Write:
    statement: Statement
    params: Params | Sequence[Params]
    # Guarded write: if it does not change exactly this many rows, the whole unit of work is
    # rolled back and `conflict()` raised (someone else got there first).
    expect: int | None = None
    conflict: Callable[[], Exception] = field(default=lambda: WriteConflict())


# aiosqlite runs each call on the connection's own thread; `_execute(fn)` (run fn there) and
# `_conn` (the sqlite3 connection, opened with check_same_thread=False by
# storage.database) are the only way to run several statements in one call.
# They are private: aiosqlite is pinned in pyproject.toml and tests/storage/test_hot.py fails
# loudly if either disappears.
def _submit(driver: aiosqlite.Connection, work: Callable[[sqlite3.Connection], T]) -> Any:
    return driver._execute(lambda: work(driver._conn))


class Channel:
    """SQLite file only: one connection of the database's engine set aside for the answer path
    (and the FSM): the writes of concurrent answers queue on it instead of waiting on each
    other's file lock, and each unit of work is one call.

    A call runs right on the event loop when the connection is idle and the file is free: the
    connection's busy timeout is 0 there, so a lock held by another connection (the outbox, an
    admin command, the CLI) can never stall the loop — the call then goes to the connection's
    aiosqlite thread, which waits the engine's usual busy timeout, and later calls queue behind
    it until it is done. Measured under load, a hop to the thread cost ≈ 1 ms (GIL hand-over)
    against ≈ 0.1 ms for the statements themselves. The channel never checkpoints itself
    (`wal_autocheckpoint=0` on this connection): every CHECKPOINT_EVERY commits another of the
    engine's connections checkpoints the write-ahead log in the background (PASSIVE).

    It also holds the per-process cache of rarely changing rows (identities, survey
    definitions), dropped as soon as `PRAGMA data_version` shows a commit by any other
    connection — the bot's other sessions, the CLI, another process."""

    CHECKPOINT_EVERY = 500

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._connection: AsyncConnection | None = None
        self._driver: aiosqlite.Connection | None = None
        self._cache: dict[tuple[Any, ...], list[tuple[Any, ...]]] = {}
        self._data_version: int | None = None
        self._on_thread = 0  # calls queued on or running on the thread
        self._commits = 0
        self._checkpointing: asyncio.Task[None] | None = None

    async def _open(self) -> aiosqlite.Connection:
        if self._driver is None:
            connection = await self._engine.connect()
            raw = await connection.get_raw_connection()
            if self._driver is None:
                driver = raw.driver_connection
                assert driver is not None  # an open connection has its driver's connection
                await _submit(driver, _set_up)
                self._connection, self._driver = connection, driver
            else:  # opened meanwhile by a concurrent first call
                await connection.close()
        assert self._driver is not None
        return self._driver

    async def _call(self, work: Callable[[sqlite3.Connection], T]) -> T:
        driver = await self._open()
        if not self._on_thread:  # nothing queued on the thread: the connection is ours
            try:
                return work(driver._conn)  # see _submit about `_conn`
            except sqlite3.OperationalError as error:
                if not _is_busy(error):
                    raise
                # The file is locked by another connection: wait for it on the thread.
        self._on_thread += 1
        try:
            return await _submit(driver, lambda c: _waiting(c, work))
        finally:
            self._on_thread -= 1

    async def read(self, queries: Sequence[Query]) -> list[list[tuple[Any, ...]]]:
        return await self._call(lambda c: self._read(c, queries))

    async def write(self, writes: Sequence[Write]) -> None:
        await self._call(lambda c: _transaction(c, writes))
        self._commits += 1
        if self._commits % self.CHECKPOINT_EVERY == 0 and self._checkpointing is None:
            self._checkpointing = asyncio.create_task(self._checkpoint())

    async def _checkpoint(self) -> None:
        """Copies the write-ahead log into the file (and syncs it) on another of the engine's
        connections, in the background: the channel's calls stay on the loop meanwhile. Had it
        run on the channel's thread, every call arriving during it would queue there (≈ 1 ms
        hop each), and under a burst the queue never drained: 20 members answering at once were
        served slower than one at a time. PASSIVE: never waits for a reader or a writer."""
        try:
            async with self._engine.connect() as connection:
                await connection.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")
        except Exception:  # the next one catches up; the log only grows meanwhile
            logger.warning("WAL checkpoint failed", exc_info=True)
        finally:
            self._checkpointing = None

    def _read(
        self, connection: sqlite3.Connection, queries: Sequence[Query]
    ) -> list[list[tuple[Any, ...]]]:
        # Only ever one call at a time on the connection (loop or thread): so is the cache.
        version = connection.execute("PRAGMA data_version").fetchone()[0]
        if version != self._data_version or len(self._cache) > CACHE_LIMIT:
            self._cache.clear()
            self._data_version = version
        found = []
        for query in queries:
            key = query.cache_key
            rows = self._cache.get(key) if key is not None else None
            if rows is None:
                rows = query.statement.rows(connection, query.params)
                if key is not None:
                    self._cache[key] = rows
            found.append(rows)
        return found

    async def close(self) -> None:
        if self._checkpointing is not None:
            await self._checkpointing
        if self._connection is not None:
            await self._connection.close()
            self._connection = self._driver = None


BUSY_TIMEOUT_MS = 5000  # on the thread, as storage.database.SQLITE_PRAGMAS


def _set_up(connection: sqlite3.Connection) -> None:
    connection.execute("PRAGMA busy_timeout=0")  # on the loop: never wait for a lock
    connection.execute("PRAGMA wal_autocheckpoint=0")  # see Channel._checkpoint


def _waiting(connection: sqlite3.Connection, work: Callable[[sqlite3.Connection], T]) -> T:
    connection.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    try:
        return work(connection)
    finally:
        connection.execute("PRAGMA busy_timeout=0")


def _is_busy(error: sqlite3.OperationalError) -> bool:
    return "locked" in str(error) or "busy" in str(error)


def _transaction(connection: sqlite3.Connection, writes: Sequence[Write]) -> None:
    # IMMEDIATE: take the write lock first, so a busy file means a wait, never a deadlock.
    connection.execute("BEGIN IMMEDIATE")
    try:
        for write in writes:
            changed = write.statement.change(connection, write.params)
            if write.expect is not None and changed != write.expect:
                raise write.conflict()
    except BaseException:
        connection.rollback()
        raise
    connection.commit()


class Lane:
    """What one unit of work's hot statements run on: the channel when it can (SQLite file,
    nothing pending in the session), otherwise the session. `pending` is the unit's buffer of
    writes, applied by `commit`."""

    def __init__(self, session: AsyncSession, channel: Channel | None = None) -> None:
        self.session = session
        self.channel = channel
        self.pending: list[Write] = []

    def _channel(self) -> Channel | None:
        session = self.session
        if self.channel is None or session.in_transaction():
            return None
        if session.new or session.dirty or session.deleted:
            return None
        return self.channel

    async def fetch(self, *queries: Query) -> list[list[tuple[Any, ...]]]:
        channel = self._channel()
        if channel is not None:
            return await channel.read(queries)
        return [await q.statement.rows_via(self.session, q.params) for q in queries]

    def stage(self, write: Write) -> None:
        self.pending.append(write)

    async def commit(self, extra: Sequence[Write] = ()) -> None:
        """Apply the buffered writes (then `extra`) and commit, all or nothing."""
        writes = [*self.pending, *extra]
        self.pending.clear()
        channel = self._channel()
        if channel is not None:
            if writes:
                await channel.write(writes)
            return
        try:
            await self.session.flush()  # the session's own changes first, as autoflush would
            for write in writes:
                changed = await write.statement.change_via(self.session, write.params)
                if write.expect is not None and changed != write.expect:
                    raise write.conflict()
        except BaseException:
            await self.session.rollback()
            raise
        await self.session.commit()

    async def rollback(self) -> None:
        self.pending.clear()
        await self.session.rollback()
