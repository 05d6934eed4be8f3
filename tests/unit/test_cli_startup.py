"""CLI start-up: the commands that never talk to Telegram load neither aiogram nor Alembic on an
upgraded database (they answer in a fraction of the bot's start-up: bench/cli_bench.py), and an
older database is still upgraded by whichever command runs first."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from bot.cli import main
from storage import migrate
from storage.database import create_database
from tests.fresh_cli import PROJECT_ROOT, run_fresh

EXAMPLE = PROJECT_ROOT / "docs" / "examples" / "service-2026q4.toml"
ROSTER = "工号,姓名,部门\n1001,张三,教务处\n1002,李四,后勤处\n"

# Loaded by the bot, the scheduler or a migration, never by a command that reads the database
# (the PostgreSQL dialect: not on SQLite; openpyxl: not for CSV or JSON).
HEAVY = (
    "aiogram",
    "aiohttp",
    "alembic",
    "apscheduler",
    "babel",
    "openpyxl",
    "sqlalchemy.dialects.postgresql",
)


def _config(tmp_path: Path, url: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(f'[database]\nurl = "{url}"\n', encoding="utf-8")
    return path


def _cli(cfg: Path, *args: str | Path) -> int:
    return main(["--config", str(cfg), *map(str, args)])


@pytest.fixture
def upgraded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The config of a SQLite database at head, with a roster and a survey."""
    monkeypatch.delenv("BOT_TOKEN", raising=False)
    cfg = _config(tmp_path, f"sqlite+aiosqlite:///{tmp_path}/u.db")
    roster = tmp_path / "roster.csv"
    roster.write_bytes(ROSTER.encode("utf-8-sig"))
    assert _cli(cfg, "members", "import", roster) == 0
    assert _cli(cfg, "survey", "import", EXAMPLE) == 0
    return cfg


@pytest.mark.parametrize(
    ("command", "shows"),
    [
        (["members", "list", "--format", "json"], '"employee_id": "1002"'),
        (["survey", "list"], "service-2026q4\tdraft\tanonymous\t0/0"),
        (["survey", "results", "service-2026q4", "--format", "csv"], ""),
        (["proposals", "export"], ""),
    ],
)
def test_read_commands_load_no_telegram_scheduler_or_alembic(
    upgraded: Path, command: list[str], shows: str
) -> None:
    process, loaded = run_fresh(upgraded, command, HEAVY)
    assert process.returncode == 0, process.stderr
    assert shows in process.stdout
    assert loaded == []


async def _revision(url: str) -> str | None:
    database = create_database(url)
    try:
        return await migrate.current_revision(database.engine)
    finally:
        await database.dispose()


async def _migrate(url: str, revision: str) -> None:
    database = create_database(url)
    try:
        if revision == "head":
            await migrate.upgrade(database.engine)
        else:
            await migrate.downgrade(database.engine, revision)
    finally:
        await database.dispose()


def test_a_command_upgrades_an_older_database_before_it_reads(
    db_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """An admin updates the program and lists the roster: the database is brought to head
    first (the cheap check sees an old revision), and the roster is all there."""
    monkeypatch.delenv("BOT_TOKEN", raising=False)
    cfg = _config(tmp_path, db_url)
    roster = tmp_path / "roster.csv"
    roster.write_bytes(ROSTER.encode("utf-8-sig"))
    assert _cli(cfg, "members", "import", roster) == 0
    *_, previous, head = migrate.revisions()
    asyncio.run(_migrate(db_url, previous))
    try:
        assert asyncio.run(_revision(db_url)) == previous
        capsys.readouterr()
        assert _cli(cfg, "members", "list", "--format", "json") == 0
        listed = json.loads(capsys.readouterr().out)
        assert sorted((m["employee_id"], m["name"]) for m in listed) == [
            ("1001", "张三"),
            ("1002", "李四"),
        ]
        assert asyncio.run(_revision(db_url)) == head
    finally:
        asyncio.run(_migrate(db_url, "head"))  # PostgreSQL: the next tests expect head
