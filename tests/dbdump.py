"""Read a test's SQLite file as someone holding the file would: every table, every row."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path


def sqlite_path(db_url: str) -> Path:
    return Path(db_url.removeprefix("sqlite+aiosqlite:///"))


def dump(db_url: str) -> dict[str, list[tuple]]:
    with closing(sqlite3.connect(sqlite_path(db_url))) as db:
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        return {t: db.execute(f"SELECT * FROM {t}").fetchall() for t in tables}


def dump_with_columns(db_url: str) -> dict[str, list[dict[str, object]]]:
    with closing(sqlite3.connect(sqlite_path(db_url))) as db:
        db.row_factory = sqlite3.Row
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        return {t: [dict(row) for row in db.execute(f"SELECT * FROM {t}")] for t in tables}


def new_rows(
    before: dict[str, list[dict[str, object]]], after: dict[str, list[dict[str, object]]]
) -> dict[str, list[dict[str, object]]]:
    """Rows present after and not before (changed rows count as new), per table."""
    changed = {}
    for table, rows in after.items():
        old = {tuple(sorted(r.items())) for r in before.get(table, [])}
        fresh = [r for r in rows if tuple(sorted(r.items())) not in old]
        if fresh:
            changed[table] = fresh
    return changed
