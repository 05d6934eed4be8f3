"""The send budget shared by instances books bot-wide slots 1/rate apart, on a real
PostgreSQL server and a real Redis, and a flood wait seen by one pushes back all."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from outbox.budget import DatabaseSendBudget, RedisSendBudget, SendBudget
from storage.database import create_database

RATE = 20.0


@pytest.fixture(params=["postgresql", "redis"])
async def budgets(
    request: pytest.FixtureRequest,
) -> AsyncIterator[tuple[SendBudget, SendBudget]]:
    """Two instances' views of one budget."""
    if request.param == "postgresql":
        url = request.getfixturevalue("pg_url")
        first, second = create_database(url), create_database(url)
        yield DatabaseSendBudget(first, RATE), DatabaseSendBudget(second, RATE)
        await first.dispose()
        await second.dispose()
    else:
        url = request.getfixturevalue("redis_url")
        one, two = Redis.from_url(url), Redis.from_url(url)
        yield RedisSendBudget(one, RATE), RedisSendBudget(two, RATE)
        await one.aclose()
        await two.aclose()


async def test_two_instances_share_one_pace(budgets: tuple[SendBudget, SendBudget]) -> None:
    loop = asyncio.get_running_loop()

    async def book(budget: SendBudget) -> float:
        return loop.time() + await budget.reserve()  # when this send may start

    starts = sorted(await asyncio.gather(*(book(budgets[i % 2]) for i in range(2 * int(RATE)))))
    # 40 slots at 20/s span about two seconds, whichever instance booked them: the two do not
    # get 20/s each. (Computed slot times, not measured durations.)
    assert starts[-1] - starts[0] >= (len(starts) - 1) / RATE * 0.9


async def test_a_flood_wait_pushes_back_every_instance(
    budgets: tuple[SendBudget, SendBudget],
) -> None:
    first, second = budgets
    await first.pause(3.0)
    assert await second.reserve() > 2.0
