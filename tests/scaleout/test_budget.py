"""The send budget shared by instances books bot-wide slots 1/rate apart, on a real
PostgreSQL server and a real Redis, and a flood wait seen by one pushes back all."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from bot.flood import FloodControl
from outbox.budget import DatabaseSendBudget, RedisSendBudget, SendBudget
from outbox.pacing import Pacer
from storage.database import create_database
from tests.fakes.bot_api import FakeBotAPI
from tests.fakes.telegram_limits import ManualClock, TelegramLimits

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
        # When this send may start, from when the answer came back: the bookings queue on the
        # server, so the time one was asked for says nothing of when it was served (a loaded
        # CI run made 40 slots look 0.24 s closer together than they were).
        wait = await budget.reserve()
        return loop.time() + wait

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


async def test_a_flood_wait_is_shared_apart_from_the_booked_slots(
    budgets: tuple[SendBudget, SendBudget],
) -> None:
    first, second = budgets
    for _ in range(2 * int(RATE)):
        await first.reserve()  # the outbox's queue: two seconds of slots booked
    assert await second.paused_for() <= 0, "a reply does not wait behind the outbox's queue"
    await first.pause(3.0)
    assert 2.0 < await second.paused_for() <= 3.0


async def test_a_reply_on_one_instance_waits_for_a_flood_wait_the_other_was_told_of(
    budgets: tuple[SendBudget, SendBudget],
) -> None:
    """Found by the soak: instance b's handlers had waited for PostgreSQL; when it came back
    they sent their replies in the middle of a flood wait instance a had been told of."""
    clock = ManualClock(1000.0)

    async def sleep(seconds: float) -> None:
        clock.advance(seconds)

    limits = TelegramLimits(global_per_second=1, retry_after=3, clock=clock)
    async with FakeBotAPI() as fake:
        fake.responder = limits
        async with fake.make_bot() as a, fake.make_bot() as b:
            a.session.middleware(FloodControl(Pacer(25, clock=clock), budgets[0], sleep=sleep))
            b.session.middleware(FloodControl(Pacer(25, clock=clock), budgets[1], sleep=sleep))
            await a.send_message(1, "a reply that fills this second")
            await a.send_message(2, "a reply refused: Telegram says wait 3 s")
            clock.advance(0.5)
            await b.send_message(3, "a reply on the other instance")
    assert limits.rejected["429"] == 1, "only the first refusal"
    assert limits.violations == [], "instance b sent nothing while Telegram said to wait"
    assert limits.delivered_to[2] == 1 and limits.delivered_to[3] == 1
