"""An instance restarted while its database server is down waits for it (found by the soak:
a SIGKILLed instance came back during a PostgreSQL restart and exited with a traceback)."""

from __future__ import annotations

import logging
import socket

import pytest

import bot.app as app
from storage import migrate
from storage.database import create_database


async def test_a_starting_instance_waits_for_its_database_to_come_back(
    pg_url: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    refusals = [ConnectionRefusedError(111, "Connect call failed"), OSError("reset")]
    real_upgrade = migrate.upgrade

    async def upgrade(engine):  # type: ignore[no-untyped-def]
        if refusals:
            raise refusals.pop(0)
        await real_upgrade(engine)

    monkeypatch.setattr(app.migrate, "upgrade", upgrade)
    database = create_database(pg_url)
    try:
        with caplog.at_level(logging.WARNING, logger="bot.app"):
            await app.upgrade_when_reachable(database, wait=5, first_delay=0.05)
        assert refusals == []
        assert caplog.text.count("database unreachable at start-up") == 2
        assert await migrate.current_revision(database.engine) is not None
    finally:
        await database.dispose()


async def test_a_database_that_never_comes_back_ends_the_start_after_the_wait(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    database = create_database(f"postgresql+asyncpg://nobody@127.0.0.1:{port}/none")
    try:
        with caplog.at_level(logging.WARNING, logger="bot.app"), pytest.raises(OSError):
            await app.upgrade_when_reachable(database, wait=0.3, first_delay=0.05)
        assert "database unreachable at start-up (ConnectionRefusedError)" in caplog.text
    finally:
        await database.dispose()


async def test_a_sqlite_file_is_not_waited_for(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def upgrade(engine):  # type: ignore[no-untyped-def]
        raise OSError("disk gone")

    monkeypatch.setattr(app.migrate, "upgrade", upgrade)
    database = create_database(sqlite_url)
    try:
        with pytest.raises(OSError, match="disk gone"):
            await app.upgrade_when_reachable(database, wait=5, first_delay=1)
    finally:
        await database.dispose()
