"""Migrations: every step goes up, down and up again; head matches the models exactly."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from pprint import pformat
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection

from storage import (
    migrate,
    models,  # noqa: F401  (registers the tables on Base.metadata)
)
from storage.base import Base
from storage.database import Database, create_database
from tests.servers import BACKENDS


def _url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


@pytest.fixture(params=BACKENDS)
async def blank_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """An empty database: a new SQLite file, or the PostgreSQL test database downgraded to
    base (and brought back to head afterwards, for the tests that follow)."""
    if request.param == "sqlite":
        yield _url(tmp_path / "blank.db")
        return
    url = request.getfixturevalue("pg_url")
    database = create_database(url)
    try:
        await migrate.downgrade(database.engine, "base")
        yield url
    finally:
        await migrate.upgrade(database.engine, "head")
        await database.dispose()


def _tables(sync: Connection) -> set[str]:
    return set(inspect(sync).get_table_names()) - {"alembic_version"}


async def test_revisions_form_a_chain() -> None:
    revisions = migrate.revisions()
    assert revisions, "no migrations found"
    assert len(set(revisions)) == len(revisions)


def test_the_cheap_head_is_alembics_head() -> None:
    """CLI commands compare the stored revision with `migrate.heads()`, read from the files
    without importing Alembic; Alembic must agree, or a due migration would be skipped."""
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(migrate.alembic_config())
    assert migrate.heads() == set(script.get_heads())
    assert migrate.heads() == {migrate.revisions()[-1]}


async def test_stairway(blank_url: str) -> None:
    """Upgrade to each revision, downgrade one step, upgrade again: downgrades really work."""
    database = create_database(blank_url)
    try:
        revisions = migrate.revisions()
        previous = "base"
        for revision in revisions:
            await migrate.upgrade(database.engine, revision)
            assert await migrate.current_revision(database.engine) == revision
            async with database.engine.connect() as connection:
                tables_up = await connection.run_sync(_tables)

            await migrate.downgrade(database.engine, previous)
            expected = None if previous == "base" else previous
            assert await migrate.current_revision(database.engine) == expected, revision

            await migrate.upgrade(database.engine, revision)
            assert await migrate.current_revision(database.engine) == revision
            async with database.engine.connect() as connection:
                assert await connection.run_sync(_tables) == tables_up, revision
            previous = revision

        assert await migrate.current_revision(database.engine) == revisions[-1]
    finally:
        await database.dispose()


async def test_full_downgrade_leaves_no_tables(blank_url: str) -> None:
    database = create_database(blank_url)
    try:
        await migrate.upgrade(database.engine)
        await migrate.downgrade(database.engine, "base")
        assert await migrate.current_revision(database.engine) is None
        async with database.engine.connect() as connection:
            assert await connection.run_sync(_tables) == set()
    finally:
        await database.dispose()


def _diff(sync: Connection) -> list[Any]:
    context = MigrationContext.configure(
        sync, opts={"compare_type": True, "compare_server_default": True}
    )
    return compare_metadata(context, Base.metadata)


async def test_head_matches_models(blank_url: str) -> None:
    """A model change without a migration shows up here (run `alembic revision` for it)."""
    database = create_database(blank_url)
    try:
        await migrate.upgrade(database.engine, "head")
        assert await migrate.current_revision(database.engine) == migrate.revisions()[-1]
        async with database.engine.connect() as connection:
            diffs = await connection.run_sync(_diff)
            tables = await connection.run_sync(_tables)
        assert diffs == [], "models and migrations differ:\n" + pformat(diffs)
        assert tables == set(Base.metadata.tables)
    finally:
        await database.dispose()


async def _pragma(database: Database, name: str) -> Any:
    async with database.engine.connect() as connection:
        return (await connection.execute(text(f"PRAGMA {name}"))).scalar_one()


async def test_sqlite_pragmas(database: Database) -> None:
    if not database.is_sqlite:
        pytest.skip("SQLite pragmas")
    assert str(await _pragma(database, "journal_mode")).lower() == "wal"
    assert await _pragma(database, "foreign_keys") == 1
    assert await _pragma(database, "busy_timeout") == 5000
    assert await _pragma(database, "synchronous") == 1  # NORMAL


async def test_pragmas_on_every_pooled_connection(tmp_path: Path) -> None:
    """The pragmas are per connection: a second, concurrently open connection has them too."""
    database = create_database(_url(tmp_path / "pool.db"))
    try:
        async with database.engine.connect() as first, database.engine.connect() as second:
            for connection in (first, second):
                assert (await connection.execute(text("PRAGMA foreign_keys"))).scalar_one() == 1
    finally:
        await database.dispose()


_REBUILD_MEMBERS = """
import sqlalchemy as sa
from alembic import op

revision = "zz_rebuild"
down_revision = {down!r}
branch_labels = None
depends_on = None


def upgrade() -> None:
    # What any ALTER of `members` becomes on SQLite: copy, DROP the old table, rename.
    with op.batch_alter_table("members", recreate="always") as batch_op:
        batch_op.add_column(sa.Column("probe", sa.String(8), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("members", recreate="always") as batch_op:
        batch_op.drop_column("probe")
"""


async def test_table_rebuild_keeps_referencing_rows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A future migration that alters `members` must not delete the rows that reference it."""
    migrations = tmp_path / "migrations"
    skip_cache = shutil.ignore_patterns("__pycache__")
    shutil.copytree(migrate.MIGRATIONS_DIR, migrations, ignore=skip_cache)
    (migrations / "versions" / "zz_rebuild.py").write_text(
        _REBUILD_MEMBERS.format(down=migrate.revisions()[-1])
    )
    head = migrate.revisions()[-1]
    monkeypatch.setattr(migrate, "MIGRATIONS_DIR", migrations)

    database = create_database(_url(tmp_path / "rebuild.db"))
    try:
        await migrate.upgrade(database.engine, head)
        async with database.engine.begin() as connection:
            await connection.execute(
                text(
                    "INSERT INTO members (id, employee_id, name, department, created_at, "
                    "updated_at) VALUES (1, 'E1', '张三', '教务处', '2026-01-01', '2026-01-01')"
                )
            )
            await connection.execute(text("INSERT INTO member_roles VALUES (1, 'officer')"))

        await migrate.upgrade(database.engine, "head")
        assert await migrate.current_revision(database.engine) == "zz_rebuild"
        async with database.engine.connect() as connection:
            roles = (await connection.execute(text("SELECT * FROM member_roles"))).all()
            assert (await connection.execute(text("PRAGMA foreign_keys"))).scalar_one() == 1
        assert roles == [(1, "officer")]
    finally:
        await database.dispose()
