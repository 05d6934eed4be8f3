"""One update of a user at a time across instances, on a real Redis: a lock lost with a Redis
restart must not turn a handled update into an error."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

import pytest
from aiogram.fsm.storage.base import StorageKey
from redis.asyncio import Redis

from bot.isolation import SharedUserIsolation

KEY = StorageKey(bot_id=42, chat_id=7, user_id=7)


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[Redis]:
    client = Redis.from_url(redis_url)
    yield client
    await client.aclose()


async def test_a_lock_lost_with_a_redis_restart_is_a_warning_not_an_error(
    redis: Redis, caplog: pytest.LogCaptureFixture
) -> None:
    isolation = SharedUserIsolation(redis)
    handled = []
    with caplog.at_level(logging.WARNING, logger="bot.isolation"):
        async with isolation.lock(KEY):
            await redis.flushdb()  # what a restart without persistence leaves
            handled.append("committed")
    assert handled == ["committed"]
    assert "lock was gone at release (LockNotOwnedError)" in caplog.text


async def test_one_update_of_a_user_at_a_time(redis: Redis) -> None:
    isolation = SharedUserIsolation(redis)
    order: list[str] = []

    async def update(name: str) -> None:
        async with isolation.lock(KEY):
            order.append(f"{name} in")
            await asyncio.sleep(0.05)
            order.append(f"{name} out")

    await asyncio.gather(update("a"), update("b"))
    assert order in (["a in", "a out", "b in", "b out"], ["b in", "b out", "a in", "a out"])
