"""The daily purge: what is due goes, what is not stays; a dry run changes nothing; the log
says how many, never what."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import text

from bot.cli import main
from bot.scheduler import purge_expired
from bot.services import Services
from tests.conftest import TEST_MAILBOX_KEY, make_config
from tests.dbdump import query

NOW = datetime.now(UTC)
OLD = (NOW - timedelta(days=1200)).replace(tzinfo=None)
RECENT = (NOW - timedelta(days=1)).replace(tzinfo=None)


async def seed_old_and_new(database) -> None:
    statements = [
        # outbox: an old sent message and a recent one; an old queued one is not finished
        "INSERT INTO outbox_messages (idempotency_key, chat_id, template, params, kind, status,"
        " attempts, next_attempt_at, created_at) VALUES"
        " ('old', 1, 'text', '{}', 'text', 'sent', 1, :old, :old),"
        " ('new', 1, 'text', '{}', 'text', 'sent', 1, :recent, :recent),"
        " ('stuck', 1, 'text', '{}', 'text', 'queued', 0, :old, :old)",
        "INSERT INTO processed_updates (update_id, processed_at) VALUES"
        " (1, :old), (2, :old), (3, :recent)",
        "INSERT INTO fsm_states (key, state, data, updated_at) VALUES"
        " ('fsm:5:5', 'x', '{}', :old), ('fsm:6:6', 'x', '{}', :recent)",
        "INSERT INTO mailbox_letters (id, box, type, mode, status, body, created_at, unread,"
        " pending_notice, handled_at) VALUES"
        " (100000001, 'principal', 'report', 'named', 'handled', 'old', :old, false, false, :old),"
        " (100000002, 'principal', 'report', 'named', 'handled', 'new', :old, false, false, :new),"
        " (100000003, 'principal', 'report', 'named', 'open', 'open', :old, false, false, NULL)",
        "INSERT INTO surveys (id, slug, title, definition, anonymous, status, closed_at,"
        " created_at, updated_at) VALUES"
        " (1, 'old', '{}', '', true, 'closed', :old, :old, :old),"
        " (2, 'new', '{}', '', true, 'closed', :recent, :old, :old)",
        "INSERT INTO survey_responses (id, survey_id, submitted_on) VALUES"
        " ('r1', 1, '2024-01-01'), ('r2', 2, '2026-01-01')",
        "INSERT INTO survey_answers (response_id, question_id, position, survey_id, option, text)"
        " VALUES ('r1', 'why', 0, 1, NULL, 'old words'), ('r1', 'pick', 0, 1, 'a', NULL),"
        " ('r2', 'why', 0, 2, NULL, 'new words')",
    ]
    async with database.engine.begin() as connection:
        for statement in statements:
            await connection.execute(text(statement), {"old": OLD, "recent": RECENT, "new": RECENT})


async def counts(database) -> dict[str, object]:
    async def joined(sql: str) -> str:
        return ",".join(sorted(str(row[0]) for row in await query(database, sql)))

    return {
        "outbox": await joined("SELECT idempotency_key FROM outbox_messages"),
        "updates": await joined("SELECT update_id FROM processed_updates"),
        "fsm": await joined("SELECT key FROM fsm_states"),
        "letters": await joined("SELECT body FROM mailbox_letters"),
        "texts": await joined("SELECT coalesce(text, option, '(removed)') FROM survey_answers"),
    }


async def test_retention_purges_what_is_due_and_a_dry_run_nothing(database, db_url, caplog):
    await seed_old_and_new(database)
    before = await counts(database)
    config = make_config(db_url)
    would = await purge_expired(Services(config), database, dry_run=True)
    assert would == {
        "handled_letters": 1,
        "outbox_messages": 1,
        "processed_updates": 2,
        "survey_free_text": 1,
        "conversations": 1,
    }
    assert await counts(database) == before

    with caplog.at_level(logging.INFO):
        assert await purge_expired(Services(config), database) == would
    assert await counts(database) == {
        "outbox": "new,stuck",
        "updates": "3",
        "fsm": "fsm:6:6",
        "letters": "new,open",
        "texts": "(removed),a,new words",
    }
    assert "retention purge" in caplog.text and "old words" not in caplog.text
    assert (await purge_expired(Services(config), database))["outbox_messages"] == 0


async def test_newest_update_id_is_kept_even_when_old(database, db_url):
    async with database.engine.begin() as connection:
        await connection.execute(
            text("INSERT INTO processed_updates (update_id, processed_at) VALUES (7, :old)"),
            {"old": OLD},
        )
    await purge_expired(Services(make_config(db_url)), database)
    assert (await counts(database))["updates"] == "7"


def test_cli_forget_and_retention(tmp_path: Path, capsys, monkeypatch):
    monkeypatch.delenv("BOT_TOKEN", raising=False)
    cfg = tmp_path / "config.toml"
    cfg.write_text(
        f'[database]\nurl = "sqlite+aiosqlite:///{tmp_path}/u.db"\n'
        f'[mailbox]\nsecret_key = "{TEST_MAILBOX_KEY}"\n',
        encoding="utf-8",
    )
    roster = tmp_path / "roster.csv"
    roster.write_text("工号,姓名,部门\nT9,王五,档案馆\n", encoding="utf-8")
    assert main(["--config", str(cfg), "members", "import", str(roster)]) == 0
    capsys.readouterr()
    assert main(["--config", str(cfg), "members", "forget", "T9"]) == 0
    assert "members_deleted: 1" in capsys.readouterr().out
    assert main(["--config", str(cfg), "members", "forget", "T9"]) == 1
    assert "no member" in capsys.readouterr().err
    assert main(["--config", str(cfg), "retention", "run", "--dry-run"]) == 0
    assert "outbox_messages: 0 would be purged" in capsys.readouterr().out
