"""`unionvoice digest send|preview` and `unionvoice actions export`, as an admin runs them;
preview and export answer without importing aiogram."""

from __future__ import annotations

import asyncio
import csv
import io
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import main
from storage.database import create_database
from storage.uow import Repositories
from tests.digest.world import W48_DAY, add_survey, answer, make_world

PROJECT_ROOT = Path(__file__).resolve().parents[2]


async def _seed(url: str) -> None:
    database = create_database(url)
    try:
        async with database.sessions() as session:
            world = await make_world(database, Repositories(session))
            survey_id = await add_survey(world)
            for _ in range(5):
                await answer(world, survey_id, W48_DAY, 4, 9, "宿舍热水供应不稳定")
    finally:
        await database.dispose()


@pytest.fixture
def cfg(tmp_path: Path, db_url: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("BOT_TOKEN", raising=False)
    asyncio.run(_seed(db_url))
    path = tmp_path / "config.toml"
    path.write_text(f'[database]\nurl = "{db_url}"\n', encoding="utf-8")
    return path


def _run(cfg: Path, *args: str) -> subprocess.CompletedProcess[str]:
    script = (
        "import sys\nfrom bot.cli import main\ncode = main(sys.argv[1:])\n"
        "assert not [m for m in sys.modules if m.split('.')[0] == 'aiogram'], 'aiogram'\n"
        "sys.exit(code)\n"
    )
    return subprocess.run(
        [sys.executable, "-c", script, "--config", str(cfg), *args],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": "/usr/bin:/bin", "PYTHONIOENCODING": "utf-8"},
    )


def test_preview_prints_the_digest_without_aiogram(cfg: Path) -> None:
    result = _run(cfg, "digest", "preview", "--period", "2026-W48")
    assert result.returncode == 0, result.stderr
    assert "Weekly digest 2026-W48" in result.stdout
    assert "宿舍" in result.stdout and "<b>" not in result.stdout
    assert "computed now, not stored" in result.stderr
    handler = _run(
        cfg, "digest", "preview", "--period", "2026-W48", "--audience", "department:后勤处"
    )
    assert handler.returncode == 0 and "Improvement actions" in handler.stdout
    assert _run(cfg, "digest", "preview", "--period", "W48").returncode == 2


def test_send_queues_once_then_preview_shows_the_stored_one(
    cfg: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--config", str(cfg), "digest", "send", "--period", "2026-W48"]) == 0
    assert "5 queued, 0 re-sent, 0 already had it" in capsys.readouterr().out
    assert main(["--config", str(cfg), "digest", "send", "--period", "2026-W48"]) == 0
    assert "0 queued, 0 re-sent, 5 already had it" in capsys.readouterr().out
    assert main(["--config", str(cfg), "digest", "send", "--period", "2026-W48", "--resend"]) == 0
    assert "0 queued, 5 re-sent" in capsys.readouterr().out
    assert main(["--config", str(cfg), "digest", "send", "--period", "2026-W99"]) == 2
    capsys.readouterr()
    assert main(["--config", str(cfg), "digest", "preview", "--period", "2026-W48"]) == 0
    assert "as stored (sent)" in capsys.readouterr().err


def test_actions_export_without_aiogram(cfg: Path, tmp_path: Path) -> None:
    result = _run(cfg, "actions", "export", "--format", "csv")
    assert result.returncode == 0, result.stderr
    header = next(csv.reader(io.StringIO(result.stdout.lstrip("\ufeff"))))
    assert header[:3] == ["编号", "问题", "原因分析"]
    output = tmp_path / "actions.xlsx"
    result = _run(cfg, "actions", "export", "--format", "xlsx", "--output", str(output))
    assert result.returncode == 0 and output.read_bytes()[:2] == b"PK"
    assert "0 action(s) exported" in result.stderr
