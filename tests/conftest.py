"""Shared fixtures: a migrated real database per test, the app, roster helpers.

Every test that takes `db_url` (or `database`, `config`, `app`) runs on a copy of a migrated
SQLite file and, when TEST_DATABASE_URL names a PostgreSQL server (`.ci/run` starts one), again
on a migrated PostgreSQL database emptied before the test.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
from collections.abc import AsyncIterator, Iterable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from aiogram import Bot
from aiogram.utils.i18n import I18n
from redis.asyncio import Redis

from bot.config import Config, parse_config
from bot.factory import create_dispatcher, create_renderers
from bot.telegram_transport import TelegramTransport
from handlers.i18n import create_i18n
from members.roles import Role
from members.roster import RosterRow
from members.service import MembershipService, is_privileged
from outbox.worker import OutboxWorker, SenderSettings
from storage import migrate
from storage.database import Database, create_database
from storage.uow import unit_of_work
from tests.fakes.bot_api import FakeBotAPI
from tests.fakes.session import RecordingSession
from tests.harness import BotDriver, TgUser
from tests.servers import (
    BACKENDS,
    TEST_DATABASE_URL,
    TEST_REDIS_URL,
    PostgresTestDatabase,
    flush_redis,
)

ADMIN = TgUser(id=900, first_name="Admin")
# A fixed key, so tests never create a key file in the working directory.
TEST_MAILBOX_KEY = "dGVzdC1rZXktZm9yLXRoZS1tYWlsYm94LTMyYnl0ZSE="


async def _migrate(url: str) -> None:
    database = create_database(url)
    await migrate.upgrade(database.engine)
    await database.dispose()


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Migrate once; each test gets a copy of the file (fast, and still a real database)."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    asyncio.run(_migrate(f"sqlite+aiosqlite:///{path}"))
    return path


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresTestDatabase]:
    """A migrated database on the PostgreSQL server of TEST_DATABASE_URL."""
    if TEST_DATABASE_URL is None:
        pytest.skip("PostgreSQL: set TEST_DATABASE_URL (`.ci/run` starts a server)")
    database = PostgresTestDatabase(TEST_DATABASE_URL)
    database.create(_migrate)
    yield database
    database.close()


@pytest.fixture
def pg_url(postgres: PostgresTestDatabase) -> str:
    """The migrated PostgreSQL database, empty, for this test."""
    return postgres.fresh()


@pytest.fixture
def redis_url() -> str:
    """An empty Redis database (flushed before the test)."""
    if TEST_REDIS_URL is None:
        pytest.skip("Redis: set TEST_REDIS_URL (`.ci/run` starts a server)")
    flush_redis(TEST_REDIS_URL)
    return TEST_REDIS_URL


@pytest.fixture
def sqlite_url(tmp_path: Path, migrated_template: Path) -> str:
    """A migrated SQLite file whatever the backends (the sandbox always runs on SQLite)."""
    path = tmp_path / "sqlite.db"
    shutil.copy(migrated_template, path)
    return f"sqlite+aiosqlite:///{path}"


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path, migrated_template: Path) -> str:
    if request.param == "postgresql":
        return request.getfixturevalue("pg_url")
    path = tmp_path / "unionvoice.db"
    shutil.copy(migrated_template, path)
    return f"sqlite+aiosqlite:///{path}"


@pytest.fixture
async def database(db_url: str) -> AsyncIterator[Database]:
    database = create_database(db_url)
    yield database
    await database.dispose()


def make_config(db_url: str, **union: object) -> Config:
    return parse_config(
        {
            "telegram": {"token": "42:TEST", "bot_username": "unionvoice_test_bot"},
            "database": {"url": db_url},
            "union": {"admins": [ADMIN.id], **union},
            "mailbox": {"secret_key": TEST_MAILBOX_KEY},
        }
    )


# Redis clients the drivers of the running test opened (closed when its config goes).
_redis_clients: list[Redis] = []


@pytest.fixture
async def config(db_url: str, request: pytest.FixtureRequest) -> AsyncIterator[Config]:
    """On PostgreSQL with TEST_REDIS_URL set: the scale-out set-up, conversation state and
    per-user ordering in Redis."""
    config = make_config(db_url)
    if db_url.startswith("postgresql") and TEST_REDIS_URL is not None:
        redis_url = request.getfixturevalue("redis_url")
        config = parse_config({**config.model_dump(), "fsm": {"redis_url": redis_url}})
    yield config
    while _redis_clients:
        await _redis_clients.pop().aclose()


@pytest.fixture
async def fake() -> AsyncIterator[FakeBotAPI]:
    """A fake Bot API on a free loopback port, for tests that go through aiogram's HTTP."""
    async with FakeBotAPI() as server:
        yield server


@pytest.fixture
def restore_logging() -> Iterator[None]:
    """run_polling and run_webhook configure the root logger for production; give it back."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.fixture(scope="session")
def i18n() -> I18n:
    return create_i18n("zh")


# Tests don't wait for Telegram's pace; pacing has its own tests against a limiting fake.
UNPACED = SenderSettings(rate_per_second=10_000, chat_interval=0.0, backoff_base=0.01)


def make_driver(config: Config, database: Database, i18n: I18n) -> BotDriver:
    session = RecordingSession()
    bot = Bot(token="42:TEST", session=session)
    redis = None
    if config.fsm.redis_url is not None:
        redis = Redis.from_url(config.fsm.redis_url)
        _redis_clients.append(redis)
    dispatcher = create_dispatcher(config, database, i18n=i18n, redis=redis)
    transport = TelegramTransport(bot, i18n, create_renderers())
    outbox = OutboxWorker(database, transport, UNPACED)
    return BotDriver(dispatcher, bot, session, outbox)


@pytest.fixture
def app(config: Config, database: Database, i18n: I18n) -> BotDriver:
    return make_driver(config, database, i18n)


async def seed_roster(database: Database, rows: Iterable[tuple[str, str, str, str]]) -> None:
    """(employee_id, name, department, 'role;role') rows straight into the roster."""
    roster = [
        RosterRow(
            line=i,
            employee_id=employee_id,
            name=name,
            department=department,
            roles=frozenset(Role(r) for r in roles.split(";")) if roles else None,
        )
        for i, (employee_id, name, department, roles) in enumerate(rows, start=2)
    ]
    async with unit_of_work(database.sessions) as repos:
        await MembershipService(repos).import_roster(roster)


async def register(app: BotDriver, user: TgUser, employee_id: str, name: str) -> None:
    """Walk the whole registration conversation for a roster member. A row with roles beyond
    member/representative never links by name: it takes the invite link an admin would send."""
    database: Database = app.dispatcher["database"]
    async with unit_of_work(database.sessions) as repos:
        row = await repos.members.get_by_employee_id(employee_id)
        code = None
        if row is not None and is_privileged(row.roles):
            code = await MembershipService(repos).create_invite(employee_id, timedelta(days=1))
    if code is not None:
        await app.send(user, f"/start inv_{code}")
        outcome = await app.press(user, "c1:1")
        assert outcome.requests, "registration produced no answer"
        return
    await app.send(user, "/start")
    await app.press(user, "c1:1")
    await app.send(user, employee_id)
    outcome = await app.send(user, name)
    assert outcome.requests, "registration produced no answer"
