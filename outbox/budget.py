"""The send pace shared by several instances: Telegram's ~30 messages/s is per bot, not per
process. Every send books a bot-wide slot (1/rate apart) before it starts, and a 429 seen by
one instance pushes every instance's next slot back.

One instance needs none of this (its own `Pacer` is exact); several book in Redis when
`[fsm] redis_url` is set, else in the PostgreSQL database.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from common.ports import UnitOfWorkFactory
from outbox.ports import BudgetRepos

if TYPE_CHECKING:
    from redis.asyncio import Redis

BUDGET_NAME = "telegram"
# The flood wait on its own, apart from the booked slots: a reply waits for a flood wait, not
# for the outbox's queue.
PAUSE_NAME = "telegram:pause"


class SendBudget(Protocol):
    async def reserve(self) -> float:
        """Book the next bot-wide slot; seconds to wait before sending (≤ 0: at once)."""
        ...

    async def pause(self, seconds: float) -> None:
        """A flood wait: no instance starts a send within `seconds`."""
        ...

    async def paused_for(self) -> float:
        """Seconds left of a flood wait any instance was told of (≤ 0: none). Replies read it:
        they book no slot, yet must not be sent while Telegram refuses the bot."""
        ...


class DatabaseSendBudget:
    def __init__(self, units: UnitOfWorkFactory[BudgetRepos], rate_per_second: float) -> None:
        self._units = units  # storage.database.Database
        self._gap = 1.0 / rate_per_second

    async def reserve(self) -> float:
        async with self._units.unit_of_work() as repos:
            wait = await repos.budget.reserve(BUDGET_NAME, self._gap)
            await repos.commit()
        return wait

    async def pause(self, seconds: float) -> None:
        async with self._units.unit_of_work() as repos:
            await repos.budget.pause(BUDGET_NAME, seconds)
            await repos.budget.pause(PAUSE_NAME, seconds)
            await repos.commit()

    async def paused_for(self) -> float:
        async with self._units.unit_of_work() as repos:
            return await repos.budget.remaining(PAUSE_NAME)


# Times in microseconds of the Redis server's clock, so that instances' clocks don't matter.
_RESERVE = """
local now = redis.call('TIME')
now = tonumber(now[1]) * 1000000 + tonumber(now[2])
local start = math.max(now, tonumber(redis.call('GET', KEYS[1]) or '0'))
redis.call('SET', KEYS[1], string.format('%.0f', start + tonumber(ARGV[1])), 'PX', 3600000)
return string.format('%.0f', start - now)
"""
_PAUSE = """
local now = redis.call('TIME')
now = tonumber(now[1]) * 1000000 + tonumber(now[2])
local until_ = math.max(now + tonumber(ARGV[1]), tonumber(redis.call('GET', KEYS[1]) or '0'))
redis.call('SET', KEYS[1], string.format('%.0f', until_), 'PX', 3600000)
local wait_ms = math.ceil(tonumber(ARGV[1]) / 1000)
if redis.call('PTTL', KEYS[2]) < wait_ms then
  redis.call('SET', KEYS[2], '1', 'PX', wait_ms)
end
return 1
"""


class RedisSendBudget:
    def __init__(self, redis: Redis, rate_per_second: float, key: str = BUDGET_NAME) -> None:
        self._redis = redis
        self._gap_us = round(1_000_000 / rate_per_second)
        self._key = f"unionvoice:budget:{key}"
        # Lives exactly as long as the flood wait: its time to live is the wait left.
        self._pause_key = f"{self._key}:pause"

    async def reserve(self) -> float:
        wait_us = await self._redis.eval(_RESERVE, 1, self._key, self._gap_us)
        return int(wait_us) / 1_000_000

    async def pause(self, seconds: float) -> None:
        await self._redis.eval(_PAUSE, 2, self._key, self._pause_key, round(seconds * 1_000_000))

    async def paused_for(self) -> float:
        left_ms = await self._redis.pttl(self._pause_key)  # -2: no flood wait
        return max(0, int(left_ms)) / 1000
