"""The sender outlives a database outage (found by the soak, bench/soak: a 5-second PostgreSQL
restart killed the outbox task of an instance for good, and it never sent again)."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Any

import pytest
from aiogram import Bot
from aiogram.utils.i18n import I18n

from outbox.settings import OutboxConfig, SenderSettings
from storage.database import Database
from storage.repos.outbox import OutboxRepository
from tests.fakes.bot_api import FakeBotAPI
from tests.outbox.test_delivery import (  # noqa: F401  (fixtures)
    SETTINGS,
    bot,
    enqueue,
    make_worker,
    status_by_chat,
    text,
)


async def test_the_sender_keeps_running_through_a_database_outage(
    database: Database,
    fake: FakeBotAPI,
    bot: Bot,  # noqa: F811
    i18n: I18n,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    claim = OutboxRepository.claim
    outage = {"left": 3}

    async def unreachable(self: OutboxRepository, *args: Any, **kwargs: Any) -> Any:
        if outage["left"]:
            outage["left"] -= 1
            raise ConnectionRefusedError(111, "Connect call failed")
        return await claim(self, *args, **kwargs)

    monkeypatch.setattr(OutboxRepository, "claim", unreachable)
    await enqueue(database, [text("after-the-outage", 7001)])
    worker = make_worker(database, bot, i18n, replace(SETTINGS, idle_poll=0.01))
    stop = asyncio.Event()
    running = asyncio.create_task(worker.run(stop))
    try:
        await fake.wait_for("sendMessage", timeout=10)
    finally:
        stop.set()
        await asyncio.wait_for(running, 10)
    assert outage["left"] == 0 and running.exception() is None
    assert fake.calls_of("sendMessage")[0].params["chat_id"] == 7001


async def test_an_outcome_is_recorded_after_a_database_restart_of_several_seconds(
    database: Database,
    fake: FakeBotAPI,
    bot: Bot,  # noqa: F811
    i18n: I18n,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Five quick tries (about 6 s) were not enough: the row stayed 'sending' and another
    instance sent the message again after the claim lease."""
    await enqueue(database, [text("sent-during-the-outage", 7002)])
    worker = make_worker(database, bot, i18n, replace(SETTINGS, record_backoff=0.001))
    record = worker._record
    outage = {"left": 8}

    async def unreachable(*args: Any) -> None:
        if outage["left"]:
            outage["left"] -= 1
            raise ConnectionRefusedError(111, "Connect call failed")
        await record(*args)

    monkeypatch.setattr(worker, "_record", unreachable)
    await worker.drain(timeout=10)
    assert outage["left"] == 0
    assert await status_by_chat(database) == {7002: "sent"}
    assert len(fake.calls_of("sendMessage")) == 1


def test_the_default_retries_ride_out_a_long_telegram_outage() -> None:
    """Found by the soak: 72 s of 502s made invitations fail for good after 6 attempts
    (2 + 4 + … + 32 s = 62 s of retries). A member must not miss a survey because Telegram's
    servers were down for a few minutes."""
    settings = OutboxConfig().sender_settings(shared=False)
    assert settings.max_attempts == SenderSettings().max_attempts
    retrying = sum(
        min(settings.backoff_cap, settings.backoff_base * 2 ** (attempt - 1))
        for attempt in range(1, settings.max_attempts)
    )
    assert retrying >= 10 * 60, "at least ten minutes of errors before a message is given up"
