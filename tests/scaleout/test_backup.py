"""`unionvoice db backup FILE`: a consistent copy of the SQLite file; PostgreSQL is pointed to
pg_dump."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import stat
from collections.abc import Callable, Iterator
from contextlib import closing
from pathlib import Path

import pytest

from bot.cli import main
from storage import migrate
from storage.database import create_database

Cli = Callable[..., tuple[int, str, str]]


@pytest.fixture
def cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Cli:
    config = tmp_path / "config.toml"
    config.write_text(f'[database]\nurl = "sqlite+aiosqlite:///{tmp_path}/u.db"\n')

    def run(*args: str | Path) -> tuple[int, str, str]:
        code = main(["--config", str(config), *map(str, args)])
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return run


def test_backup_copies_the_database_with_everything_in_it(cli: Cli, tmp_path: Path) -> None:
    people = tmp_path / "roster.csv"
    people.write_text("employee_id,name,department\nT1,张三,机电学院\nT2,李四,外语学院\n")
    assert cli("members", "import", people)[0] == 0
    code, out, err = cli("db", "backup", tmp_path / "copy.db")
    assert code == 0, err
    assert "copy.db" in out
    with closing(sqlite3.connect(tmp_path / "copy.db")) as copy:
        names = [n for (n,) in copy.execute("SELECT name FROM members ORDER BY employee_id")]
    assert names == ["张三", "李四"]
    assert not list(tmp_path.glob("*.partial"))


def test_backup_never_overwrites(cli: Cli, tmp_path: Path) -> None:
    assert cli("db", "upgrade")[0] == 0
    existing = tmp_path / "old.db"
    existing.write_bytes(b"keep me")
    code, _, err = cli("db", "backup", existing)
    assert code == 1 and "already exists" in err
    assert existing.read_bytes() == b"keep me"


def test_backup_of_postgresql_points_to_pg_dump(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "pg.toml"
    config.write_text('[database]\nurl = "postgresql+asyncpg://u@127.0.0.1/union"\n')
    code = main(["--config", str(config), "db", "backup", str(tmp_path / "x.db")])
    assert code == 1
    assert "pg_dump" in capsys.readouterr().err


@pytest.fixture
def usual_umask() -> Iterator[None]:
    """The umask most services run with: new files 0644 unless created otherwise."""
    old = os.umask(0o022)
    yield
    os.umask(old)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


async def test_database_its_wal_and_shm_and_backups_are_private(
    usual_umask: None, tmp_path: Path, cli: Cli
) -> None:
    """Another user of the machine can read none of the files that hold the letters."""
    path = tmp_path / "u.db"
    database = create_database(f"sqlite+aiosqlite:///{path}")
    try:
        await migrate.upgrade(database.engine)
        async with database.engine.connect() as connection:  # keeps the -wal/-shm alive
            await connection.exec_driver_sql("CREATE TABLE probe (x)")
            await connection.commit()
            files = [path, Path(f"{path}-wal"), Path(f"{path}-shm")]
            assert {p.name: mode(p) for p in files} == {p.name: 0o600 for p in files}
    finally:
        await database.dispose()
    code, _, err = await asyncio.to_thread(cli, "db", "backup", tmp_path / "copy.db")
    assert code == 0, err
    assert mode(tmp_path / "copy.db") == 0o600
