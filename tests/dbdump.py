"""Read a test's database as someone holding it would: every table, every row (SQLite or
PostgreSQL), and — on SQLite — the raw bytes of the file and its write-ahead log."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import inspect, text

from storage.database import Database


def names_number(number: int) -> Callable[[str], bool]:
    """Whether a stored text holds `number` as a whole number ("u8101", "key:8101"), not as
    digits of another one (a timestamp's microseconds "…42.810178")."""
    search = re.compile(rf"(?<!\d){number}(?!\d)").search
    return lambda text: search(text) is not None


async def dump_with_columns(database: Database) -> dict[str, list[dict[str, Any]]]:
    async with database.engine.connect() as connection:
        tables = await connection.run_sync(lambda sync: inspect(sync).get_table_names())
        return {
            table: [
                dict(row._mapping)
                for row in await connection.execute(text(f"SELECT * FROM {table}"))
            ]
            for table in tables
        }


async def dump(database: Database) -> dict[str, list[tuple]]:
    return {
        table: [tuple(row.values()) for row in rows]
        for table, rows in (await dump_with_columns(database)).items()
    }


async def query(database: Database, sql: str, **params: Any) -> list[tuple]:
    async with database.engine.connect() as connection:
        return [tuple(row) for row in await connection.execute(text(sql), params)]


def new_rows(
    before: dict[str, list[dict[str, Any]]], after: dict[str, list[dict[str, Any]]]
) -> dict[str, list[dict[str, Any]]]:
    """Rows present after and not before (changed rows count as new), per table."""
    changed = {}
    for table, rows in after.items():
        old = {_key(r) for r in before.get(table, [])}
        fresh = [r for r in rows if _key(r) not in old]
        if fresh:
            changed[table] = fresh
    return changed


def _key(row: dict[str, Any]) -> tuple:
    return tuple(sorted((k, repr(v)) for k, v in row.items()))


def raw_sqlite_bytes(db_url: str) -> bytes | None:
    """The database file and its WAL as bytes; None on PostgreSQL."""
    if not db_url.startswith("sqlite"):
        return None
    path = Path(db_url.removeprefix("sqlite+aiosqlite:///"))
    wal = path.with_name(path.name + "-wal")
    return path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")
