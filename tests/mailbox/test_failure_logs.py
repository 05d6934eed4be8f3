"""A database that gives up mid-conversation (a lock held past the busy timeout) leaves no
letter text and no identifier in the logs, and the sender is told plainly that nothing was
saved: the production logging set-up, at DEBUG, on a real lock."""

from __future__ import annotations

import io
import logging
import sqlite3
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, closing

import pytest
from sqlalchemy import event, func, select, text

from bot.config import Config, parse_config
from bot.logs import QUIET_LIBRARIES, configure_logging
from handlers.callbacks import MailboxAction, MailboxCB, MenuAction, MenuCB
from storage import database as database_module
from storage.database import Database, create_database
from storage.models_mailbox import Letter
from tests.harness import BotDriver, Outcome
from tests.mailbox.conftest import BOX_BUTTONS, MODE_BUTTONS, SENDER, TYPE_BUTTONS

LETTER = "The bursar falsifies the overtime sheets."
CONFIDENTIAL = "The lab's gas detector has been off for a month."
TRY_AGAIN = "busy right now: this step was not saved. Please try again."


@pytest.fixture
def production_log() -> Iterator[Callable[[], str]]:
    """What `unionvoice run` writes to its log (stderr, journald), at DEBUG."""
    root = logging.getLogger()
    saved = root.handlers[:], root.level, {n: logging.getLogger(n).level for n in QUIET_LIBRARIES}
    configure_logging(parse_config({"logging": {"level": "DEBUG"}}))
    written = io.StringIO()
    handler = root.handlers[0]
    assert isinstance(handler, logging.StreamHandler)
    handler.setStream(written)
    yield written.getvalue
    root.handlers[:], level, quiet = saved
    root.setLevel(level)
    for name, old in quiet.items():
        logging.getLogger(name).setLevel(old)


@asynccontextmanager
async def write_lock_held(
    database: Database, db_url: str, monkeypatch: pytest.MonkeyPatch, *tables: str
) -> AsyncIterator[None]:
    """Another connection holds the write lock; the bot's connections wait briefly, then the
    database gives up ("database is locked" / lock_not_available)."""
    if database.is_sqlite:
        short = tuple(
            "PRAGMA busy_timeout=50" if p.startswith("PRAGMA busy_timeout") else p
            for p in database_module.SQLITE_PRAGMAS
        )
        monkeypatch.setattr(database_module, "SQLITE_PRAGMAS", short)
        await database.engine.dispose()  # new connections take the short timeout
        path = db_url.removeprefix("sqlite+aiosqlite:///")
        with closing(sqlite3.connect(path, isolation_level=None)) as holder:
            holder.execute("BEGIN IMMEDIATE")
            try:
                yield
            finally:
                holder.execute("ROLLBACK")
        return

    def short_lock_timeout(dbapi_connection: object, _record: object) -> None:
        cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
        cursor.execute("SET lock_timeout = '200ms'")
        cursor.close()

    event.listen(database.engine.sync_engine, "connect", short_lock_timeout)
    await database.engine.dispose()
    other = create_database(db_url)
    try:
        async with other.engine.connect() as holder:
            await holder.execute(text(f"LOCK TABLE {', '.join(tables)} IN EXCLUSIVE MODE"))
            yield
            await holder.rollback()
    finally:
        await other.dispose()


async def start_letter(app: BotDriver, mode: str) -> None:
    menu = await app.press(SENDER, MenuCB(action=MenuAction.MAILBOX))
    types = await app.press(SENDER, menu.button(BOX_BUTTONS["principal"]))
    modes = await app.press(SENDER, types.button(TYPE_BUTTONS["report"]))
    await app.press(SENDER, modes.button(MODE_BUTTONS[mode]))


def assert_log_names_nobody(log: str, *texts: str) -> None:
    assert "handler failed on update" in log, "the failure itself is logged"
    assert "message withheld" in log
    for secret in (*texts, str(SENDER.id), "fsm:", "[parameters:", "parameters:"):
        assert secret not in log, secret


async def letters(database: Database) -> int:
    async with database.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(Letter)) or 0)


async def test_a_lock_timeout_while_sending_an_anonymous_letter_logs_neither_text_nor_id(
    people: BotDriver, database: Database, db_url: str, monkeypatch, production_log
) -> None:
    app = people
    await start_letter(app, "anonymous")
    await app.send(SENDER, LETTER)
    preview = await app.press(SENDER, MailboxCB(action=MailboxAction.PREVIEW))

    async with write_lock_held(database, db_url, monkeypatch, "mailbox_letters"):
        refused: Outcome = await app.press(SENDER, preview.button("Send"))

    assert_log_names_nobody(production_log(), LETTER)
    assert TRY_AGAIN in refused.text
    assert "Sent" not in refused.text and "receipt" not in refused.text
    assert await letters(database) == 0
    # Nothing was lost either: the draft is still there and goes out once the lock is gone.
    sent = await app.press(SENDER, preview.button("Send"))
    assert "Sent anonymously" in sent.text
    assert await letters(database) == 1


async def test_a_lock_timeout_while_writing_a_confidential_draft_logs_neither_text_nor_id(
    people: BotDriver, database: Database, db_url: str, config: Config, monkeypatch, production_log
) -> None:
    if config.fsm.redis_url is not None:
        pytest.skip("conversation state is in Redis here: the database holds no draft")
    app = people
    await start_letter(app, "confidential")

    async with write_lock_held(database, db_url, monkeypatch, "fsm_states", "processed_updates"):
        refused = await app.send(SENDER, CONFIDENTIAL)

    assert_log_names_nobody(production_log(), CONFIDENTIAL)
    assert TRY_AGAIN in refused.text
    assert "characters" not in refused.text, "the part is not acknowledged as added"
    await app.send(SENDER, CONFIDENTIAL)  # sent again once the lock is gone
    preview = await app.press(SENDER, MailboxCB(action=MailboxAction.PREVIEW))
    assert preview.text.count(CONFIDENTIAL) == 1
